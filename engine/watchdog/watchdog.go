package watchdog

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"grace/engine/clarity"
	"grace/engine/clock"
)

// Options are the watchdog's collaborators; only Clock is required.
type Options struct {
	// Clock drives the interval, the readiness deadline and every time
	// stamp.
	Clock clock.Clock
	// Logger receives failures to record or store (discarded when nil).
	Logger *slog.Logger
	// Journal writes the 5W1H records: every alert raised, escalated,
	// de-escalated or resolved, boot readiness, and each snapshot that
	// shows something wrong. Nil drops them.
	Journal clarity.Journal
	// History keeps snapshots and alerts; nil keeps nothing.
	History History
	// Publish receives every telemetry snapshot (for the unified logic
	// hub, the mesh and subscribers). It is called from the watchdog's
	// goroutine and must not block.
	Publish func(Telemetry)
	// OnAlert receives every alert raised, escalated, de-escalated or
	// resolved, as it stands after the change. Same rules as Publish.
	OnAlert func(Alert, Change)
}

// Watchdog checks its components every interval, keeps SLO breach counters
// and alerts, and publishes telemetry. Create it with New; call Boot once,
// then Run on one goroutine. Report, Latest and Components are safe to
// call from any goroutine at any time.
type Watchdog struct {
	cfg   Config
	comps []Component
	slos  []*SLO
	opts  Options
	log   *slog.Logger

	// Owned by the goroutine that calls Boot and then Run.
	tick     clock.Ticker // the interval, armed by Boot
	poll     clock.Ticker // the readiness probe while boot waits, or nil
	book     *book
	ready    readiness
	breaches []uint64
	checks   uint64

	view   atomic.Pointer[Report]
	latest atomic.Pointer[Telemetry]
	// recheck asks Run for a check before the interval's (Recheck).
	recheck chan struct{}
}

// New returns a watchdog over comps, watching slos as well. Component
// names must be unique and non-empty with a Check; each SLO must belong to
// one of the components. cfg is validated too.
func New(cfg Config, comps []Component, slos []*SLO, opts Options) (*Watchdog, error) {
	if opts.Clock == nil {
		return nil, errors.New("new watchdog: a clock is required")
	}
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("new watchdog: %w", err)
	}
	names := make(map[string]bool, len(comps))
	for _, c := range comps {
		switch {
		case c.Name == "":
			return nil, errors.New("new watchdog: a component has no name")
		case c.Check == nil:
			return nil, fmt.Errorf("new watchdog: component %s has no check", c.Name)
		case names[c.Name]:
			return nil, fmt.Errorf("new watchdog: component %s is named twice", c.Name)
		}
		names[c.Name] = true
	}
	for _, s := range slos {
		if !names[s.Component] {
			return nil, fmt.Errorf("new watchdog: SLO %s belongs to %q, which is not watched", s.Name, s.Component)
		}
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	w := &Watchdog{cfg: cfg, comps: comps, slos: slos, opts: opts, log: opts.Logger,
		book: newBook(), ready: readiness{timeout: cfg.ReadinessTimeout}, breaches: make([]uint64, len(comps)),
		recheck: make(chan struct{}, 1)}
	w.view.Store(&Report{Interval: cfg.Interval, Readiness: Readiness{State: ReadinessWaiting}})
	return w, nil
}

// Boot starts the readiness wait, probes every component once, so that
// Report shows readiness as soon as Boot returns, and arms the interval
// (and, while readiness waits, the probe) on the clock: the first check is
// one interval after Boot. It does no I/O: the record of how boot went is
// written by Run, which also stops the timers. Boot is called once.
func (w *Watchdog) Boot() {
	now := w.opts.Clock.Now()
	w.ready.begin(now)
	w.tick = w.opts.Clock.NewTicker(w.cfg.Interval)
	if !w.probe(now) {
		w.poll = w.opts.Clock.NewTicker(w.cfg.ReadinessPoll)
	}
}

// Run checks every interval until ctx is cancelled; until boot readiness
// has resolved it also probes every watchdog.readiness_poll. It first
// adopts the alerts an earlier run left firing (from History), so that a
// condition lasting across a restart stays one alert. Boot is called on
// the goroutine that starts Run (Run calls it if it was not).
func (w *Watchdog) Run(ctx context.Context) {
	if w.tick == nil {
		w.Boot()
	}
	defer w.tick.Stop()
	defer w.stopPoll()
	w.adopt(ctx)
	w.flushReadiness(ctx)
	for {
		var probeC <-chan time.Time
		if w.poll != nil {
			probeC = w.poll.C()
		}
		select {
		case <-ctx.Done():
			return
		case <-probeC:
			w.probe(w.opts.Clock.Now())
			w.flushReadiness(ctx)
		case <-w.tick.C():
			w.cycle(ctx, w.opts.Clock.Now())
		case <-w.recheck:
			w.cycle(ctx, w.opts.Clock.Now())
		}
		if w.ready.r.State != ReadinessWaiting {
			w.stopPoll()
		}
	}
}

// Recheck asks Run for a check now, besides the interval's: for a change
// the latest verdict must not wait up to an interval to show (the remote
// workers' check, when the first one joins or the last one goes). It does
// not block; requests made before Run takes one are one check.
func (w *Watchdog) Recheck() {
	select {
	case w.recheck <- struct{}{}:
	default:
	}
}

// stopPoll stops the readiness probe, once boot readiness has resolved.
func (w *Watchdog) stopPoll() {
	if w.poll != nil {
		w.poll.Stop()
		w.poll = nil
	}
}

// Report returns the latest verdict. Before Boot it says only that
// readiness is waiting.
func (w *Watchdog) Report() Report { return *w.view.Load() }

// Latest returns the latest telemetry snapshot; false before the first
// check.
func (w *Watchdog) Latest() (Telemetry, bool) {
	t := w.latest.Load()
	if t == nil {
		return Telemetry{}, false
	}
	return *t, true
}

// Components returns the names of the watched components, in order.
func (w *Watchdog) Components() []string {
	out := make([]string, len(w.comps))
	for i, c := range w.comps {
		out[i] = c.Name
	}
	return out
}

// adopt loads the alerts left firing by an earlier run.
func (w *Watchdog) adopt(ctx context.Context) {
	if w.opts.History == nil {
		return
	}
	firing, err := w.opts.History.Alerts(ctx, AlertQuery{Firing: true, Limit: maxAdopted})
	if err != nil {
		w.log.Warn("watchdog: read the alerts left firing", "err", err)
		return
	}
	w.book.load(firing)
}

// maxAdopted bounds the alerts taken over from an earlier run.
const maxAdopted = 1000

// flushReadiness writes the record of how boot went, once it is known.
func (w *Watchdog) flushReadiness(ctx context.Context) {
	if w.ready.pending == nil {
		return
	}
	rec := *w.ready.pending
	w.ready.pending = nil
	w.record(ctx, []clarity.Record{rec})
}

// record writes recs through the journal, logging a failure.
func (w *Watchdog) record(ctx context.Context, recs []clarity.Record) {
	if len(recs) == 0 || w.opts.Journal == nil {
		return
	}
	if err := w.opts.Journal.Record(ctx, recs...); err != nil && ctx.Err() == nil {
		w.log.Error("watchdog: record", "records", len(recs), "first", recs[0].What, "err", err)
	}
}
