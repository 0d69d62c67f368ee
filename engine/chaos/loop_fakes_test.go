package chaos_test

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"grace/engine"
	"grace/engine/chaos"
	"grace/engine/clock"
	"grace/engine/governance"
	"grace/engine/intent"
)

// loopStore is an in-memory chaos.RunStore.
type loopStore struct {
	mu        sync.Mutex
	runs      map[string]engine.ChaosRun
	states    map[string]chaos.ScenarioState
	findings  map[string]engine.ChaosFinding
	knowledge []engine.ChaosKnowledge
}

func newLoopStore() *loopStore {
	return &loopStore{runs: map[string]engine.ChaosRun{}, states: map[string]chaos.ScenarioState{}, findings: map[string]engine.ChaosFinding{}}
}

func (m *loopStore) SaveChaosRun(_ context.Context, run engine.ChaosRun) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.runs[run.RunID] = run
	return nil
}

func (m *loopStore) ChaosRun(_ context.Context, id string) (engine.ChaosRun, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r, ok := m.runs[id]
	if !ok {
		return r, engine.ErrChaosRunNotFound
	}
	return r, nil
}

func (m *loopStore) ChaosRuns(_ context.Context, limit int) ([]engine.ChaosRun, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := slices.Collect(maps.Values(m.runs))
	sort.Slice(out, func(i, j int) bool { return out[i].StartedAt.After(out[j].StartedAt) })
	return out[:min(limit, len(out))], nil
}

func (m *loopStore) ScenarioStates(context.Context) (map[string]chaos.ScenarioState, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return maps.Clone(m.states), nil
}

func (m *loopStore) SaveScenarioState(_ context.Context, s chaos.ScenarioState) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.states[s.Scenario] = s
	return nil
}

func (m *loopStore) SaveFinding(_ context.Context, f engine.ChaosFinding) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.findings[f.ID] = f
	return nil
}

func (m *loopStore) Findings(context.Context) ([]engine.ChaosFinding, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := slices.Collect(maps.Values(m.findings))
	sort.Slice(out, func(i, j int) bool {
		if !out[i].CreatedAt.Equal(out[j].CreatedAt) {
			return out[i].CreatedAt.After(out[j].CreatedAt)
		}
		return out[i].ID > out[j].ID
	})
	return out, nil
}

func (m *loopStore) SaveKnowledge(_ context.Context, k engine.ChaosKnowledge) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.knowledge = append(m.knowledge, k)
	return nil
}

func (m *loopStore) Knowledge(context.Context) ([]engine.ChaosKnowledge, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := slices.Clone(m.knowledge)
	slices.Reverse(out)
	return out, nil
}

func (m *loopStore) state(id string) chaos.ScenarioState {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.states[id]
}

func (m *loopStore) findingList(t *testing.T) []engine.ChaosFinding {
	t.Helper()
	fs, _ := m.Findings(context.Background())
	return fs
}

// loopCall is one call of the fake runner.
type loopCall struct {
	req          engine.ChaosRequest
	overlay      map[string]engine.SafeguardConfig
	difficulties map[string]int
	at           time.Time
}

// loopRunnerFake plays the chaos service: it runs each scenario at its
// difficulty from the store (Difficulty 0) and returns what verdict says.
type loopRunnerFake struct {
	clk   *clock.Fake
	store *loopStore
	lib   *chaos.Library
	// countStanding makes the runner update the standing like the chaos
	// service does (runs, streak at the current difficulty).
	countStanding bool

	mu    sync.Mutex
	calls []loopCall
	// verdict decides a scenario's result (default: passed with every
	// expected safeguard fired).
	verdict func(sc *chaos.Scenario, difficulty int, overlay map[string]engine.SafeguardConfig) engine.ChaosResult
	// busy makes the next calls return engine.ErrChaosBusy.
	busy bool
	// hold, when set, makes the next call wait for a receive on it (or
	// ctx); started is signalled when it begins waiting.
	hold    chan struct{}
	started chan struct{}
}

func (f *loopRunnerFake) RunLoop(ctx context.Context, req engine.ChaosRequest, overlay map[string]engine.SafeguardConfig) (engine.ChaosRun, error) {
	f.mu.Lock()
	busy, hold, started, verdict := f.busy, f.hold, f.started, f.verdict
	f.hold = nil
	f.mu.Unlock()
	if busy {
		return engine.ChaosRun{}, engine.ErrChaosBusy
	}
	states, _ := f.store.ScenarioStates(ctx)
	call := loopCall{req: req, overlay: overlay, difficulties: map[string]int{}, at: f.clk.Now()}
	for _, id := range req.Scenarios {
		call.difficulties[id] = max(states[id].Difficulty, 1)
	}
	run := engine.ChaosRun{RunID: fmt.Sprintf("run_%d", f.callCount()+1), Trigger: req.Trigger, Operator: req.Operator,
		Live: req.Live, StartedAt: f.clk.Now(), Requested: req.Scenarios, State: engine.ChaosPassed}
	f.mu.Lock()
	f.calls = append(f.calls, call)
	f.mu.Unlock()
	if hold != nil {
		started <- struct{}{}
		select {
		case <-hold:
		case <-ctx.Done():
			return run, ctx.Err()
		}
	}
	for _, id := range req.Scenarios {
		sc := f.lib.Get(id)
		d := call.difficulties[id]
		var res engine.ChaosResult
		if verdict != nil {
			res = verdict(sc, d, overlay)
		} else {
			res = loopPassed(sc, d)
		}
		if !res.Passed {
			run.State = engine.ChaosFailed
		}
		run.Scenarios = append(run.Scenarios, res)
		if f.countStanding {
			st := states[id]
			st.Scenario, st.Difficulty = id, d
			st.Runs++
			st.LastRunAt = f.clk.Now().UnixMilli()
			if res.Passed {
				st.Streak, st.LastVerdict = st.Streak+1, engine.ChaosPassed
			} else {
				st.Streak, st.LastVerdict = 0, engine.ChaosFailed
			}
			_ = f.store.SaveScenarioState(ctx, st)
		}
	}
	run.FinishedAt = f.clk.Now()
	return run, nil
}

func (f *loopRunnerFake) callCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.calls)
}

func (f *loopRunnerFake) call(i int) loopCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[i]
}

func (f *loopRunnerFake) set(fn func(f *loopRunnerFake)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn(f)
}

// loopPassed is a passing result with every expected safeguard fired.
func loopPassed(sc *chaos.Scenario, d int) engine.ChaosResult {
	res := engine.ChaosResult{ID: sc.ID, Category: sc.Category, Passed: true, Difficulty: d, DurationMS: 40,
		Invariants: engine.ChaosInvariantResult{AuditIntact: true}}
	for _, g := range sc.Safeguards.Expected {
		res.Safeguards = append(res.Safeguards, engine.ChaosSafeguardResult{Name: g, Expected: true, Fired: true, Enabled: true})
	}
	return res
}

// loopNeeds is a verdict under which sc fails naming safeguard g as missing
// unless g is on in the overlay (and, with fireWhenOn false, even then),
// the way the runner reports it.
func loopNeeds(g string, fireWhenOn bool) func(*chaos.Scenario, int, map[string]engine.SafeguardConfig) engine.ChaosResult {
	return func(sc *chaos.Scenario, d int, overlay map[string]engine.SafeguardConfig) engine.ChaosResult {
		on := overlay[g].Enabled
		if !slices.Contains(sc.Safeguards.Expected, g) || (on && fireWhenOn) {
			return loopPassed(sc, d)
		}
		res := loopPassed(sc, d)
		res.Passed = false
		state := "switched off"
		if on {
			state = "on"
		}
		res.Failures = []string{fmt.Sprintf("safeguard %s did not fire (it is %s)", g, state)}
		res.Notes = []string{"flood: 5000 accepted, 5000 rejected"}
		for i := range res.Safeguards {
			if res.Safeguards[i].Name == g {
				res.Safeguards[i].Fired, res.Safeguards[i].Enabled = false, on
			}
		}
		return res
	}
}

// loopGov routes submissions with the real governance router's tiers:
// Tier 0 waits for a decision, others are queued.
type loopGov struct {
	router *governance.Router
	events chan engine.Event

	mu      sync.Mutex
	subs    []intent.Submission
	intents map[string]intent.Intent
	byKey   map[string]string
	refuse  error
}

func newLoopGov(t *testing.T) *loopGov {
	r, err := governance.NewRouter(governance.Default())
	if err != nil {
		t.Fatal(err)
	}
	return &loopGov{router: r, events: make(chan engine.Event, 64), intents: map[string]intent.Intent{}, byKey: map[string]string{}}
}

func (g *loopGov) Submit(_ context.Context, sub intent.Submission) (engine.SubmitResult, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.refuse != nil {
		return engine.SubmitResult{}, g.refuse
	}
	if id, ok := g.byKey[sub.IdempotencyKey]; ok && sub.IdempotencyKey != "" {
		return engine.SubmitResult{Intent: g.intents[id], Existing: true}, nil
	}
	g.subs = append(g.subs, sub)
	tier, _ := g.router.Tier(sub.Type)
	in := intent.Intent{ID: fmt.Sprintf("int_%d", len(g.subs)), Type: sub.Type, Actor: sub.Actor, Payload: sub.Payload,
		Priority: sub.Priority, IdempotencyKey: sub.IdempotencyKey, Tier: tier, State: intent.StateQueued,
		Decision: intent.Decision{Approved: tier != 0, AutonomyTier: tier, RequiresHuman: tier == 0, RoutedTo: "direct"}}
	if tier == 0 {
		in.State, in.Decision.RoutedTo = intent.StatePendingApproval, "human"
	}
	g.intents[in.ID] = in
	g.byKey[sub.IdempotencyKey] = in.ID
	return engine.SubmitResult{Intent: in}, nil
}

func (g *loopGov) Get(_ context.Context, id string) (intent.Intent, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	in, ok := g.intents[id]
	if !ok {
		return in, engine.ErrNotFound
	}
	return in, nil
}

func (g *loopGov) Subscribe(context.Context) <-chan engine.Event { return g.events }

// finish ends intent id in state (decided by by, for reason) and sends
// its event.
func (g *loopGov) finish(t *testing.T, id string, state intent.State, by, reason string) {
	t.Helper()
	g.mu.Lock()
	in, ok := g.intents[id]
	if !ok {
		g.mu.Unlock()
		t.Fatalf("no intent %s", id)
	}
	in.State, in.DecidedBy, in.DecisionReason = state, by, reason
	g.intents[id] = in
	g.mu.Unlock()
	g.events <- engine.Event{Kind: "intent", Intent: in}
}

func (g *loopGov) submissions() []intent.Submission {
	g.mu.Lock()
	defer g.mu.Unlock()
	return slices.Clone(g.subs)
}

// loopRecorderFake keeps the loop's records.
type loopRecorderFake struct {
	mu    sync.Mutex
	notes []engine.ChaosNote
}

func (r *loopRecorderFake) RecordChaos(_ context.Context, n engine.ChaosNote) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.notes = append(r.notes, n)
	return nil
}

// notesOf returns the records named what, in order.
func (r *loopRecorderFake) notesOf(what string) []engine.ChaosNote {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []engine.ChaosNote
	for _, n := range r.notes {
		if n.What == what {
			out = append(out, n)
		}
	}
	return out
}

func (r *loopRecorderFake) whats() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, n := range r.notes {
		out = append(out, n.What)
	}
	return out
}

// loopLibrary builds a library of the named seed scenarios (all fifteen
// when none is named), each expecting the safeguard its fault stresses.
func loopLibrary(ids ...string) *chaos.Library {
	all := map[string][2]string{
		"L2_HTM_queue_flood_stress":      {chaos.CategoryLayer2, engine.SafeguardRateLimit},
		"L2_trigger_mesh_storm":          {chaos.CategoryLayer2, engine.SafeguardMeshBackpressure},
		"L2_scheduler_pause_during_load": {chaos.CategoryLayer2, engine.SafeguardSchedulerAutoResume},
		"L2_event_policy_cascade":        {chaos.CategoryLayer2, engine.SafeguardPolicyCascadeLimit},
		"L2_worker_dropout_chaos":        {chaos.CategoryLayer2, engine.SafeguardWorkerReassignment},
		"DIRT_kernel_kill":               {chaos.CategoryDiRT, "kernel_auto_recovery"},
		"DIRT_acl_flood":                 {chaos.CategoryDiRT, "bus_acl"},
		"DIRT_resource_siege":            {chaos.CategoryDiRT, engine.SafeguardLoadShedding},
		"FIT_handler_latency":            {chaos.CategoryFIT, engine.SafeguardLoadShedding},
		"FIT_handler_errors":             {chaos.CategoryFIT, engine.SafeguardWorkerReassignment},
		"FIT_surge_with_worker_loss":     {chaos.CategoryFIT, engine.SafeguardRateLimit},
		"FIT_multi_fault":                {chaos.CategoryFIT, engine.SafeguardWorkerReassignment},
		"JEPSEN_crash_restart":           {chaos.CategoryJepsen, engine.SafeguardWorkerReassignment},
		"JEPSEN_store_stall":             {chaos.CategoryJepsen, engine.SafeguardLoadShedding},
		"JEPSEN_paused_approvals":        {chaos.CategoryJepsen, engine.SafeguardSchedulerAutoResume},
	}
	if len(ids) == 0 {
		ids = slices.Collect(maps.Keys(all))
	}
	lib := &chaos.Library{}
	for _, id := range ids {
		c := all[id]
		lib.Scenarios = append(lib.Scenarios, &chaos.Scenario{ID: id, Category: c[0], Description: id,
			Safeguards: chaos.Expectation{Expected: []string{c[1]}}})
	}
	sort.Slice(lib.Scenarios, func(i, j int) bool { return lib.Scenarios[i].ID < lib.Scenarios[j].ID })
	return lib
}

// loopBundle is what each loop test needs.
type loopBundle struct {
	clk    *clock.Fake
	store  *loopStore
	runner *loopRunnerFake
	gov    *loopGov
	rec    *loopRecorderFake
	lib    *chaos.Library
	cfg    engine.ChaosLoopConfig
	dir    string
	loop   *chaos.Loop
}

// loopZone is the engine clock's local time in the tests: not UTC, so the
// slots are shown to follow the clock's location.
var loopZone = time.FixedZone("UTC+2", 2*60*60)

// setupLoop builds a loop over lib at start (local time), not started.
func setupLoop(t *testing.T, lib *chaos.Library, start time.Time) *loopBundle {
	t.Helper()
	b := &loopBundle{clk: clock.NewFake(start), store: newLoopStore(), gov: newLoopGov(t), rec: &loopRecorderFake{}, lib: lib,
		cfg: engine.Default().Chaos.Loop, dir: t.TempDir()}
	b.cfg.Enabled = true
	b.runner = &loopRunnerFake{clk: b.clk, store: b.store, lib: lib}
	return b
}

// start starts a new loop over the bundle's store and fakes and waits
// until it waits for its first slot.
func (b *loopBundle) start(t *testing.T) {
	t.Helper()
	if b.loop != nil {
		// A restart is a new process: a new clock at the same time (the
		// stopped loop's last timer stays pending on the old one).
		b.clk = clock.NewFake(b.clk.Now())
		b.runner.set(func(f *loopRunnerFake) { f.clk = b.clk })
	}
	l, err := chaos.NewLoop(b.cfg, chaos.LoopDeps{Library: b.lib, Runner: b.runner, Store: b.store, Governor: b.gov,
		Recorder: b.rec, Clock: b.clk, DataDir: b.dir})
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	b.loop = l
	t.Cleanup(l.Stop)
	b.waitIdle(t)
}

// waitIdle waits until the loop waits for its next slot (its slot timer
// and its poll ticker pending).
func (b *loopBundle) waitIdle(t *testing.T) {
	t.Helper()
	loopWait(t, "the loop to wait for its next slot", func() bool { return b.clk.Waiters() == 2 })
}

// advanceTo moves the clock to at and waits for the loop to be idle again.
func (b *loopBundle) advanceTo(t *testing.T, at time.Time) {
	t.Helper()
	b.clk.Advance(at.Sub(b.clk.Now()))
	b.waitIdle(t)
}

// nextRun advances slot by slot until the runner is called once more and
// returns that call.
func (b *loopBundle) nextRun(t *testing.T) loopCall {
	t.Helper()
	n := b.runner.callCount()
	for range 10 {
		b.advanceTo(t, b.loop.State().NextRunAt)
		if b.runner.callCount() > n {
			return b.runner.call(n)
		}
	}
	t.Fatalf("no run in 10 slots after %v", b.clk.Now())
	return loopCall{}
}

// loopWait polls cond until it holds, failing the test after a minute
// (a bound for a loaded machine, not a speed assertion).
func loopWait(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

func loopTime(y int, m time.Month, d, h, min int) time.Time {
	return time.Date(y, m, d, h, min, 0, 0, loopZone)
}

func loopJoined(s []string) string { return strings.Join(s, ",") }
