package tui

import (
	"context"
	"log/slog"
	"time"

	"grace/engine"
)

// programContext is what every component shares (gh-dash's ProgramContext):
// the engine, the operator, the clock, styles, keys, the latest snapshot and
// the status line. It is touched only on the Update goroutine; commands get
// copies of what they need, never the context itself.
type programContext struct {
	ctx      context.Context
	api      engine.OperatorAPI
	log      *slog.Logger
	operator string
	readOnly bool
	refresh  time.Duration
	now      func() time.Time

	styles *styles
	keys   *keyMap

	// width and height are the terminal's.
	width, height int

	// snap is the latest snapshot; snapAt when it arrived (zero before the
	// first one).
	snap   engine.Snapshot
	snapAt time.Time

	// chaos is the chaos service's state (its api is nil when the engine
	// has none); health is the watchdog's API, nil when the engine does
	// not offer it.
	chaos  *chaosState
	health engine.HealthAPI

	status statusLine
}

// info, warn and fail set the status line.
func (pc *programContext) info(text string) { pc.status.set(levelInfo, text, pc.now()) }
func (pc *programContext) warn(text string) { pc.status.set(levelWarn, text, pc.now()) }
func (pc *programContext) fail(text string) { pc.status.set(levelError, text, pc.now()) }

// notice announces something that needs the operator (an arrival).
func (pc *programContext) notice(text string) { pc.status.set(levelNotice, text, pc.now()) }

// readOnlyRefusal tells the operator why a decision key did nothing.
func (pc *programContext) readOnlyRefusal(d decision) {
	pc.warn("read-only console: " + d.verb() + " is disabled")
}
