package watchdog

import (
	"context"
	"time"
)

// History keeps telemetry snapshots and alerts across restarts. The store
// implements it; the watchdog works without one (nothing is kept).
type History interface {
	// SaveCycle writes one check's snapshot and alert changes in one
	// transaction and drops what is past retention.
	SaveCycle(ctx context.Context, c CycleRecord) error
	// Alerts returns alerts matching q, newest first.
	Alerts(ctx context.Context, q AlertQuery) ([]Alert, error)
	// Telemetry returns snapshots matching q, newest first.
	Telemetry(ctx context.Context, q TelemetryQuery) ([]Telemetry, error)
}

// CycleRecord is what one check leaves for History.
type CycleRecord struct {
	Telemetry Telemetry
	// Alerts are the alerts the check raised, updated or resolved, as they
	// now stand; each replaces the stored alert of the same ID.
	Alerts []Alert
	// TelemetryBefore: snapshots taken before it are deleted.
	TelemetryBefore time.Time
	// AlertsBefore: alerts resolved before it are deleted.
	AlertsBefore time.Time
}

// AlertQuery selects alerts. The zero value selects the newest 100 of
// every state.
type AlertQuery struct {
	// Firing selects only alerts not resolved.
	Firing bool
	// Since selects alerts last seen at or after it.
	Since time.Time
	// Limit bounds the answer (100 when 0 or less).
	Limit int
}

// TelemetryQuery selects telemetry snapshots.
type TelemetryQuery struct {
	// Since and Until bound the snapshots' times (zero: unbounded).
	Since, Until time.Time
	// Limit bounds the answer (100 when 0 or less).
	Limit int
}

// DefaultLimit is the answer size of a query without a limit.
const DefaultLimit = 100
