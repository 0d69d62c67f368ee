package chaos_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"grace/engine"
	"grace/engine/chaos"
)

// A parameter that grows without a max (as a file in
// chaos.scenarios_dir may write it) at a large difficulty is refused,
// naming the difficulty, scenario and parameter, and nothing runs: it
// used to reach the runner as a negative count and panic the process.
func TestServiceRefusesADifficultyBeyondAParametersRange(t *testing.T) {
	t.Parallel()
	// A configuration that allows that difficulty (chaos.loop.
	// max_difficulty bounds it otherwise).
	cfg := engine.Default()
	cfg.Chaos.Loop.MaxDifficulty = 1 << 30
	b := setupService(t, serviceSetup{cfg: cfg})
	const dropout = "L2_worker_dropout_chaos"
	sc := b.lib.Get(dropout)
	for name, p := range sc.Parameters {
		if p.Growth > 1 {
			sc.Parameters[name] = chaos.Parameter{Base: p.Base, Growth: p.Growth} // no max
		}
	}
	ctx := context.Background()
	_, err := b.svc.Run(ctx, engine.ChaosRequest{Scenarios: []string{dropout}, Difficulty: 100000})
	var re *engine.ChaosRequestError
	if !errors.As(err, &re) || re.Field != "difficulty" || !strings.Contains(re.Reason, dropout) || !strings.Contains(re.Reason, "parameters.") {
		t.Fatalf("run at difficulty 100000 = %v, want a refusal naming difficulty, %s and the parameter", err, dropout)
	}
	if runs, err := b.st.ChaosRuns(ctx, 0); err != nil || len(runs) != 0 {
		t.Fatalf("a refused run was stored: %d runs, %v", len(runs), err)
	}
}

// A live run at each scenario's current difficulty is refused when that
// difficulty (raised by the loop) needs an isolated engine, rather than
// accepted and then ending in error; nothing runs.
func TestServiceRefusesALiveRunAtAnEscalatedDifficulty(t *testing.T) {
	t.Parallel()
	cfg := engine.Default()
	cfg.Cortex.Enabled = false
	main, _ := startMain(t, cfg)
	b := setupService(t, serviceSetup{cfg: cfg, main: main})
	const dropout = "L2_worker_dropout_chaos"
	if why := chaos.NeedsIsolation(cfg, b.lib.Get(dropout), 1); why != "" {
		t.Skipf("%s needs isolation at difficulty 1 already: %s", dropout, why)
	}
	ctx := context.Background()
	if err := b.st.SaveScenarioState(ctx, chaos.ScenarioState{Scenario: dropout, Difficulty: 2}); err != nil {
		t.Fatal(err)
	}
	_, err := b.svc.StartChaos(ctx, engine.ChaosRequest{Scenarios: []string{dropout}, Live: true, Operator: "alice"})
	var re *engine.ChaosRequestError
	if !errors.As(err, &re) || re.Field != "scenarios" || !strings.Contains(re.Reason, "difficulty 2") {
		t.Fatalf("live run at the escalated difficulty = %v, want a refusal naming scenarios and difficulty 2", err)
	}
	if runs, err := b.st.ChaosRuns(ctx, 0); err != nil || len(runs) != 0 {
		t.Fatalf("a refused run was stored: %+v, %v", runs, err)
	}
}
