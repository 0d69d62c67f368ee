package chaos_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"grace/engine"
	"grace/engine/chaos"
	"grace/engine/clarity"
	"grace/engine/clock"
	"grace/engine/intent"
	"grace/engine/worker"
)

// TestLoopEndToEnd drives the loop with everything real but its clock: the
// chaos service running isolated engines, a live engine taking the
// remediation through governance and its workers, and the SQLite store
// keeping standing, findings and knowledge. policy_cascade_limit is off in
// the base configuration, so L2_event_policy_cascade fails until the
// loop's fix is through.
func TestLoopEndToEnd(t *testing.T) {
	t.Parallel()
	const id, g = "L2_event_policy_cascade", engine.SafeguardPolicyCascadeLimit
	full, err := chaos.LoadLibrary("")
	if err != nil {
		t.Fatal(err)
	}
	sc := full.Get(id)
	if sc == nil {
		t.Fatalf("%s is not in the library", id)
	}
	lib := &chaos.Library{Scenarios: []*chaos.Scenario{sc}}

	mainCfg := engine.Default()
	mainCfg.Cortex.Enabled = false
	mainCfg.Handlers[chaos.IntentModifyConfig] = worker.HandlerConfig{Kind: "sim", Latency: time.Millisecond}
	main, _ := startMain(t, mainCfg)

	clk := clock.NewFake(loopTime(2026, 3, 10, 22, 30))
	dir := t.TempDir()
	st := openStore(t, filepath.Join(dir, "grace.db"))
	base := engine.Default()
	base.Safeguards[g] = engine.SafeguardConfig{Enabled: false}
	svc, err := chaos.NewService(chaos.ServiceOptions{
		Runner:  &chaos.Runner{Config: base, Open: openTarget, Deadline: 2 * time.Second},
		Library: lib, Store: st, Main: main, DataDir: dir, Clock: clk,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(svc.Close)
	cfg := engine.Default().Chaos.Loop
	cfg.Enabled = true
	loop, err := chaos.NewLoop(cfg, chaos.LoopDeps{Library: lib, Runner: svc, Store: st, Governor: main, Clock: clk, DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	svc.SetLoopState(loop.State)
	if err := loop.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(loop.Stop)
	idle := func() { loopWait(t, "the loop to wait", func() bool { return clk.Waiters() == 2 }) }
	idle()
	ctx := context.Background()

	clk.Advance(30 * time.Minute) // 23:00
	idle()
	fs, err := st.Findings(ctx)
	// Proposed, or already applied: the live engine may have executed
	// the remediation by now.
	if err != nil || len(fs) != 1 || (fs[0].State != engine.FindingProposed && fs[0].State != engine.FindingApplied) ||
		fs[0].Safeguard != g || fs[0].RemediationIntent == "" {
		t.Fatalf("findings after the failing run: %+v, %v", fs, err)
	}
	f := fs[0]
	in, err := main.Get(ctx, f.RemediationIntent)
	if err != nil || in.Type != chaos.IntentModifyConfig || in.Tier != 1 || in.Actor != chaos.LoopActor {
		t.Fatalf("remediation intent %+v, %v", in, err)
	}

	// The live engine executes the Tier 1 intent; the loop sees it end.
	loopWait(t, "the remediation applied", func() bool {
		fs, _ := st.Findings(ctx)
		return len(fs) == 1 && fs[0].State == engine.FindingApplied
	})
	if in, _ := main.Get(ctx, f.RemediationIntent); in.State != intent.StateCompleted {
		t.Fatalf("remediation intent is %s", in.State)
	}

	// The next day's 23:00 runs it again with the fix: verified.
	for loop.State().NextSlot != "23:00" {
		clk.Advance(loop.State().NextRunAt.Sub(clk.Now()))
		idle()
	}
	clk.Advance(loop.State().NextRunAt.Sub(clk.Now()))
	idle()
	fs, _ = st.Findings(ctx)
	ks, err := st.Knowledge(ctx)
	if len(fs) != 1 || fs[0].State != engine.FindingVerified || err != nil || len(ks) != 1 || ks[0].FindingID != f.ID {
		t.Fatalf("after the verifying run: findings %+v, knowledge %+v, %v", fs, ks, err)
	}
	runs, _ := st.ChaosRuns(ctx, 10)
	if len(runs) != 2 || runs[0].RunID != fs[0].VerifiedBy || runs[0].State != engine.ChaosPassed || runs[1].State != engine.ChaosFailed ||
		runs[0].Trigger != engine.ChaosTriggerLoop {
		t.Fatalf("stored runs %+v", runs)
	}
	status, err := svc.ChaosStatus(ctx)
	if err != nil || !status.Loop.Enabled || status.Loop.LastRunID != runs[0].RunID || len(status.Knowledge) != 1 {
		t.Fatalf("chaos status %+v, %v", status, err)
	}
	// The loop's decisions are on the live engine's record.
	for _, what := range []string{chaos.WhatChaosFindingOpened, chaos.WhatChaosFinding + engine.FindingApplied, chaos.WhatChaosFinding + engine.FindingVerified} {
		loopWait(t, what+" on the record", func() bool {
			es, err := main.Search(ctx, clarity.Query{Action: what, Limit: 1})
			return err == nil && len(es) == 1
		})
	}
}
