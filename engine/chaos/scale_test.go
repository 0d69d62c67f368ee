package chaos_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"grace/engine"
	"grace/engine/chaos"
)

// A scenario whose parameter, at the level the loop escalated it to, grows
// past what any run can take (here the cascade's depth, growing a
// hundredfold a level with no max) fails alone, saying so, and the slot's
// other scenarios run. The whole run was refused: every later slot holding
// the scenario ran nothing at all, the built-in scenarios included. An
// operator who names such a scenario is still refused before anything runs.
func TestScenarioPastItsScaleFailsAloneInALoopRun(t *testing.T) {
	t.Parallel()
	b := setupService(t, serviceSetup{})
	body := []byte(`id: ZZ_steep_cascade
category: layer2_orchestration
description: a cascade whose depth grows a hundredfold a level, with no max
parameters: {depth: {base: 12, growth: 100}}
faults: [{kind: policy_cascade}]
safeguards: {expected: [policy_cascade_limit]}
invariants: [audit_chain_intact]
`)
	steep, err := chaos.Parse("steep.yaml", body)
	if err != nil {
		t.Fatal(err)
	}
	b.lib.Scenarios = append(b.lib.Scenarios, steep)
	ctx := context.Background()
	// Escalated to 5 by the loop: 12 × 100⁴ = 1.2e9 deep.
	if err := b.st.SaveScenarioState(ctx, chaos.ScenarioState{Scenario: steep.ID, Difficulty: 5, Runs: 25, LastVerdict: engine.ChaosPassed}); err != nil {
		t.Fatal(err)
	}
	run, err := b.svc.RunLoop(ctx, engine.ChaosRequest{Scenarios: []string{cascade, steep.ID}}, nil)
	if err != nil {
		t.Fatalf("loop run with a scenario past its scale: %v; want it run, that scenario failed alone", err)
	}
	if run.State != engine.ChaosError || len(run.Scenarios) != 2 {
		t.Fatalf("run state %q with %d verdicts (error %q)", run.State, len(run.Scenarios), run.Error)
	}
	good, bad := run.Scenarios[0], run.Scenarios[1]
	if good.ID != cascade || !good.Passed {
		t.Errorf("the scenario beside it: %+v", good)
	}
	if bad.ID != steep.ID || bad.Passed || bad.Difficulty != 5 ||
		!strings.Contains(bad.Error, "its parameters cannot be met: scenario ZZ_steep_cascade at difficulty 5 scales parameters.depth to 1.2e+09, beyond 1e+09") {
		t.Errorf("the scenario past its scale: %+v", bad)
	}

	_, err = b.svc.StartChaos(ctx, engine.ChaosRequest{Scenarios: []string{cascade, steep.ID}, Operator: "alice"})
	var re *engine.ChaosRequestError
	if !errors.As(err, &re) || re.Field != "difficulty" || !strings.Contains(re.Reason, "scales parameters.depth") {
		t.Fatalf("an operator naming it: %v; want the request refused on difficulty", err)
	}
}
