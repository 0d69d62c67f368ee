package httpapi

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"

	"grace/engine"
)

// fakeChaos is an in-memory ChaosAPI: it validates requests as the
// contract says, holds one run at a time and records who asked.
type fakeChaos struct {
	mu      sync.Mutex
	runs    []engine.ChaosRun // oldest first
	running string            // the run in progress
	calls   int               // calls that could change it
	reads   int               // ChaosRun calls
	lastReq engine.ChaosRequest
	lastCtx context.Context
	halts   []string // "operator: reason"
}

var _ engine.ChaosAPI = (*fakeChaos)(nil)

var fakeScenarios = []engine.ChaosScenario{
	{ID: "L2_HTM_queue_flood_stress", Category: "layer2_orchestration", Difficulty: 1},
	{ID: "jepsen_crash_restart", Category: "jepsen", Difficulty: 2, Streak: 3},
}

// state returns a copy of what the fake holds.
func (f *fakeChaos) state() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	b, _ := json.Marshal(struct {
		R []engine.ChaosRun
		H []string
	}{f.runs, f.halts})
	return string(b)
}

func (f *fakeChaos) ChaosScenarios(context.Context) ([]engine.ChaosScenario, error) {
	return slices.Clone(fakeScenarios), nil
}

func (f *fakeChaos) StartChaos(ctx context.Context, req engine.ChaosRequest) (engine.ChaosRun, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	f.lastReq, f.lastCtx = req, ctx
	if f.running != "" {
		return engine.ChaosRun{}, fmt.Errorf("start chaos (run %s goes): %w", f.running, engine.ErrChaosBusy)
	}
	if len(req.Scenarios) == 0 && !req.All && req.Category == "" {
		return engine.ChaosRun{}, &engine.ChaosRequestError{Field: "scenarios", Reason: "name scenarios, all or a category"}
	}
	if req.Difficulty < 0 {
		return engine.ChaosRun{}, &engine.ChaosRequestError{Field: "difficulty", Reason: fmt.Sprintf("%d is below 0", req.Difficulty)}
	}
	for _, id := range req.Scenarios {
		if !slices.ContainsFunc(fakeScenarios, func(s engine.ChaosScenario) bool { return s.ID == id }) {
			return engine.ChaosRun{}, &engine.ChaosRequestError{Field: "scenarios", Reason: fmt.Sprintf("no scenario %q", id)}
		}
	}
	run := engine.ChaosRun{
		RunID: fmt.Sprintf("chaos-%d", len(f.runs)+1), State: engine.ChaosRunning, Trigger: req.Trigger,
		Operator: req.Operator, Live: req.Live, StartedAt: fakeEpoch, Requested: req.Scenarios,
		Scenarios: []engine.ChaosResult{},
	}
	f.runs = append(f.runs, run)
	f.running = run.RunID
	return run, nil
}

// finish ends the run in progress in state with results.
func (f *fakeChaos) finish(state string, results ...engine.ChaosResult) engine.ChaosRun {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i := range f.runs {
		if f.runs[i].RunID == f.running {
			f.runs[i].State, f.runs[i].Scenarios, f.runs[i].Progress = state, results, nil
			f.running = ""
			return f.runs[i]
		}
	}
	return engine.ChaosRun{}
}

// readCount returns how many times ChaosRun was called.
func (f *fakeChaos) readCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.reads
}

// progress sets the run in progress's live progress.
func (f *fakeChaos) progress(p engine.ChaosProgress) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i := range f.runs {
		if f.runs[i].RunID == p.RunID {
			f.runs[i].Progress = &p
		}
	}
}

func (f *fakeChaos) ChaosRun(_ context.Context, id string) (engine.ChaosRun, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reads++
	for _, r := range f.runs {
		if r.RunID == id {
			return r, nil
		}
	}
	return engine.ChaosRun{}, fmt.Errorf("chaos run %q: %w", id, engine.ErrChaosRunNotFound)
}

func (f *fakeChaos) ChaosHistory(_ context.Context, limit int) ([]engine.ChaosRun, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if limit == 0 {
		limit = 50
	}
	out := slices.Clone(f.runs)
	slices.Reverse(out)
	return out[:min(limit, len(out))], nil
}

func (f *fakeChaos) HaltChaos(ctx context.Context, operator, reason string) (engine.ChaosHaltResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	f.lastCtx = ctx
	f.halts = append(f.halts, operator+": "+reason)
	if f.running == "" {
		return engine.ChaosHaltResult{}, nil
	}
	id := f.running
	for i := range f.runs {
		if f.runs[i].RunID == id {
			f.runs[i].State, f.runs[i].HaltedBy = engine.ChaosHalted, operator
		}
	}
	f.running = ""
	return engine.ChaosHaltResult{Halted: 1, RunIDs: []string{id}}, nil
}

func (f *fakeChaos) ChaosStatus(context.Context) (engine.ChaosStatus, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	st := engine.ChaosStatus{
		Score:    engine.ResilienceScore{Overall: 87.5, ByCategory: map[string]float64{"jepsen": 75}, Runs: len(f.runs)},
		Loop:     engine.ChaosLoopState{Enabled: true, NextSlot: "02:00"},
		Findings: []engine.ChaosFinding{}, Knowledge: []engine.ChaosKnowledge{},
	}
	for _, r := range f.runs {
		if r.RunID == f.running {
			st.Running = &r
		}
	}
	return st, nil
}
