package engine

import (
	"context"

	"grace/engine/clarity"
	"grace/engine/watchdog"
)

// Where the watchdog's output goes: records to the journal (and the
// snapshot's recent records), telemetry to the unified logic hub and to
// subscribers, alerts to subscribers and the log.

// watchJournal writes the watchdog's records through the engine's journal;
// once durable they join Snapshot.Recent, like every other record.
type watchJournal struct{ e *Engine }

// Record writes recs in one transaction.
func (j watchJournal) Record(ctx context.Context, recs ...clarity.Record) error {
	if err := j.e.journal.Record(ctx, recs...); err != nil {
		return err
	}
	j.e.recent.add(recs...)
	return nil
}

// publishTelemetry hands a snapshot to the unified logic hub and to
// subscribers (an Event of kind "telemetry"). The hub gets a health fact
// for each component whose health changed since the previous snapshot,
// except the HTM orchestrator and the scheduler, whose trouble the hub
// observes directly (a second report would narrate it twice). The snapshot
// also goes on the trigger mesh (TopicTelemetry). It runs on the
// watchdog's goroutine, which alone touches watch.reported, and never
// blocks.
func (e *Engine) publishTelemetry(t watchdog.Telemetry) {
	for _, name := range sortedKeys(t.Components) {
		if name == watchdog.NameHTM || name == watchdog.NameScheduler {
			continue
		}
		c := t.Components[name]
		healthy := c.Healthy && c.Ready
		if was, ok := e.watch.reported[name]; ok && was == healthy {
			continue
		}
		e.watch.reported[name] = healthy
		e.ReportHealth(HealthFact{Component: name, Healthy: healthy, Detail: c.Reason, At: t.At})
	}
	e.offerWatch(TopicTelemetry, telemetryFields(t))
	e.subs.publish(Event{Kind: EventTelemetry, Telemetry: &t}, true)
}

// publishAlert tells subscribers (an Event of kind "alert", marked with
// the silence that mutes the alert, if one does: announceAlert), the
// trigger mesh (TopicAlert) and the log of an alert raised, escalated,
// de-escalated or resolved.
func (e *Engine) publishAlert(a watchdog.Alert, ch watchdog.Change) {
	e.offerWatch(TopicAlert, alertFields(a, ch))
	silenced := e.announceAlert(a, ch)
	args := []any{"alert_id", a.ID, "key", a.Key, "severity", a.Severity.String(), "count", a.Count, "summary", a.Summary}
	if silenced != nil {
		args = append(args, "silenced_by", silenced.ID)
	}
	switch {
	case ch == watchdog.Resolved:
		e.log.Info("alert resolved", append(args, "resolution", a.Resolution)...)
	case a.Severity == watchdog.Critical:
		e.log.Error("alert "+ch.String(), args...)
	default:
		e.log.Warn("alert "+ch.String(), args...)
	}
}

// The kinds of Event besides "intent".
const (
	// EventTelemetry carries the watchdog's snapshot, every interval.
	EventTelemetry = "telemetry"
	// EventAlert carries an alert raised, escalated, de-escalated or
	// resolved.
	EventAlert = "alert"
)

// Metrics are the figures /metrics exposes: the live snapshot (with the
// watchdog's verdict in Health) and the latency histograms.
type Metrics struct {
	Snapshot Snapshot
	// DispatchLatency is the time from an intent becoming ready to its
	// dispatch; TaskDuration a handler's run time.
	DispatchLatency watchdog.HistogramSnapshot
	TaskDuration    watchdog.HistogramSnapshot
	// IntakeRefused counts submissions refused for a full queue.
	IntakeRefused uint64
	// Refusals counts the refusal records: recorded one by one, or past
	// their budget and summarised.
	Refusals RefusalCounts
}

// Metrics returns the figures /metrics exposes, without I/O.
func (e *Engine) Metrics() Metrics {
	return Metrics{
		Snapshot:        e.Snapshot(),
		DispatchLatency: e.watch.dispatchLatency.Snapshot(),
		TaskDuration:    e.watch.taskDuration.Snapshot(),
		IntakeRefused:   e.watch.refused.Load(),
		Refusals:        e.RefusalCounts(),
	}
}
