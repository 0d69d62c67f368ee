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
	// server is where the remote engine the console is attached to
	// answers (host:port, from its base URL), shown in the header; ""
	// for an embedded engine.
	server string
	// noAPI: the embedded engine serves no HTTP API (Options.NoAPI);
	// the header marks it.
	noAPI   bool
	refresh time.Duration
	now     func() time.Time

	styles *styles
	keys   *keyMap

	// width and height are the terminal's.
	width, height int

	// snap is the latest snapshot; snapAt when it arrived (zero before the
	// first one).
	snap   engine.Snapshot
	snapAt time.Time
	// snapErr is why the last snapshot of a remote engine failed (nil
	// when it came); snapErrSince when the failures began.
	snapErr      error
	snapErrSince time.Time

	// chaos is the chaos service's state (its api is nil when the engine
	// has none); health is the watchdog's API, nil when the engine does
	// not offer it.
	chaos  *chaosState
	health alertHistory
	// silencer makes, ends and lists alert silences, nil when the engine
	// does not offer them; noSilences says why the console asks no more
	// when it answered that it keeps none (see silencesOff).
	silencer   engine.AlertSilencer
	noSilences string

	status statusLine
}

// info, warn and fail say an operator action's result on the status line
// (see status.go for what outranks what).
func (pc *programContext) info(text string) { pc.status.set(levelInfo, text, pc.now()) }
func (pc *programContext) warn(text string) { pc.status.set(levelWarn, text, pc.now()) }
func (pc *programContext) fail(text string) { pc.status.set(levelError, text, pc.now()) }

// failAbout says an action's failure about subject: the next success of
// the same subject (ok) clears it.
func (pc *programContext) failAbout(subject, text string) {
	pc.status.setAbout(subject, levelError, text, pc.now())
}

// ok says subject went well: what was said about its failure goes.
func (pc *programContext) ok(subject string) { pc.status.clearAbout(subject) }

// bgFail and bgWarn say what went wrong in the background (a fetch the
// operator did not ask for just now), about subject: it never hides an
// action's result, and goes when ok(subject) says the fetch came back.
func (pc *programContext) bgFail(subject, text string) {
	pc.status.note(subject, levelError, text, pc.now())
}
func (pc *programContext) bgWarn(subject, text string) {
	pc.status.note(subject, levelWarn, text, pc.now())
}

// news says what an event told of (an intent decided elsewhere, a chaos
// run's verdict), in the background.
func (pc *programContext) news(subject string, l level, text string) {
	pc.status.note(subject, l, text, pc.now())
}

// notice announces something that needs the operator (an arrival), in
// the background: it waits for an action's result to have been seen.
func (pc *programContext) notice(text string) {
	pc.status.note(aboutNotice, levelNotice, text, pc.now())
}

// readOnlyRefusal tells the operator why a decision key did nothing.
func (pc *programContext) readOnlyRefusal(d decision) {
	pc.warn("read-only console: " + d.verb() + " is disabled")
}
