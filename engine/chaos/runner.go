package chaos

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"time"

	"grace/engine"
	"grace/engine/clock"
	"grace/engine/worker"
	"grace/store"
)

// pollEvery is how often the runner looks at the engine and the record
// while it waits.
const pollEvery = 20 * time.Millisecond

// Runner runs scenarios, each against an isolated engine of its own.
type Runner struct {
	// Config is the base configuration; its safeguards switches apply.
	// The runner overrides what isolation needs (see IsolatedConfig).
	Config engine.Config
	// Logger receives the isolated engines' logs (default: discard).
	Logger *slog.Logger
	// TempDir is where each run's data folder is made (default os.TempDir).
	TempDir string
	// Deadline, when set, replaces every scenario's own deadline.
	Deadline time.Duration
}

// IsolatedConfig is base made fit for a run of seconds in a data folder
// of its own: the database in dir, no HTTP API, no demo cortex, fast loops
// (heartbeats, shedding checks, hub, mesh episodes, store index), quick
// simulated handlers that never fail on their own, and the faults'
// configuration applied. The safeguards switches are base's.
func IsolatedConfig(base engine.Config, dir string, sc *Scenario, difficulty int) engine.Config {
	cfg := base
	cfg.DB = filepath.Join(dir, "grace.db")
	cfg.Log.File = ""
	cfg.API.Listen = ""
	cfg.Cortex.Enabled = false
	cfg.Identities = nil
	cfg.Policy.RulesFile = ""
	cfg.Store.Synchronous = "NORMAL"
	cfg.Store.IndexInterval = 50 * time.Millisecond
	cfg.Workers.HeartbeatInterval = 50 * time.Millisecond
	cfg.Workers.BackoffBase = 10 * time.Millisecond
	cfg.Workers.BackoffMax = 100 * time.Millisecond
	cfg.HTM.Shedding.Interval = 50 * time.Millisecond
	cfg.Hub.Interval = 100 * time.Millisecond
	cfg.Mesh.EpisodeQuiet = 100 * time.Millisecond
	cfg.Handlers = map[string]worker.HandlerConfig{"default": {Kind: "sim", Latency: time.Millisecond}}
	cfg.Safeguards = make(map[string]engine.SafeguardConfig, len(base.Safeguards))
	for k, v := range base.Safeguards {
		cfg.Safeguards[k] = v
	}
	for _, f := range sc.Faults {
		if k := faultKinds[f.Kind]; k.configure != nil {
			k.configure(&cfg, sc, difficulty)
		}
	}
	return cfg
}

// run is one scenario run's state.
type run struct {
	sc         *Scenario
	difficulty int
	cfg        engine.Config
	eng        *engine.Engine
	st         *store.Store
	// submitted are the IDs Submit acknowledged to the runner itself;
	// floods are the intake floods (their intents are counted by actor).
	submitted []string
	floods    []floodDone
	notes     []string
	// killed are the workers a fault killed.
	killed   []string
	failures []string
	// rollback needs.
	needResume, needClearHandlers bool
}

type floodDone struct {
	actors, accepted int
}

func (r *run) param(name string) float64 { return r.sc.value(name, r.difficulty) }
func (r *run) intParam(name string) int  { return r.sc.intValue(name, r.difficulty) }
func (r *run) notef(format string, a ...any) {
	r.notes = append(r.notes, fmt.Sprintf(format, a...))
}
func (r *run) failf(format string, a ...any) {
	r.failures = append(r.failures, fmt.Sprintf(format, a...))
}

// waitFor polls cond until it holds, ctx ends or d passes.
func (r *run) waitFor(ctx context.Context, d time.Duration, cond func() bool) error {
	deadline := time.NewTimer(d)
	defer deadline.Stop()
	tick := time.NewTicker(pollEvery)
	defer tick.Stop()
	for !cond() {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-deadline.C:
			return fmt.Errorf("not within %v", d)
		case <-tick.C:
		}
	}
	return nil
}

// Run runs sc at difficulty against an isolated engine and returns its
// result. The error is for a run that could not be carried out (the
// engine would not start, ctx was cancelled: the run is halted, its
// faults rolled back and its engine stopped); a scenario that fails is a
// Result with Passed false.
func (rn *Runner) Run(ctx context.Context, sc *Scenario, difficulty int) (res Result, err error) {
	difficulty = max(difficulty, 1)
	start := time.Now()
	res = Result{ID: sc.ID, Category: sc.Category, Difficulty: difficulty}
	dir, err := os.MkdirTemp(rn.TempDir, "grace-chaos-*")
	if err != nil {
		return res, fmt.Errorf("run %s: data folder: %w", sc.ID, err)
	}
	defer os.RemoveAll(dir)
	log := rn.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	r := &run{sc: sc, difficulty: difficulty, cfg: IsolatedConfig(rn.Config, dir, sc, difficulty)}
	deadline := sc.deadline()
	if rn.Deadline > 0 {
		deadline = rn.Deadline
	}
	if r.st, err = store.Open(ctx, r.cfg.DB, store.Options{Synchronous: r.cfg.Store.Synchronous, IndexInterval: r.cfg.Store.IndexInterval,
		Logger: log, Clock: clock.Real{}}); err != nil {
		return res, fmt.Errorf("run %s: %w", sc.ID, err)
	}
	defer func() {
		if cerr := r.st.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("run %s: close store: %w", sc.ID, cerr)
		}
	}()
	if r.eng, err = engine.New(r.cfg, engine.Deps{Store: r.st, Journal: r.st, Searcher: r.st, Clock: clock.Real{}, Logger: log}); err != nil {
		return res, fmt.Errorf("run %s: %w", sc.ID, err)
	}
	if err = r.eng.Start(context.WithoutCancel(ctx)); err != nil {
		return res, fmt.Errorf("run %s: %w", sc.ID, err)
	}
	stopped := false
	stop := func() {
		if !stopped {
			stopped = true
			r.eng.Stop()
		}
	}
	defer stop()

	if err = r.steady(ctx, "before", deadline); err != nil {
		return res, fmt.Errorf("run %s: %w", sc.ID, err)
	}
	err = r.injectAndWatch(ctx, deadline)
	// Roll back whatever happened, even on halt: never leave the engine
	// degraded.
	r.rollback(context.WithoutCancel(ctx))
	if err != nil {
		return res, fmt.Errorf("run %s: %w", sc.ID, err)
	}
	if err = r.steady(ctx, "after", deadline); err != nil {
		return res, fmt.Errorf("run %s: %w", sc.ID, err)
	}
	stop()
	// Stopped, every record is on the store: read the final verdicts.
	fired, err := r.firedSafeguards(ctx)
	if err != nil {
		return res, fmt.Errorf("run %s: %w", sc.ID, err)
	}
	res.Safeguards = r.safeguardResults(fired)
	if res.Invariants, err = r.checkInvariants(ctx); err != nil {
		return res, fmt.Errorf("run %s: %w", sc.ID, err)
	}
	res.Failures, res.Notes = r.failures, r.notes
	res.Passed = len(res.Failures) == 0
	res.DurationMS = time.Since(start).Milliseconds()
	return res, nil
}

// injectAndWatch injects the faults in order, then watches the record
// until the expected safeguards have fired or the deadline passes.
func (r *run) injectAndWatch(ctx context.Context, deadline time.Duration) error {
	for i, f := range r.sc.Faults {
		if err := faultKinds[f.Kind].inject(ctx, r, f); err != nil {
			if ctx.Err() != nil {
				return fmt.Errorf("halted: %w", ctx.Err())
			}
			return fmt.Errorf("inject faults[%d] (%s): %w", i, f.Kind, err)
		}
	}
	var ferr error
	err := r.waitFor(ctx, deadline, func() bool {
		var fired map[string]bool
		fired, ferr = r.firedSafeguards(ctx)
		return ferr != nil || r.expectationMet(fired)
	})
	switch {
	case ferr != nil:
		return ferr
	case ctx.Err() != nil:
		return fmt.Errorf("halted: %w", ctx.Err())
	case err != nil:
		r.notef("the expected safeguards had not all fired %v after the faults", deadline)
	}
	return nil
}

// expectationMet reports whether the fired safeguards meet the scenario's
// expectation.
func (r *run) expectationMet(fired map[string]bool) bool {
	n := 0
	for _, g := range r.sc.Safeguards.Expected {
		if fired[g] {
			n++
		}
	}
	if r.sc.Safeguards.Require == "any" {
		return n > 0
	}
	return n == len(r.sc.Safeguards.Expected)
}

// rollback removes the faults: handler faults cleared, the scheduler
// resumed if the fault's pause still stands.
func (r *run) rollback(ctx context.Context) {
	if r.needClearHandlers {
		if err := r.eng.ClearHandlerFaults(ctx); err != nil {
			r.failf("rollback: %v", err)
		}
	}
	if r.needResume && r.eng.Snapshot().Layer2.Paused {
		if err := r.eng.ResumeScheduler(ctx, "chaos_runner", "chaos rollback"); err != nil && !errors.Is(err, engine.ErrStopped) {
			r.failf("rollback: %v", err)
		}
	}
}

// firedSafeguards reads from the record which safeguards fired.
func (r *run) firedSafeguards(ctx context.Context) (map[string]bool, error) {
	fired := map[string]bool{}
	for name, d := range detectors {
		ok, err := r.recordExists(ctx, d)
		if err != nil {
			return nil, err
		}
		fired[name] = ok
	}
	return fired, nil
}

// safeguardResults lists the expected safeguards and any other that
// fired, and names each expected one that did not fire as a failure.
func (r *run) safeguardResults(fired map[string]bool) []SafeguardResult {
	var out []SafeguardResult
	var missing []string
	for _, g := range r.sc.Safeguards.Expected {
		out = append(out, SafeguardResult{Name: g, Expected: true, Fired: fired[g], Enabled: r.cfg.SafeguardEnabled(g)})
		if !fired[g] {
			missing = append(missing, g)
		}
	}
	for _, g := range KnownSafeguards() {
		if fired[g] && !slices.Contains(r.sc.Safeguards.Expected, g) {
			out = append(out, SafeguardResult{Name: g, Fired: true, Enabled: r.cfg.SafeguardEnabled(g)})
		}
	}
	if !r.expectationMet(fired) {
		for _, g := range missing {
			state := "on"
			if !r.cfg.SafeguardEnabled(g) {
				state = "switched off"
			}
			r.failf("safeguard %s did not fire (it is %s)", g, state)
		}
	}
	return out
}
