package tui

import (
	"strings"
	"testing"
	"time"

	"grace/engine"
)

// TestRunDetailOfAScenarioNotCarriedOut: a scenario that could not be
// carried out measured nothing, so its detail says why and that the
// invariants were not checked, rather than "audit BROKEN" from a zero
// result.
func TestRunDetailOfAScenarioNotCarriedOut(t *testing.T) {
	t.Parallel()
	var cf chaosFake
	b := setupWith(t, func(a *fakeAPI) engine.OperatorAPI {
		cf = newChaosFake(a)
		run := engine.ChaosRun{RunID: "chr_01JPBAERR0001", State: engine.ChaosError, Trigger: engine.ChaosTriggerOperator, Operator: "ops",
			StartedAt: fixedNow.Add(-time.Minute), FinishedAt: fixedNow, Requested: []string{"QA_too_big"},
			Error: "QA_too_big: scales parameters.tasks to 1e+12",
			Scenarios: []engine.ChaosResult{{ID: "QA_too_big", Category: "layer2_orchestration", Difficulty: 1,
				Error: "scales parameters.tasks to 1e+12, past 1e9: lower the difficulty"}}}
		cf.fakeChaos.history = append([]engine.ChaosRun{run}, cf.fakeChaos.history...)
		return cf
	})
	b.run(t, b.press(t, "3"))
	b.run(t, b.press(t, "l"))
	b.run(t, b.press(t, "<enter>"))
	v := b.view()
	if !strings.Contains(v, "not carried out: scales parameters.tasks") || !strings.Contains(v, "not checked") {
		t.Fatalf("the detail does not say the scenario was not carried out:\n%s", v)
	}
	if strings.Contains(v, "BROKEN") {
		t.Errorf("a scenario not carried out shows a broken audit:\n%s", v)
	}
}
