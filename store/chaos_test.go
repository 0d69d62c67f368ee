package store

import (
	"context"
	"errors"
	"testing"
	"time"

	"grace/engine"
	"grace/engine/chaos"
)

func TestChaosRunsRoundTrip(t *testing.T) {
	t.Parallel()
	tb := setup(t)
	ctx := context.Background()
	base := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	lin := true
	for i, id := range []string{"chaos-b", "chaos-a", "chaos-c"} {
		run := engine.ChaosRun{RunID: id, State: engine.ChaosRunning, Trigger: engine.ChaosTriggerOperator, Operator: "alice",
			StartedAt: base.Add(time.Duration(i) * time.Minute), Requested: []string{"L2_x"}, Scenarios: []engine.ChaosResult{},
			Progress: &engine.ChaosProgress{RunID: id, Phase: engine.ChaosPhaseInject}}
		if err := tb.s.SaveChaosRun(ctx, run); err != nil {
			t.Fatal(err)
		}
	}
	// The end of chaos-a replaces its running row.
	done := engine.ChaosRun{RunID: "chaos-a", State: engine.ChaosFailed, Trigger: engine.ChaosTriggerOperator, Operator: "alice",
		StartedAt: base.Add(time.Minute), FinishedAt: base.Add(2 * time.Minute), Requested: []string{"L2_x"},
		Scenarios: []engine.ChaosResult{{ID: "L2_x", Category: "layer2_orchestration", Difficulty: 2, DurationMS: 812,
			Failures:   []string{"safeguard htm_rate_limit did not fire (it is switched off)"},
			Safeguards: []engine.ChaosSafeguardResult{{Name: "htm_rate_limit", Expected: true}},
			Invariants: engine.ChaosInvariantResult{AuditIntact: true, Linearizable: &lin}, Records: map[string]int{"intent_received": 7},
			RecordsDB: "/data/chaos/runs/chaos-a/L2_x.db"}}}
	if err := tb.s.SaveChaosRun(ctx, done); err != nil {
		t.Fatal(err)
	}
	got, err := tb.s.ChaosRun(ctx, "chaos-a")
	if err != nil {
		t.Fatal(err)
	}
	if got.State != engine.ChaosFailed || !got.FinishedAt.Equal(done.FinishedAt) || len(got.Scenarios) != 1 ||
		got.Scenarios[0].Records["intent_received"] != 7 || got.Scenarios[0].Invariants.Linearizable == nil ||
		got.Scenarios[0].RecordsDB != done.Scenarios[0].RecordsDB || got.Scenarios[0].Failures[0] != done.Scenarios[0].Failures[0] {
		t.Fatalf("ChaosRun = %+v, want %+v", got, done)
	}
	if _, err := tb.s.ChaosRun(ctx, "chaos-none"); !errors.Is(err, engine.ErrChaosRunNotFound) {
		t.Fatalf("ChaosRun of an unknown ID = %v, want ErrChaosRunNotFound", err)
	}
	runs, err := tb.s.ChaosRuns(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, r := range runs {
		ids = append(ids, r.RunID)
		if r.Progress != nil {
			t.Errorf("run %s stored with its live progress", r.RunID)
		}
	}
	if len(ids) != 3 || ids[0] != "chaos-c" || ids[1] != "chaos-a" || ids[2] != "chaos-b" {
		t.Fatalf("ChaosRuns order = %v, want newest first [chaos-c chaos-a chaos-b]", ids)
	}
	if runs, _ := tb.s.ChaosRuns(ctx, 1); len(runs) != 1 || runs[0].RunID != "chaos-c" {
		t.Fatalf("ChaosRuns(1) = %+v", runs)
	}
}

func TestChaosStandingFindingsKnowledgeRoundTrip(t *testing.T) {
	t.Parallel()
	tb := setup(t)
	ctx := context.Background()
	st := chaos.ScenarioState{Scenario: "L2_x", Difficulty: 3, Streak: 4, LastVerdict: engine.ChaosPassed, LastRunAt: 1764331200123, Runs: 9}
	if err := tb.s.SaveScenarioState(ctx, st); err != nil {
		t.Fatal(err)
	}
	st.Streak = 5
	if err := tb.s.SaveScenarioState(ctx, st); err != nil {
		t.Fatal(err)
	}
	states, err := tb.s.ScenarioStates(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(states) != 1 || states["L2_x"] != st {
		t.Fatalf("ScenarioStates = %+v, want %+v", states, st)
	}

	t0 := time.Date(2026, 11, 28, 2, 0, 0, 0, time.UTC)
	old := engine.ChaosFinding{ID: "f1", Scenario: "L2_x", Safeguard: "htm_rate_limit", State: engine.FindingOpen, CreatedAt: t0,
		UpdatedAt: t0, Playbook: "/p/f1.yaml", PlaybookYAML: "enable: htm_rate_limit\n"}
	newer := old
	newer.ID, newer.CreatedAt = "f2", t0.Add(time.Hour)
	for _, f := range []engine.ChaosFinding{old, newer} {
		if err := tb.s.SaveFinding(ctx, f); err != nil {
			t.Fatal(err)
		}
	}
	old.State = engine.FindingVerified
	if err := tb.s.SaveFinding(ctx, old); err != nil {
		t.Fatal(err)
	}
	fs, err := tb.s.Findings(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(fs) != 2 || fs[0].ID != "f2" || fs[1].ID != "f1" || fs[1].State != engine.FindingVerified || fs[1].PlaybookYAML != old.PlaybookYAML {
		t.Fatalf("Findings = %+v", fs)
	}
	for i, k := range []engine.ChaosKnowledge{{FindingID: "f1", Fix: "enable htm_rate_limit", VerifiedAt: t0}, {FindingID: "f2", Fix: "x", VerifiedAt: t0.Add(time.Hour)}} {
		k.VerifiedBy = []string{"chaos-1", "chaos-2"}[i]
		if err := tb.s.SaveKnowledge(ctx, k); err != nil {
			t.Fatal(err)
		}
	}
	ks, err := tb.s.Knowledge(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(ks) != 2 || ks[0].FindingID != "f2" || ks[1].VerifiedBy != "chaos-1" || !ks[1].VerifiedAt.Equal(t0) {
		t.Fatalf("Knowledge = %+v", ks)
	}
}
