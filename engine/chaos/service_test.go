package chaos_test

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"grace/engine"
	"grace/engine/chaos"
	"grace/engine/clarity"
	"grace/engine/clock"
	"grace/engine/enginetest"
	"grace/engine/watchdog"
	"grace/store"
)

// serviceBundle is what each service test needs: a service over a real
// store in a temporary data folder, and the progress it reported.
type serviceBundle struct {
	svc  *chaos.Service
	st   *store.Store
	lib  *chaos.Library
	dir  string
	mu   sync.Mutex
	seen []engine.ChaosProgress
	// phases receives every progress event too (never blocks: buffered
	// and drained by whoever waits on it).
	phases chan engine.ChaosProgress
}

type serviceSetup struct {
	cfg      engine.Config
	main     *engine.Engine
	deadline time.Duration
	keepRuns int
	// open replaces openTarget, the isolated engines' opener.
	open func(context.Context, engine.Config, *slog.Logger) (chaos.Target, error)
}

func setupService(t *testing.T, o serviceSetup) *serviceBundle {
	t.Helper()
	lib, err := chaos.LoadLibrary("")
	if err != nil {
		t.Fatal(err)
	}
	if o.cfg.Workers.Count == 0 {
		o.cfg = engine.Default()
	}
	if o.deadline == 0 {
		o.deadline = 2 * time.Second
	}
	dir := t.TempDir()
	st := openStore(t, filepath.Join(dir, "grace.db"))
	b := &serviceBundle{st: st, lib: lib, dir: dir, phases: make(chan engine.ChaosProgress, 4096)}
	if o.open == nil {
		o.open = openTarget
	}
	b.svc, err = chaos.NewService(chaos.ServiceOptions{
		Runner:  &chaos.Runner{Config: o.cfg, Open: o.open, Deadline: o.deadline},
		Library: lib, Store: st, Main: o.main, DataDir: dir, KeepRuns: o.keepRuns,
		AbortOnCritical: o.cfg.Chaos.AbortOnCritical,
		OnProgress: func(p engine.ChaosProgress) {
			b.mu.Lock()
			b.seen = append(b.seen, p)
			b.mu.Unlock()
			select {
			case b.phases <- p:
			default:
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.svc.Close)
	return b
}

func openStore(t *testing.T, path string) *store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), path, store.Options{Clock: clock.Real{}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := st.Close(); err != nil {
			t.Error(err)
		}
	})
	return st
}

// waitPhase waits for a progress event of scenario id in phase.
func (b *serviceBundle) waitPhase(t *testing.T, id, phase string) {
	t.Helper()
	deadline := time.After(30 * time.Second)
	for {
		select {
		case p := <-b.phases:
			if p.Scenario == id && p.Phase == phase {
				return
			}
		case <-deadline:
			t.Fatalf("no progress event %s/%s within 30s", id, phase)
		}
	}
}

const (
	cascade = "L2_event_policy_cascade"
	storm   = "L2_trigger_mesh_storm"
)

func TestServiceRunStoresStandingAndProgress(t *testing.T) {
	t.Parallel()
	b := setupService(t, serviceSetup{keepRuns: 1})
	ctx := context.Background()
	// Two scenarios in one run: each keeps a record of its own.
	first, err := b.svc.Run(ctx, engine.ChaosRequest{Scenarios: []string{cascade, storm}, Operator: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	if first.State != engine.ChaosPassed || len(first.Scenarios) != 2 || first.Trigger != engine.ChaosTriggerOperator || first.FinishedAt.IsZero() {
		t.Fatalf("run = %+v", first)
	}
	res := first.Scenarios[0]
	wantDB := filepath.Join(b.dir, "chaos", "runs", first.RunID, cascade, cascade+".db")
	if res.RecordsDB != wantDB || res.Records[engine.WhatFaultInjected] == 0 {
		t.Fatalf("records_db %q (want %q), records %v", res.RecordsDB, wantDB, res.Records)
	}
	if _, err := os.Stat(wantDB); err != nil {
		t.Fatalf("the run's record database is not kept: %v", err)
	}
	stored, err := b.st.ChaosRun(ctx, first.RunID)
	if err != nil || stored.State != engine.ChaosPassed || len(stored.Scenarios) != 2 || stored.Operator != "alice" ||
		!stored.Scenarios[1].Invariants.AuditIntact || stored.Scenarios[1].RecordsDB == res.RecordsDB {
		t.Fatalf("stored run = %+v, %v", stored, err)
	}

	// The phases came in order, then the run's final state.
	b.mu.Lock()
	var phases []string
	for _, p := range b.seen {
		if p.Scenario == cascade && (len(phases) == 0 || phases[len(phases)-1] != p.Phase) {
			phases = append(phases, p.Phase)
		}
	}
	last := b.seen[len(b.seen)-1]
	b.mu.Unlock()
	want := []string{engine.ChaosPhaseSteadyBefore, engine.ChaosPhaseInject, engine.ChaosPhaseWatch, engine.ChaosPhaseRollback,
		engine.ChaosPhaseSteadyAfter, engine.ChaosPhaseInvariants, engine.ChaosPhaseDone}
	if !slices.Equal(phases, want) {
		t.Errorf("phases %v, want %v", phases, want)
	}
	if last.State != engine.ChaosPassed || last.RunID != first.RunID {
		t.Errorf("last progress event %+v, want the run's final state", last)
	}

	// Difficulty 0 is the scenario's standing (as the loop escalates it);
	// the streak counts passes at it.
	if err := b.st.SaveScenarioState(ctx, chaos.ScenarioState{Scenario: cascade, Difficulty: 2, Streak: 0, Runs: 1}); err != nil {
		t.Fatal(err)
	}
	second, err := b.svc.Run(ctx, engine.ChaosRequest{Scenarios: []string{cascade}})
	if err != nil {
		t.Fatal(err)
	}
	if second.Scenarios[0].Difficulty != 2 {
		t.Fatalf("difficulty 0 ran at %d, want the standing's 2", second.Scenarios[0].Difficulty)
	}
	// A loop run with the safeguard switched off fails and resets it.
	third, err := b.svc.RunLoop(ctx, engine.ChaosRequest{Scenarios: []string{cascade}},
		map[string]engine.SafeguardConfig{engine.SafeguardPolicyCascadeLimit: {Enabled: false}})
	if err != nil {
		t.Fatal(err)
	}
	if third.State != engine.ChaosFailed || third.Trigger != engine.ChaosTriggerLoop {
		t.Fatalf("run without the safeguard = %+v", third)
	}
	scs, err := b.svc.ChaosScenarios(ctx)
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(scs, func(s engine.ChaosScenario) bool { return s.ID == cascade })
	if sc := scs[i]; sc.Runs != 3 || sc.Streak != 0 || sc.LastVerdict != engine.ChaosFailed || sc.Difficulty != 2 || sc.LastRunAt.IsZero() {
		t.Fatalf("standing after pass, pass, fail = %+v", sc)
	}
	hist, err := b.svc.ChaosHistory(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(hist) != 3 || hist[0].RunID != third.RunID || hist[2].RunID != first.RunID {
		t.Fatalf("history order %v, want newest first", runIDs(hist))
	}
	// keep_runs 1: only the newest run's folder stays.
	entries, err := os.ReadDir(filepath.Join(b.dir, "chaos", "runs"))
	if err != nil || len(entries) != 1 || entries[0].Name() != third.RunID {
		t.Fatalf("run folders %v (%v), want only %s", entries, err, third.RunID)
	}
	// Score: two passes at 1, one at 2, a failure at 2: 100 × 4/6.
	stat, err := b.svc.ChaosStatus(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if stat.Score.Runs != 4 || !near(stat.Score.Overall, 200.0/3) || !near(stat.Score.ByCategory[chaos.CategoryLayer2], 200.0/3) || stat.Running != nil {
		t.Fatalf("status = %+v", stat)
	}
}

func runIDs(runs []engine.ChaosRun) []string {
	var out []string
	for _, r := range runs {
		out = append(out, r.RunID)
	}
	return out
}

func TestServiceBusyAndHaltRollsBack(t *testing.T) {
	t.Parallel()
	cfg := engine.Default()
	// Without auto resume the pause stands until the halt's rollback.
	cfg.Safeguards[engine.SafeguardSchedulerAutoResume] = engine.SafeguardConfig{Enabled: false}
	b := setupService(t, serviceSetup{cfg: cfg, deadline: time.Minute})
	const pause = "L2_scheduler_pause_during_load"
	b.lib.Get(pause).Parameters["queued"] = chaos.Parameter{Base: 50}
	ctx := context.Background()
	run, err := b.svc.StartChaos(ctx, engine.ChaosRequest{Scenarios: []string{pause}, Operator: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	if run.State != engine.ChaosRunning {
		t.Fatalf("started run in state %s", run.State)
	}
	if stored, err := b.st.ChaosRun(ctx, run.RunID); err != nil || stored.State != engine.ChaosRunning {
		t.Fatalf("run not stored as running at start: %+v, %v", stored, err)
	}
	b.waitPhase(t, pause, engine.ChaosPhaseWatch)
	if _, err := b.svc.StartChaos(ctx, engine.ChaosRequest{Scenarios: []string{cascade}}); !errors.Is(err, engine.ErrChaosBusy) {
		t.Fatalf("second start = %v, want ErrChaosBusy", err)
	}
	live, err := b.svc.ChaosRun(ctx, run.RunID)
	if err != nil || live.Progress == nil || live.Progress.Phase != engine.ChaosPhaseWatch ||
		!slices.Contains(live.Progress.FaultsActive, chaos.FaultPauseScheduler) {
		t.Fatalf("run in progress = %+v (%v), want its progress", live.Progress, err)
	}
	h, err := b.svc.HaltChaos(ctx, "bob", "enough")
	if err != nil || h.Halted != 1 || h.RunIDs[0] != run.RunID {
		t.Fatalf("halt = %+v, %v", h, err)
	}
	stored, err := b.st.ChaosRun(ctx, run.RunID)
	if err != nil || stored.State != engine.ChaosHalted || stored.HaltedBy != "bob" || !strings.Contains(stored.Error, "enough") {
		t.Fatalf("stored after halt = %+v, %v", stored, err)
	}
	// The rollback resumed the paused scheduler on the isolated record.
	rec := openStore(t, filepath.Join(b.dir, "chaos", "runs", run.RunID, pause, pause+".db"))
	es, err := rec.Search(ctx, clarity.Query{Action: "scheduler_resumed", Actor: "chaos_runner", Limit: 10})
	if err != nil || len(es) != 1 {
		t.Fatalf("rollback's scheduler_resumed records: %d, %v", len(es), err)
	}
	if h, err := b.svc.HaltChaos(ctx, "bob", ""); err != nil || h.Halted != 0 {
		t.Fatalf("halt with nothing running = %+v, %v", h, err)
	}
	// Not busy any more.
	if _, err := b.svc.Run(ctx, engine.ChaosRequest{Scenarios: []string{cascade}}); err != nil {
		t.Fatal(err)
	}
}

func TestServiceRefusesBadRequests(t *testing.T) {
	t.Parallel()
	b := setupService(t, serviceSetup{})
	cases := []struct {
		name  string
		req   engine.ChaosRequest
		field string
	}{
		{"nothing", engine.ChaosRequest{}, "scenarios"},
		{"two ways", engine.ChaosRequest{All: true, Category: chaos.CategoryFIT}, "scenarios"},
		{"unknown scenario", engine.ChaosRequest{Scenarios: []string{"L9_nope"}}, "scenarios"},
		{"unknown category", engine.ChaosRequest{Category: "chaos_monkey"}, "category"},
		{"negative difficulty", engine.ChaosRequest{All: true, Difficulty: -1}, "difficulty"},
		// chaos.loop.max_difficulty (10) bounds an operator's run too.
		{"difficulty above the maximum", engine.ChaosRequest{Scenarios: []string{"L2_event_policy_cascade"}, Difficulty: 11}, "difficulty"},
		{"bad trigger", engine.ChaosRequest{All: true, Trigger: "cron"}, "trigger"},
		{"live without an engine", engine.ChaosRequest{All: true, Live: true}, "live"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := b.svc.StartChaos(context.Background(), tc.req)
			var re *engine.ChaosRequestError
			if !errors.As(err, &re) || re.Field != tc.field {
				t.Fatalf("StartChaos(%+v) = %v, want a request error on %s", tc.req, err, tc.field)
			}
			if tc.req.Difficulty > 0 && !strings.Contains(re.Reason, "above the maximum, 10 (chaos.loop.max_difficulty)") {
				t.Fatalf("StartChaos(%+v) = %v, want the limit named", tc.req, err)
			}
		})
	}
	if runs, _ := b.st.ChaosRuns(context.Background(), 0); len(runs) != 0 {
		t.Fatalf("refused requests stored runs: %v", runIDs(runs))
	}
}

func TestScoreWeightsByDifficultyOverTheLastTen(t *testing.T) {
	t.Parallel()
	res := func(id, cat string, d int, passed bool) engine.ChaosResult {
		return engine.ChaosResult{ID: id, Category: cat, Difficulty: d, Passed: passed}
	}
	// Newest first. A: passed at 3, failed at 1 → 3/4. B: passed at 1 → 1/1.
	runs := []engine.ChaosRun{
		{Scenarios: []engine.ChaosResult{res("A", "dirt", 3, true), res("B", "fit", 1, true)}},
		{Scenarios: []engine.ChaosResult{res("A", "dirt", 1, false)}},
	}
	// C: ten recent passes, then older failures that fall outside the window.
	for range 10 {
		runs = append(runs, engine.ChaosRun{Scenarios: []engine.ChaosResult{res("C", "fit", 1, true)}})
	}
	for range 5 {
		runs = append(runs, engine.ChaosRun{Scenarios: []engine.ChaosResult{res("C", "fit", 1, false)}})
	}
	s := chaos.Score(runs, nil)
	// overall: (3 + 1 + 10) / (3 + 1 + 1 + 10) = 14/15
	if s.Runs != 13 || !near(s.Overall, 100*14.0/15) || !near(s.ByCategory["dirt"], 75) || !near(s.ByCategory["fit"], 100) {
		t.Fatalf("score = %+v", s)
	}
	if z := chaos.Score(nil, nil); z.Runs != 0 || z.Overall != 0 || len(z.ByCategory) != 0 {
		t.Fatalf("score of nothing = %+v", z)
	}
}

// TestScoreCountsTheLevelTheParametersTook: one pass at a huge
// difficulty (a run stored before the bound, or asked of an older
// version) must not outweigh the failures before it: it counts at the
// level the scenario's parameters actually took (the cascade's depth stops
// at its max of 100 at level 7), never above chaos.loop.max_difficulty.
func TestScoreCountsTheLevelTheParametersTook(t *testing.T) {
	t.Parallel()
	lib, err := chaos.LoadLibrary("")
	if err != nil {
		t.Fatal(err)
	}
	const cascade = "L2_event_policy_cascade"
	runs := []engine.ChaosRun{{Scenarios: []engine.ChaosResult{{ID: cascade, Category: chaos.CategoryLayer2, Difficulty: 100000, Passed: true}}}}
	for range 4 {
		runs = append(runs, engine.ChaosRun{Scenarios: []engine.ChaosResult{{ID: cascade, Category: chaos.CategoryLayer2, Difficulty: 1}}})
	}
	if got := lib.Get(cascade).UsedLevel(100000); got != 7 {
		t.Fatalf("UsedLevel(100000) of %s = %d, want 7", cascade, got)
	}
	// 7 / (7 + 4)
	if s := chaos.Score(runs, lib.ScoreLevel(10)); !near(s.Overall, 100*7.0/11) {
		t.Fatalf("score = %+v, want %.1f", s, 100*7.0/11)
	}
	// A scenario the library no longer has counts at most at the maximum.
	runs[0].Scenarios[0].ID = "L2_gone"
	if s := chaos.Score(runs[:1:1], lib.ScoreLevel(10)); s.Runs != 1 || s.Overall != 100 {
		t.Fatalf("score = %+v", s)
	}
	gone := append([]engine.ChaosRun{{Scenarios: []engine.ChaosResult{{ID: "L2_gone", Category: chaos.CategoryLayer2, Difficulty: 100000, Passed: true}}}},
		engine.ChaosRun{Scenarios: []engine.ChaosResult{{ID: "L2_gone", Category: chaos.CategoryLayer2, Difficulty: 10}}})
	if s := chaos.Score(gone, lib.ScoreLevel(10)); !near(s.Overall, 50) {
		t.Fatalf("score of a scenario not in the library = %+v, want 50", s)
	}
}

func near(a, b float64) bool { return a-b < 1e-9 && b-a < 1e-9 }

func TestServiceAbortsOnUnexpectedCritical(t *testing.T) {
	t.Parallel()
	cfg := engine.Default()
	cfg.Chaos.AbortOnCritical = true
	// The HTM orchestrator is critical with fewer healthy workers than
	// this, which a policy cascade does not stress.
	cfg.Watchdog.HTM.MinHealthyWorkers = 1000
	cfg.Safeguards[engine.SafeguardPolicyCascadeLimit] = engine.SafeguardConfig{Enabled: false}
	b := setupService(t, serviceSetup{cfg: cfg, deadline: 30 * time.Second})
	// A deep cascade with the cut switched off keeps the run watching.
	run, err := b.svc.Run(context.Background(), engine.ChaosRequest{Scenarios: []string{cascade}})
	if err != nil {
		t.Fatal(err)
	}
	if run.State != engine.ChaosHalted || run.HaltedBy != "watchdog" || !strings.Contains(run.Error, watchdog.NameHTM) {
		t.Fatalf("run = %+v, want halted by the watchdog naming %s", run, watchdog.NameHTM)
	}
}

func TestServiceCloseHaltsTheRunAndReportsTheLoop(t *testing.T) {
	t.Parallel()
	cfg := engine.Default()
	cfg.Safeguards[engine.SafeguardSchedulerAutoResume] = engine.SafeguardConfig{Enabled: false}
	b := setupService(t, serviceSetup{cfg: cfg, deadline: time.Minute})
	const pause = "L2_scheduler_pause_during_load"
	b.lib.Get(pause).Parameters["queued"] = chaos.Parameter{Base: 20}
	next := time.Date(2026, 11, 29, 2, 0, 0, 0, time.UTC)
	b.svc.SetLoopState(func() engine.ChaosLoopState {
		return engine.ChaosLoopState{Enabled: true, NextRunAt: next, NextSlot: "02:00"}
	})
	ctx := context.Background()
	run, err := b.svc.StartChaos(ctx, engine.ChaosRequest{Scenarios: []string{pause}})
	if err != nil {
		t.Fatal(err)
	}
	b.waitPhase(t, pause, engine.ChaosPhaseWatch)
	st, err := b.svc.ChaosStatus(ctx)
	if err != nil || st.Running == nil || st.Running.RunID != run.RunID || !st.Loop.Enabled || !st.Loop.NextRunAt.Equal(next) {
		t.Fatalf("status while running = %+v, %v", st, err)
	}
	b.svc.Close()
	stored, err := b.st.ChaosRun(ctx, run.RunID)
	if err != nil || stored.State != engine.ChaosHalted || stored.HaltedBy != "shutdown" {
		t.Fatalf("run after Close = %+v, %v", stored, err)
	}
	if _, err := b.svc.StartChaos(ctx, engine.ChaosRequest{Scenarios: []string{cascade}}); err == nil {
		t.Fatal("a closed service started a run")
	}
}

// TestIsolatedEngineLogsSayWhoseTheyAre: an isolated engine logs where
// the live one may (a grace serve's log). Each of its lines, the alerts
// the faults provoke included, carries the chaos run and the scenario,
// and its message is marked as the chaos engine's, so that it cannot be
// taken for the live engine's.
func TestIsolatedEngineLogsSayWhoseTheyAre(t *testing.T) {
	t.Parallel()
	var buf enginetest.Buffer
	lib, err := chaos.LoadLibrary("")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	st := openStore(t, filepath.Join(dir, "grace.db"))
	svc, err := chaos.NewService(chaos.ServiceOptions{
		Runner: &chaos.Runner{Config: engine.Default(), Open: openTarget, Deadline: 2 * time.Second,
			Logger: slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))},
		Library: lib, Store: st, DataDir: dir,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Close()
	const dropout = "L2_worker_dropout_chaos"
	run, err := svc.Run(context.Background(), engine.ChaosRequest{Scenarios: []string{dropout}})
	if err != nil || run.State != engine.ChaosPassed {
		t.Fatalf("run %s: %v, %+v", dropout, err, run)
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	var msgs []string
	for _, l := range lines {
		var rec struct {
			Msg      string `json:"msg"`
			ChaosRun string `json:"chaos_run"`
			Scenario string `json:"scenario"`
		}
		if err := json.Unmarshal([]byte(l), &rec); err != nil {
			t.Fatalf("log line %q: %v", l, err)
		}
		if rec.ChaosRun != run.RunID || rec.Scenario != dropout || !strings.HasPrefix(rec.Msg, chaos.IsolatedLogPrefix) {
			t.Errorf("log line without its chaos run %s, scenario %s and prefix %q: %s", run.RunID, dropout, chaos.IsolatedLogPrefix, l)
		}
		msgs = append(msgs, rec.Msg)
	}
	// The lines that would alarm a reader of the live log are among them.
	if !slices.ContainsFunc(msgs, func(m string) bool { return strings.Contains(m, "engine started") }) ||
		!slices.ContainsFunc(msgs, func(m string) bool { return strings.Contains(m, "worker declared dead") }) {
		t.Fatalf("the isolated engine's start and dead workers are not in its log: %q", msgs)
	}
}

// A scenario that cannot be carried out fails with its reason, and the run
// goes on with the others: one broken scenario (say, a custom file whose
// parameters cannot be met) must not keep the rest of the library from
// being proven, run after run of the loop. The run ends as an error
// naming it.
func TestScenarioThatCannotRunDoesNotEndTheRun(t *testing.T) {
	t.Parallel()
	b := setupService(t, serviceSetup{open: func(ctx context.Context, cfg engine.Config, log *slog.Logger) (chaos.Target, error) {
		if strings.Contains(cfg.DB, cascade) {
			return nil, errors.New("disk on fire")
		}
		return openTarget(ctx, cfg, log)
	}})
	ctx := context.Background()
	run, err := b.svc.Run(ctx, engine.ChaosRequest{Scenarios: []string{cascade, storm}, Operator: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	if run.State != engine.ChaosError || !strings.HasPrefix(run.Error, cascade+": ") || !strings.Contains(run.Error, "disk on fire") {
		t.Fatalf("run state %q, error %q", run.State, run.Error)
	}
	if len(run.Scenarios) != 2 {
		t.Fatalf("the run stopped at the scenario that could not run: %d verdicts", len(run.Scenarios))
	}
	bad, good := run.Scenarios[0], run.Scenarios[1]
	if bad.ID != cascade || bad.Passed || !strings.Contains(bad.Error, "disk on fire") || len(bad.Failures) != 1 {
		t.Fatalf("the scenario that could not run: %+v", bad)
	}
	if good.ID != storm || !good.Passed {
		t.Fatalf("the scenario after it: %+v", good)
	}
	stored, err := b.st.ChaosRun(ctx, run.RunID)
	if err != nil || stored.State != engine.ChaosError || len(stored.Scenarios) != 2 || stored.Scenarios[0].Error == "" {
		t.Fatalf("stored run = %+v, %v", stored, err)
	}
}
