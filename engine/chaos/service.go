package chaos

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"grace/engine"
	"grace/engine/clock"
)

// Service is the chaos service: it implements engine.ChaosAPI over a
// Runner, a scenario Library and a RunStore. One run goes at a time, in a
// goroutine the service owns (Close stops it); each run is saved when it
// starts (state running), at each scenario's verdict and when it ends, and each finished scenario
// updates its standing (ScenarioState). With a main engine, progress is
// published on it (Engine.PublishChaos) and the run is on its record
// (Engine.RecordChaos): started (who asked), each verdict, finished or
// halted (who halted).
type Service struct {
	opts ServiceOptions

	ctx    context.Context
	cancel context.CancelCauseFunc
	wg     sync.WaitGroup

	mu        sync.Mutex
	cur       *active       // the run in progress, nil when none
	loopState LoopStateFunc // set by the loop
	lastID    time.Time     // the time in the newest run ID
}

// ServiceOptions builds a Service.
type ServiceOptions struct {
	// Runner runs the scenarios; its Config is the base configuration
	// (and the live engine's, for live runs).
	Runner *Runner
	// Library is the scenario library.
	Library *Library
	// Store keeps the runs and the scenarios' standing.
	Store RunStore
	// Main is the engine the service serves (the live engine): progress
	// is published on it, runs recorded on its record, and live runs go
	// against it. Nil (grace chaos run in a process of its own) refuses
	// live runs.
	Main *engine.Engine
	// DataDir is the data folder: an isolated run keeps each scenario's
	// record in DataDir/chaos/runs/<run_id>/<scenario>/<scenario>.db (a
	// folder each, for the store's files beside the database).
	DataDir string
	// KeepRuns is how many run folders stay (the newest); 0 keeps all.
	KeepRuns int
	// AbortOnCritical halts a run when the watchdog of the engine under
	// test goes critical on a component the scenario does not stress.
	AbortOnCritical bool
	// OnProgress, when set, is called with every progress event (after it
	// is published on Main), on the run's goroutine; it must not block.
	OnProgress func(engine.ChaosProgress)
	// Clock tells the time of runs (clock.Real{} when nil).
	Clock clock.Clock
	// Logger receives the service's logs (discarded when nil).
	Logger *slog.Logger
}

// LoopStateFunc is how the autonomous loop tells ChaosStatus its state.
type LoopStateFunc func() engine.ChaosLoopState

// active is the run in progress.
type active struct {
	run    engine.ChaosRun // guarded by Service.mu
	diff   map[string]int  // difficulty by scenario
	runner *Runner         // the service's, or a copy with a safeguards overlay
	cancel context.CancelCauseFunc
	done   chan struct{} // closed when the run is stored and over
	unmark func()        // removes the service's mark of the run (service_recover.go)
}

// haltCause is why a run's context ends: who halted it and why.
type haltCause struct {
	by, reason string
}

// Error reads after the runner's "halted: ".
func (h *haltCause) Error() string {
	if h.reason == "" {
		return "by " + h.by
	}
	return "by " + h.by + ": " + h.reason
}

// The Who of the service's records when no operator is named.
const (
	actorLoop     = "chaos_loop"
	actorWatchdog = "watchdog"
	actorShutdown = "shutdown"
)

var _ engine.ChaosAPI = (*Service)(nil)

// NewService makes a service; Close stops the run in progress, if any.
// Runner, Library and Store are required.
func NewService(opts ServiceOptions) (*Service, error) {
	switch {
	case opts.Runner == nil:
		return nil, errors.New("chaos service: no runner")
	case opts.Library == nil:
		return nil, errors.New("chaos service: no scenario library")
	case opts.Store == nil:
		return nil, errors.New("chaos service: no run store")
	}
	if opts.Clock == nil {
		opts.Clock = clock.Real{}
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Service{opts: opts}
	s.ctx, s.cancel = context.WithCancelCause(context.Background())
	s.recoverInterrupted() // service_recover.go
	return s, nil
}

// SetLoopState gives ChaosStatus the loop's state; nil reports a disabled
// loop.
func (s *Service) SetLoopState(f LoopStateFunc) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.loopState = f
}

// Close halts the run in progress (its faults rolled back, stored as
// halted by "shutdown") and waits for it. Nothing can start afterwards.
func (s *Service) Close() {
	// Under mu, so that a run being started either sees the service
	// closed or is counted in wg before Wait.
	s.mu.Lock()
	s.cancel(&haltCause{by: actorShutdown, reason: "the chaos service is closing"})
	s.mu.Unlock()
	s.wg.Wait()
}

// StartChaos validates req, stores the run as running and starts it in
// the background; see engine.ChaosAPI.
func (s *Service) StartChaos(ctx context.Context, req engine.ChaosRequest) (engine.ChaosRun, error) {
	a, err := s.begin(ctx, req, nil)
	if err != nil {
		return engine.ChaosRun{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return cloneRun(a.run), nil
}

// Run starts a run like StartChaos and waits for its end, returning the
// run as stored. When ctx ends first the run is halted (by the request's
// operator, or its trigger) and Run returns once it is rolled back and
// stored, with ctx's error.
func (s *Service) Run(ctx context.Context, req engine.ChaosRequest) (engine.ChaosRun, error) {
	return s.runWith(ctx, req, nil)
}

// RunLoop is Run for the autonomous loop (it implements LoopRunner): the
// request's trigger is loop, and safeguards are laid over the base
// configuration's switches for the isolated engines of this run (a live
// engine keeps its own).
func (s *Service) RunLoop(ctx context.Context, req engine.ChaosRequest, safeguards map[string]engine.SafeguardConfig) (engine.ChaosRun, error) {
	req.Trigger = engine.ChaosTriggerLoop
	return s.runWith(ctx, req, safeguards)
}

var _ LoopRunner = (*Service)(nil)

func (s *Service) runWith(ctx context.Context, req engine.ChaosRequest, safeguards map[string]engine.SafeguardConfig) (engine.ChaosRun, error) {
	a, err := s.begin(ctx, req, safeguards)
	if err != nil {
		return engine.ChaosRun{}, err
	}
	select {
	case <-a.done:
	case <-ctx.Done():
		by := orDefault(req.Operator, orDefault(req.Trigger, engine.ChaosTriggerOperator))
		a.cancel(&haltCause{by: by, reason: "the caller stopped waiting"})
		<-a.done
	}
	s.mu.Lock()
	run := cloneRun(a.run)
	s.mu.Unlock()
	return run, ctx.Err()
}

// Wait waits for the run id to end and returns it as stored. A run not in
// progress is read from the store (engine.ErrChaosRunNotFound if none).
// When ctx ends first, Wait returns ctx's error and the run goes on.
func (s *Service) Wait(ctx context.Context, id string) (engine.ChaosRun, error) {
	s.mu.Lock()
	a := s.cur
	s.mu.Unlock()
	if a != nil && a.run.RunID == id {
		select {
		case <-a.done:
		case <-ctx.Done():
			return engine.ChaosRun{}, ctx.Err()
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		return cloneRun(a.run), nil
	}
	return s.opts.Store.ChaosRun(ctx, id)
}

// begin validates req, refuses a second run, stores the new run as
// running, records who asked and starts its goroutine.
func (s *Service) begin(ctx context.Context, req engine.ChaosRequest, safeguards map[string]engine.SafeguardConfig) (*active, error) {
	ids, err := s.validate(req)
	if err != nil {
		return nil, err
	}
	states, err := s.opts.Store.ScenarioStates(ctx)
	if err != nil {
		return nil, fmt.Errorf("start chaos run: %w", err)
	}
	if req.Trigger == "" {
		req.Trigger = engine.ChaosTriggerOperator
	}
	diff := make(map[string]int, len(ids))
	for _, id := range ids {
		d := req.Difficulty
		if d == 0 {
			d = max(states[id].Difficulty, 1)
		}
		diff[id] = d
	}
	if len(req.Scenarios) > 0 && req.Trigger != engine.ChaosTriggerLoop {
		// The scenarios an operator named, each at a level it cannot
		// take: refused whole, nothing run. Under --all, --category or
		// the loop, such a scenario fails alone (Runner.Exec) and the
		// others run: one scenario escalated past what its parameters
		// allow must not keep the rest of a slot from being proven.
		if err := s.checkScale(ids, diff, req.Live); err != nil {
			return nil, err
		}
	}
	if req.Live {
		if err := s.checkLive(ids, diff); err != nil {
			return nil, err
		}
	}
	s.mu.Lock()
	if s.cur != nil {
		s.mu.Unlock()
		return nil, engine.ErrChaosBusy
	}
	if s.ctx.Err() != nil {
		s.mu.Unlock()
		return nil, errors.New("start chaos run: the chaos service is closed")
	}
	rctx, cancel := context.WithCancelCause(s.ctx)
	a := &active{diff: diff, runner: s.runnerWith(safeguards), cancel: cancel, done: make(chan struct{}), run: engine.ChaosRun{
		RunID: s.newRunID(), State: engine.ChaosRunning, Trigger: req.Trigger, Operator: req.Operator, Live: req.Live,
		StartedAt: s.opts.Clock.Now().UTC(), Requested: ids, Scenarios: []engine.ChaosResult{},
	}}
	s.cur = a
	s.wg.Add(1) // before Close can Wait: the run goroutine's, or undone below
	s.mu.Unlock()
	a.unmark = s.markRun(a.run.RunID)
	if err := s.opts.Store.SaveChaosRun(ctx, a.run); err != nil {
		a.unmark()
		s.mu.Lock()
		s.cur = nil
		s.mu.Unlock()
		cancel(nil)
		s.wg.Done()
		return nil, fmt.Errorf("start chaos run: %w", err)
	}
	s.record(engine.ChaosNote{What: engine.WhatChaosRunStarted, Who: s.who(a.run), RunID: a.run.RunID, Result: engine.ChaosRunning,
		Why:     []string{fmt.Sprintf("%s asked for a chaos run of %d scenario(s) against %s: %s", s.who(a.run), len(ids), target(req.Live), strings.Join(ids, ", "))},
		Context: map[string]any{"trigger": req.Trigger, "live": req.Live, "scenarios": strings.Join(ids, ",")}})
	go func() {
		defer s.wg.Done()
		s.execute(rctx, a)
	}()
	return a, nil
}

// runnerWith is the service's runner, or a copy whose configuration has
// safeguards laid over its switches.
func (s *Service) runnerWith(safeguards map[string]engine.SafeguardConfig) *Runner {
	if len(safeguards) == 0 {
		return s.opts.Runner
	}
	rn := *s.opts.Runner
	rn.Config.Safeguards = make(map[string]engine.SafeguardConfig, len(s.opts.Runner.Config.Safeguards)+len(safeguards))
	for k, v := range s.opts.Runner.Config.Safeguards {
		rn.Config.Safeguards[k] = v
	}
	for k, v := range safeguards {
		rn.Config.Safeguards[k] = v
	}
	return &rn
}

// who is who asked for run: the operator, else the loop or "operator".
func (s *Service) who(run engine.ChaosRun) string {
	if run.Operator != "" {
		return run.Operator
	}
	if run.Trigger == engine.ChaosTriggerLoop {
		return actorLoop
	}
	return engine.ChaosTriggerOperator
}

func target(live bool) string {
	if live {
		return "the live engine"
	}
	return "isolated engines"
}

// execute runs a's scenarios in order, then stores the run and clears it.
func (s *Service) execute(ctx context.Context, a *active) {
	defer close(a.done)
	defer a.cancel(nil)
	s.mu.Lock()
	ids, runID, live := a.run.Requested, a.run.RunID, a.run.Live
	s.mu.Unlock()
	state, haltedBy, errText := engine.ChaosPassed, "", ""
	for i, id := range ids {
		sc := s.opts.Library.Get(id)
		sp := Spec{Scenario: sc, RunID: runID, Difficulty: a.diff[id], AbortOnCritical: s.opts.AbortOnCritical,
			Progress: func(st Step) { s.progress(a, id, i+1, len(ids), st, nil, "") }}
		if live {
			sp.Live = s.opts.Main
		} else {
			// A folder per scenario: the store keeps files beside its
			// database (the audit checkpoints) that must not be shared.
			sp.DB = filepath.Join(s.runsDir(), runID, id, id+".db")
		}
		began := s.opts.Clock.Now()
		res, err := a.runner.Exec(ctx, sp)
		if err != nil {
			var wa *WatchdogAbort
			var hc *haltCause
			halted := true
			switch {
			case errors.As(err, &wa):
				state, haltedBy = engine.ChaosHalted, actorWatchdog
			case ctx.Err() != nil && errors.As(context.Cause(ctx), &hc):
				state, haltedBy = engine.ChaosHalted, hc.by
			case ctx.Err() != nil:
				state, haltedBy = engine.ChaosHalted, actorShutdown
			default:
				halted = false
			}
			if halted {
				errText = err.Error()
				break
			}
			// This scenario could not be carried out (an isolated engine
			// would not start, a fault could not be set up): it fails with
			// the reason, and the run goes on with the others, so that one
			// scenario cannot keep the rest of the library from being
			// proven. The run ends as an error, naming the first.
			if state != engine.ChaosError {
				state, errText = engine.ChaosError, id+": "+err.Error()
			}
			res = erroredResult(sc, a.diff[id], s.opts.Clock.Now().Sub(began), err)
		}
		if !res.Passed && state != engine.ChaosError {
			state = engine.ChaosFailed
		}
		s.mu.Lock()
		a.run.Scenarios = append(a.run.Scenarios, res)
		sofar := cloneRun(a.run)
		s.mu.Unlock()
		// Stored as each verdict comes: a process killed later in the run
		// (nothing rolled back, no final save) keeps what it finished.
		if err := s.opts.Store.SaveChaosRun(context.WithoutCancel(ctx), sofar); err != nil {
			s.opts.Logger.Error("store the chaos run's verdict", "run_id", runID, "scenario", id, "err", err)
		}
		s.finishScenario(a, res)
		s.progress(a, id, i+1, len(ids), Step{Phase: engine.ChaosPhaseDone}, &res, "")
	}
	s.mu.Lock()
	a.run.State, a.run.HaltedBy, a.run.Error = state, haltedBy, errText
	a.run.FinishedAt = s.opts.Clock.Now().UTC()
	a.run.Progress = nil
	run := cloneRun(a.run)
	s.mu.Unlock()
	bg := context.WithoutCancel(ctx)
	if err := s.opts.Store.SaveChaosRun(bg, run); err != nil {
		s.opts.Logger.Error("store the chaos run", "run_id", runID, "err", err)
	}
	a.unmark()
	s.recordEnd(run)
	s.progress(a, "", len(ids), len(ids), Step{Phase: engine.ChaosPhaseDone}, nil, state)
	if !live {
		s.prune()
	}
	s.mu.Lock()
	s.cur = nil
	s.mu.Unlock()
}

// finishScenario updates the scenario's standing and records its verdict.
// The streak counts consecutive passes at the scenario's current
// difficulty: a run at another difficulty (an operator's choice) leaves
// it alone; a failure resets it. Escalation is the loop's.
func (s *Service) finishScenario(a *active, res engine.ChaosResult) {
	ctx := context.Background()
	s.mu.Lock()
	run := cloneRun(a.run)
	s.mu.Unlock()
	verdict := engine.ChaosFailed
	if res.Passed {
		verdict = engine.ChaosPassed
	}
	states, err := s.opts.Store.ScenarioStates(ctx)
	if err != nil {
		s.opts.Logger.Error("read the chaos scenario states", "err", err)
	} else {
		st := states[res.ID]
		st.Scenario = res.ID
		st.Difficulty = max(st.Difficulty, 1)
		st.Runs++
		st.LastVerdict = verdict
		st.LastRunAt = s.opts.Clock.Now().UnixMilli()
		if res.Difficulty == st.Difficulty {
			if res.Passed {
				st.Streak++
			} else {
				st.Streak = 0
			}
		}
		if err := s.opts.Store.SaveScenarioState(ctx, st); err != nil {
			s.opts.Logger.Error("store the chaos scenario state", "scenario", res.ID, "err", err)
		}
	}
	why := []string{fmt.Sprintf("Scenario %s %s at difficulty %d in %d ms.", res.ID, verdict, res.Difficulty, res.DurationMS)}
	why = append(why, res.Failures...)
	s.record(engine.ChaosNote{What: engine.WhatChaosVerdict, Who: s.who(run), RunID: run.RunID, Scenario: res.ID, Result: verdict, Why: why,
		Context: map[string]any{"difficulty": res.Difficulty, "duration_ms": res.DurationMS, "lost": res.Invariants.Lost,
			"duplicated": res.Invariants.Duplicated, "unauthorized_executions": res.Invariants.UnauthorizedExecutions,
			"cancelled_revived": res.Invariants.CancelledRevived,
			"audit_intact":      res.Invariants.AuditIntact, "records_db": res.RecordsDB}})
}

// recordEnd records the run's end on the main engine.
func (s *Service) recordEnd(run engine.ChaosRun) {
	passed := 0
	for _, r := range run.Scenarios {
		if r.Passed {
			passed++
		}
	}
	n := engine.ChaosNote{What: engine.WhatChaosRunFinished, Who: s.who(run), RunID: run.RunID, Result: run.State,
		Why:     []string{fmt.Sprintf("Chaos run %s: %d of %d scenarios passed of %d requested.", run.State, passed, len(run.Scenarios), len(run.Requested))},
		Context: map[string]any{"passed": passed, "finished": len(run.Scenarios), "requested": len(run.Requested)}}
	if run.State == engine.ChaosHalted {
		n.What, n.Who = engine.WhatChaosRunHalted, run.HaltedBy
		n.Why = append(n.Why, fmt.Sprintf("Halted by %s; the faults were rolled back.", run.HaltedBy))
	}
	if run.Error != "" {
		n.Why = append(n.Why, run.Error)
	}
	s.record(n)
}

// record writes n on the main engine's record, if there is one; a failure
// is logged (the run itself is stored regardless).
func (s *Service) record(n engine.ChaosNote) {
	if s.opts.Main == nil {
		return
	}
	if err := s.opts.Main.RecordChaos(context.Background(), n); err != nil && !errors.Is(err, engine.ErrStopped) {
		s.opts.Logger.Warn("record the chaos run", "run_id", n.RunID, "what", n.What, "err", err)
	}
}

// progress keeps where a stands and publishes it.
func (s *Service) progress(a *active, id string, index, total int, st Step, res *engine.ChaosResult, final string) {
	p := engine.ChaosProgress{Scenario: id, Index: index, Total: total, Phase: st.Phase, At: s.opts.Clock.Now().UTC(),
		FaultsActive: nonNil(st.FaultsActive), SafeguardsFired: nonNil(st.SafeguardsFired), Result: res, State: final}
	s.mu.Lock()
	p.RunID = a.run.RunID
	if final == "" {
		cp := p
		a.run.Progress = &cp
	}
	s.mu.Unlock()
	if s.opts.Main != nil {
		s.opts.Main.PublishChaos(p)
	}
	if s.opts.OnProgress != nil {
		s.opts.OnProgress(p)
	}
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// HaltChaos halts the run in progress, if any, and waits until its faults
// are rolled back and it is stored (state halted, HaltedBy operator), or
// ctx ends. See engine.ChaosAPI.
func (s *Service) HaltChaos(ctx context.Context, operator, reason string) (engine.ChaosHaltResult, error) {
	out := engine.ChaosHaltResult{RunIDs: []string{}}
	s.mu.Lock()
	a := s.cur
	s.mu.Unlock()
	if a == nil {
		return out, nil
	}
	operator = orDefault(strings.TrimSpace(operator), engine.ChaosTriggerOperator)
	a.cancel(&haltCause{by: operator, reason: reason})
	select {
	case <-a.done:
	case <-ctx.Done():
		return out, fmt.Errorf("halt chaos: %w (the run is still rolling back)", ctx.Err())
	}
	s.mu.Lock()
	out.Halted, out.RunIDs = 1, []string{a.run.RunID}
	s.mu.Unlock()
	return out, nil
}

// ChaosRun returns the run in progress with its progress, or a stored run.
func (s *Service) ChaosRun(ctx context.Context, id string) (engine.ChaosRun, error) {
	s.mu.Lock()
	if s.cur != nil && s.cur.run.RunID == id {
		run := cloneRun(s.cur.run)
		s.mu.Unlock()
		return run, nil
	}
	s.mu.Unlock()
	return s.opts.Store.ChaosRun(ctx, id)
}

// ChaosHistory returns stored runs, newest first, the run in progress as
// it stands now.
func (s *Service) ChaosHistory(ctx context.Context, limit int) ([]engine.ChaosRun, error) {
	if limit <= 0 {
		limit = 50
	}
	runs, err := s.opts.Store.ChaosRuns(ctx, limit)
	if err != nil {
		return nil, fmt.Errorf("chaos history: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cur != nil {
		for i := range runs {
			if runs[i].RunID == s.cur.run.RunID {
				runs[i] = cloneRun(s.cur.run)
			}
		}
	}
	return runs, nil
}

// cloneRun copies run so that the copy does not share the slices the run
// goroutine appends to.
func cloneRun(run engine.ChaosRun) engine.ChaosRun {
	run.Requested = slices.Clone(run.Requested)
	run.Scenarios = slices.Clone(run.Scenarios)
	if run.Scenarios == nil {
		run.Scenarios = []engine.ChaosResult{}
	}
	if run.Progress != nil {
		p := *run.Progress
		run.Progress = &p
	}
	return run
}

// newRunID names a run: its start time to the millisecond and a random
// suffix, so that the names sort by start (a run started in the same
// millisecond as the one before is named a millisecond later). It runs
// under s.mu.
func (s *Service) newRunID() string {
	t := s.opts.Clock.Now().UTC().Truncate(time.Millisecond)
	if !t.After(s.lastID) {
		t = s.lastID.Add(time.Millisecond)
	}
	s.lastID = t
	return "chaos-" + t.Format("20060102T150405.000Z") + "-" + strings.ToLower(rand.Text()[:8])
}

// runsDir is DataDir/chaos/runs.
func (s *Service) runsDir() string { return filepath.Join(s.opts.DataDir, "chaos", "runs") }

// erroredResult is the verdict of a scenario that could not be carried
// out: failed, with why; nothing was measured, so no safeguard or
// invariant is reported as checked.
func erroredResult(sc *Scenario, difficulty int, took time.Duration, err error) engine.ChaosResult {
	return engine.ChaosResult{
		ID: sc.ID, Category: string(sc.Category), Difficulty: difficulty, DurationMS: took.Milliseconds(),
		Error: err.Error(), Failures: []string{"could not be carried out: " + err.Error()},
		Safeguards: []engine.ChaosSafeguardResult{},
	}
}
