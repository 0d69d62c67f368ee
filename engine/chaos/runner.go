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
	"grace/engine/clarity"
	"grace/engine/intent"
	"grace/engine/worker"
)

// pollEvery is how often the runner looks at the engine and the record
// while it waits.
const pollEvery = 20 * time.Millisecond

// Runner runs scenarios, each against an isolated engine of its own or
// against the live engine (Spec.Live).
type Runner struct {
	// Config is the base configuration; its safeguards switches apply.
	// The runner overrides what isolation needs (see IsolatedConfig).
	Config engine.Config
	// Open opens the record an isolated engine runs on (cmd/grace gives a
	// SQLite store at cfg.DB, and on backend.kind nats a nats backend of
	// the run's own). It is called once per isolated scenario, and again
	// on the same cfg.DB when a fault restarts the engine, unless the
	// Target is a Restarter. An isolated run without Open fails with
	// ErrNoOpener.
	Open func(ctx context.Context, cfg engine.Config, log *slog.Logger) (Target, error)
	// Logger receives the isolated engines' logs (default: discard),
	// each line with the chaos run and scenario (see IsolatedLogPrefix).
	Logger *slog.Logger
	// TempDir is where each run's data folder is made (default os.TempDir).
	TempDir string
	// Deadline, when set, replaces every scenario's own deadline.
	Deadline time.Duration
}

// IsolatedConfig is base made fit for a run of seconds in a data folder
// of its own: the database in dir, no HTTP API, no demo cortex, no
// retention (nothing of a run is old, and retention.archive_dir may be the
// live engine's), fast loops (heartbeats, shedding checks, hub, mesh
// episodes, store index), quick simulated handlers that never fail on their own, and the faults'
// configuration applied. The safeguards switches are base's.
func IsolatedConfig(base engine.Config, dir string, sc *Scenario, difficulty int) engine.Config {
	cfg := base
	cfg.DB = filepath.Join(dir, "grace.db")
	cfg.Log.File = ""
	cfg.API.Listen = ""
	cfg.Cortex.Enabled = false
	cfg.Identities = nil
	cfg.Policy.RulesFile = ""
	cfg.Retention.Records, cfg.Retention.ArchiveDir = 0, "" // nothing of a run is old; the archive folder is the live engine's
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
	if cfg.Backend.Kind == engine.BackendNATS {
		isolateNATS(&cfg, dir)
	}
	for _, f := range sc.Faults {
		if k := faultKinds[f.Kind]; k.configure != nil {
			k.configure(&cfg, sc, difficulty)
		}
	}
	return cfg
}

// ErrNoOpener: an isolated run was asked of a Runner without Open.
var ErrNoOpener = errors.New("chaos runner: no opener for an isolated engine (Runner.Open is nil)")

// Target is the record an isolated engine runs on, as Runner.Open makes
// it: the engine's dependencies, and read access to what it wrote.
type Target interface {
	// Deps are the engine's dependencies (store, journal, searcher,
	// auditor, clock, logger).
	Deps() engine.Deps
	// Search, Get, List and VerifyAudit read the record back.
	Search(ctx context.Context, q clarity.Query) ([]clarity.Entry, error)
	Get(ctx context.Context, id string) (intent.Intent, error)
	List(ctx context.Context, f intent.Filter) ([]intent.Intent, error)
	VerifyAudit(ctx context.Context) (engine.AuditReport, error)
	// Close releases the record; the engine is stopped first.
	Close() error
}

// records is how the runner reads the record of the engine under test:
// an isolated run's Target, or the live engine itself (its OperatorAPI).
type records interface {
	Search(ctx context.Context, q clarity.Query) ([]clarity.Entry, error)
	Get(ctx context.Context, id string) (intent.Intent, error)
	List(ctx context.Context, f intent.Filter) ([]intent.Intent, error)
	VerifyAudit(ctx context.Context) (engine.AuditReport, error)
}

// EngineAttacher is a Target that must see the engine built on its Deps
// before it starts: the nats backend bridges the engine's trigger mesh.
// Attach is called after engine.New and before Start, on every start.
type EngineAttacher interface {
	Attach(eng *engine.Engine) error
}

// Restarter is a Target whose backend has parts in other processes (the
// nats backend's remote workers and server). A fault that crashes the
// engine calls Crash before it stops the engine, and Reopen instead of
// Close and Runner.Open.
type Restarter interface {
	// Crash cuts the engine's process off its backend at once, as a crash
	// would: nothing more goes out (no cancels, no deletions).
	Crash()
	// Reopen closes the record and the engine's side of the backend and
	// opens them again on cfg, as the crashed process's restart would,
	// leaving the parts that live elsewhere (remote workers) running.
	// The receiver is unusable afterwards; on error everything it held is
	// closed.
	Reopen(ctx context.Context, cfg engine.Config, log *slog.Logger) (Target, error)
}

var (
	_ records = (*engine.Engine)(nil)
	_ records = Target(nil)
)

// run is one scenario run's state.
type run struct {
	sc         *Scenario
	difficulty int
	// deadline is the run's deadline: the scenario's own, its default, or
	// the Runner's that replaces it. Faults wait on it, never on the
	// scenario's field, which is 0 when its file leaves it out.
	deadline time.Duration
	cfg      engine.Config
	eng      *engine.Engine
	// rec reads the record of eng; target is what rec and eng's
	// dependencies came from (nil in live mode), open reopens it.
	rec    records
	target Target
	open   func(ctx context.Context, cfg engine.Config, log *slog.Logger) (Target, error)
	log    *slog.Logger
	// live is set when eng is the live engine: it is never stopped, and
	// the record is read from since on.
	live  bool
	since time.Time
	// progress reports phases, faults and safeguards (see progress.go).
	progress     func(Step)
	phaseNow     string
	faultsActive []string
	firedSeen    []string
	// submitted are the IDs Submit acknowledged to the runner itself;
	// floods are the intake floods (their intents are counted by actor).
	submitted []string
	floods    []floodDone
	notes     []string
	// jepsen is a Jepsen scenario's history (jepsen.go), nil otherwise.
	jepsen *jepsenRun
	// killed are the workers a fault killed (killedHeld the intents they
	// held when killed); cancelled the intents a fault cancelled.
	killed     []string
	killedHeld []string
	cancelled  []string
	failures   []string
	// rollback needs.
	needResume, needClearHandlers, needClearRemote bool
	// pausedTypes are the intent types a fault paused (pause_type), for
	// the rollback to resume if their pause still stands.
	pausedTypes []string
	// l1 and fit are what the Layer 1 and FIT faults did (faults_l1.go,
	// faults_fit.go), for rollbackL1 and rollbackFIT.
	l1  *l1Faults
	fit *fitFaults
	// probe is the Tier 0 probe (tier0probe.go), nil when none.
	probe *tier0Probe
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

// errHalted begins the error of a run whose context ended: "halted: "
// and the cause (who halted it and why, or the context's error).
var errHalted = errors.New("halted")

// Run runs sc at difficulty against an isolated engine in a temporary
// data folder (removed afterwards) and returns its result; see Exec.
func (rn *Runner) Run(ctx context.Context, sc *Scenario, difficulty int) (Result, error) {
	return rn.Exec(ctx, Spec{Scenario: sc, Difficulty: difficulty})
}

// Exec runs one scenario as sp says and returns its result. The error is
// for a run that could not be carried out (the engine would not start, a
// live run of a scenario that needs a reconfigured engine) or was halted:
// ctx cancelled, or the watchdog went critical outside what the scenario
// stresses (the error then wraps a *WatchdogAbort). A halted run's faults
// are rolled back and its isolated engine stopped; a live engine's steady
// state is checked after the rollback even then, and what did not come
// back is named in the error. A scenario that fails is a Result with
// Passed false.
func (rn *Runner) Exec(ctx context.Context, sp Spec) (res Result, err error) {
	sc := sp.Scenario
	difficulty := max(sp.Difficulty, 1)
	start := time.Now()
	res = Result{ID: sc.ID, Category: sc.Category, Difficulty: difficulty}
	log := rn.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	// The isolated engine logs where the live one may (a grace serve's
	// log): each line says whose it is.
	prefix := IsolatedLogPrefix
	if sp.Live != nil {
		prefix = LiveLogPrefix
	}
	log = runLogger(log, prefix, sp.RunID, sc.ID)
	if why := scaleProblem(sc, difficulty); why != "" {
		return res, fmt.Errorf("run %s: its parameters cannot be met: %s", sc.ID, why)
	}
	r := &run{sc: sc, difficulty: difficulty, log: log, open: rn.Open, progress: sp.Progress}
	if used := sc.UsedLevel(difficulty); used < difficulty {
		r.notef("difficulty %d asked for: the parameters stop growing at level %d (each at its max), so the scenario ran as at level %d, the level the resilience score counts",
			difficulty, used, used)
	}
	deadline := sc.deadline()
	if rn.Deadline > 0 {
		deadline = rn.Deadline
	}
	r.deadline = deadline
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	if sp.Live != nil {
		if why := NeedsIsolation(rn.Config, sc, difficulty); why != "" {
			return res, fmt.Errorf("run %s live: %s", sc.ID, why)
		}
		r.live, r.eng, r.rec, r.cfg, r.since = true, sp.Live, sp.Live, rn.Config, time.Now()
	} else {
		// Before anything is made: a difficulty that grows a parameter
		// to a value the engine under test refuses.
		if why := configProblemAt(rn.Config, sc, difficulty); why != "" {
			return res, fmt.Errorf("run %s: its parameters cannot be met: %s", sc.ID, why)
		}
		dir := ""
		if sp.DB == "" {
			if dir, err = os.MkdirTemp(rn.TempDir, "grace-chaos-*"); err != nil {
				return res, fmt.Errorf("run %s: data folder: %w", sc.ID, err)
			}
			defer os.RemoveAll(dir)
		} else {
			dir = filepath.Dir(sp.DB)
			if err = os.MkdirAll(dir, 0o700); err != nil {
				return res, fmt.Errorf("run %s: data folder %s: %w", sc.ID, dir, err)
			}
		}
		r.cfg = IsolatedConfig(rn.Config, dir, sc, difficulty)
		if sp.DB != "" {
			r.cfg.DB = sp.DB
		}
		if sp.AbortOnCritical {
			// The watchdog must look often enough to catch a run of seconds.
			r.cfg.Watchdog.Interval = min(r.cfg.Watchdog.Interval, watchdogEvery)
		}
		if err = r.start(ctx); err != nil {
			if ctx.Err() != nil {
				return res, fmt.Errorf("run %s: halted before the engine started: %w", sc.ID, context.Cause(ctx))
			}
			return res, fmt.Errorf("run %s: %w", sc.ID, err)
		}
		defer func() {
			if cerr := r.stop(); cerr != nil && err == nil {
				err = fmt.Errorf("run %s: %w", sc.ID, cerr)
			}
		}()
	}

	// halted names the halt, not what it interrupted (a record read that
	// saw its context cancelled), as the reason a run ended early.
	halted := func(err error) error {
		if ctx.Err() != nil && !errors.Is(err, errHalted) {
			err = fmt.Errorf("%w during %s: %w", errHalted, r.phaseNow, context.Cause(ctx))
		}
		return fmt.Errorf("run %s: %w", sc.ID, err)
	}
	r.phase(engine.ChaosPhaseSteadyBefore)
	if err = r.steady(ctx, "before", deadline); err != nil {
		return res, halted(err)
	}
	r.phase(engine.ChaosPhaseInject)
	stopWatch := r.watchCritical(sp.AbortOnCritical, cancel)
	err = r.injectAndWatch(ctx, deadline)
	stopWatch()
	// Roll back whatever happened, even on halt: never leave the engine
	// degraded.
	r.phase(engine.ChaosPhaseRollback)
	r.rollback(context.WithoutCancel(ctx))
	r.faultsActive = nil
	if err != nil {
		if r.live {
			err = r.liveAfterHalt(ctx, deadline, err)
		}
		return res, fmt.Errorf("run %s: %w", sc.ID, err)
	}
	r.phase(engine.ChaosPhaseSteadyAfter)
	if err = r.steady(ctx, "after", deadline); err != nil {
		if r.live {
			err = r.liveAfterHalt(ctx, deadline, err)
		}
		return res, fmt.Errorf("run %s: %w", sc.ID, err)
	}
	if !r.live {
		// Stopped, every record is on the store: read the final verdicts.
		r.eng.Stop()
	}
	r.phase(engine.ChaosPhaseInvariants)
	fired, err := r.firedSafeguards(ctx)
	if err != nil {
		return res, halted(err)
	}
	res.Safeguards = r.safeguardResults(fired)
	if res.Invariants, err = r.checkInvariants(ctx, deadline); err != nil {
		return res, halted(err)
	}
	if res.Records, err = r.countRecords(ctx); err != nil {
		return res, halted(err)
	}
	if !r.live {
		res.RecordsDB = r.cfg.DB
	}
	res.Failures, res.Notes = r.failures, r.notes
	res.Passed = len(res.Failures) == 0
	res.DurationMS = time.Since(start).Milliseconds()
	return res, nil
}

// start opens the record at r.cfg.DB and starts an isolated engine on it.
func (r *run) start(ctx context.Context) error {
	if r.open == nil {
		return ErrNoOpener
	}
	t, err := r.open(ctx, r.cfg, r.log)
	if err != nil {
		return err
	}
	return r.startOn(ctx, t)
}

// startOn starts an isolated engine on t; on error t is closed.
func (r *run) startOn(ctx context.Context, t Target) error {
	eng, err := engine.New(r.cfg, t.Deps())
	if a, ok := t.(EngineAttacher); ok && err == nil {
		err = a.Attach(eng)
	}
	if err == nil {
		err = eng.Start(context.WithoutCancel(ctx))
	}
	if err != nil {
		if eng != nil {
			eng.Stop()
		}
		if cerr := t.Close(); cerr != nil {
			r.log.Warn("close the isolated record", "db", r.cfg.DB, "err", cerr)
		}
		return err
	}
	r.target, r.rec, r.eng = t, t, eng
	return nil
}

// stop stops the isolated engine and closes its record (once).
func (r *run) stop() error {
	if r.target == nil {
		return nil
	}
	r.eng.Stop()
	t := r.target
	r.target = nil
	if err := t.Close(); err != nil {
		return fmt.Errorf("close the record %s: %w", r.cfg.DB, err)
	}
	return nil
}

// restart stops the isolated engine hard (its loops and running handlers
// cancelled, as a crash would leave the tasks in flight: running on the
// record) and starts a new one on the same database, which recovers them.
// A fault that crashes the engine calls it; r.eng and r.rec are the new
// ones afterwards. A live engine is never restarted.
func (r *run) restart(ctx context.Context) error {
	if r.live {
		return errors.New("restart: the live engine is never restarted by a chaos run")
	}
	if rs, ok := r.target.(Restarter); ok {
		r.eng.Stop()
		r.target = nil
		t, err := rs.Reopen(ctx, r.cfg, r.log)
		if err != nil {
			return fmt.Errorf("restart: reopen %s: %w", r.cfg.DB, err)
		}
		if err := r.startOn(ctx, t); err != nil {
			return fmt.Errorf("restart on %s: %w", r.cfg.DB, err)
		}
		return nil
	}
	if err := r.stop(); err != nil {
		return fmt.Errorf("restart: %w", err)
	}
	if err := r.start(ctx); err != nil {
		return fmt.Errorf("restart on %s: %w", r.cfg.DB, err)
	}
	return nil
}

// injectAndWatch injects the faults in order, then watches the record
// until the expected safeguards have fired or the deadline passes.
func (r *run) injectAndWatch(ctx context.Context, deadline time.Duration) error {
	halted := func(err error) error {
		if ctx.Err() != nil {
			return fmt.Errorf("%w: %w", errHalted, context.Cause(ctx))
		}
		return err
	}
	if r.wantsProbe() {
		if err := r.submitProbe(ctx); err != nil {
			return halted(err)
		}
	}
	for i, f := range r.sc.Faults {
		// Active from the moment it starts: a half-injected fault is
		// rolled back too.
		r.faultsActive = append(r.faultsActive, f.Kind)
		r.report()
		if err := faultKinds[f.Kind].inject(ctx, r, f); err != nil {
			return halted(fmt.Errorf("inject faults[%d] (%s): %w", i, f.Kind, err))
		}
		if i == 0 {
			// Approved amid the faults: they run among what the faults
			// did to the workers and the queue.
			if err := r.approveProbe(ctx); err != nil {
				return halted(err)
			}
		}
	}
	r.phase(engine.ChaosPhaseWatch)
	var ferr error
	err := r.waitFor(ctx, deadline, func() bool {
		var fired map[string]bool
		fired, ferr = r.firedSafeguards(ctx)
		if ferr == nil {
			r.sawFired(fired)
		}
		return ferr != nil || r.expectationMet(fired)
	})
	switch {
	case ctx.Err() != nil:
		return fmt.Errorf("%w: %w", errHalted, context.Cause(ctx))
	case ferr != nil:
		return ferr
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

// rollback removes the faults: handler faults cleared, the scheduler (and
// each intent type a fault paused) resumed if the fault's pause still
// stands.
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
	for _, typ := range r.pausedTypes {
		if err := r.eng.ResumeType(ctx, "chaos_runner", typ, "chaos rollback"); err != nil &&
			!errors.Is(err, engine.ErrNotPaused) && !errors.Is(err, engine.ErrStopped) {
			r.failf("rollback: %v", err)
		}
	}
	r.rollbackFIT(ctx)
	r.rollbackL1(ctx)
	r.rollbackRemote(ctx)
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
	for _, more := range []map[string]detector{moreDetectors, remoteDetectors} {
		for name, d := range more {
			if fired[name] {
				continue
			}
			ok, err := r.recordExists(ctx, d)
			if err != nil {
				return nil, err
			}
			fired[name] = ok
		}
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
