package chaos_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"grace/engine"
	"grace/engine/chaos"
	"grace/engine/clarity"
)

// startMain starts a live engine over a real store, as grace serve does.
func startMain(t *testing.T, cfg engine.Config) (*engine.Engine, chaos.Target) {
	t.Helper()
	cfg.DB = filepath.Join(t.TempDir(), "live.db")
	tg, err := openTarget(context.Background(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	eng, err := engine.New(cfg, tg.Deps())
	if err != nil {
		t.Fatal(err)
	}
	if err := eng.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		eng.Stop()
		if err := tg.Close(); err != nil {
			t.Error(err)
		}
	})
	return eng, tg
}

func TestServiceLiveRun(t *testing.T) {
	t.Parallel()
	cfg := engine.Default()
	cfg.Cortex.Enabled = false
	cfg.Mesh.EpisodeQuiet = 100 * time.Millisecond
	main, rec := startMain(t, cfg)
	b := setupService(t, serviceSetup{cfg: cfg, main: main, deadline: 10 * time.Second})
	ctx := context.Background()
	sub, cancel := context.WithCancel(ctx)
	defer cancel()
	events := main.Subscribe(sub)

	run, err := b.svc.Run(ctx, engine.ChaosRequest{Scenarios: []string{storm}, Live: true, Operator: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	if run.State != engine.ChaosPassed || !run.Live || len(run.Scenarios) != 1 {
		t.Fatalf("live run = %+v", run)
	}
	res := run.Scenarios[0]
	if res.RecordsDB != "" || res.Records[engine.WhatFaultInjected] == 0 || !res.Invariants.AuditIntact {
		t.Fatalf("live result = %+v", res)
	}
	// No Tier 0 intent goes to the live engine's operators: the result
	// says the invariant was not exercised rather than "0" as if tested.
	if !mentions(res.Notes, "invariant no_unapproved_tier0 not exercised: no Tier 0 intent in this run") {
		t.Errorf("a live run without Tier 0 intents does not say no_unapproved_tier0 was not exercised: %v", res.Notes)
	}
	if s := main.Snapshot(); !s.Ready || s.Layer2.Paused {
		t.Fatalf("live engine left degraded: ready %v, paused %v", s.Ready, s.Layer2.Paused)
	}
	// Progress went out on the live engine's event stream.
	sawChaos := false
	for !sawChaos {
		select {
		case ev := <-events:
			sawChaos = ev.Kind == engine.EventChaos && ev.Chaos != nil && ev.Chaos.RunID == run.RunID
		case <-time.After(5 * time.Second):
			t.Fatal("no chaos event on the live engine's stream")
		}
	}
	// The run is on the live record: who asked, the verdict, the end.
	for _, what := range []string{engine.WhatChaosRunStarted, engine.WhatChaosVerdict, engine.WhatChaosRunFinished} {
		es, err := rec.Search(ctx, clarity.Query{Action: what, Limit: 5})
		if err != nil || len(es) != 1 || es[0].Context["run_id"] != run.RunID {
			t.Fatalf("%s records on the live record: %+v, %v", what, es, err)
		}
		if what == engine.WhatChaosRunStarted && es[0].Who != "alice" {
			t.Errorf("run started by %q, want alice", es[0].Who)
		}
	}

	// A scenario that reconfigures its engine is refused live, by name.
	_, err = b.svc.StartChaos(ctx, engine.ChaosRequest{Scenarios: []string{cascade}, Live: true})
	var re *engine.ChaosRequestError
	if !errors.As(err, &re) || re.Field != "scenarios" || !strings.Contains(re.Reason, cascade) || !strings.Contains(re.Reason, "policy_cascade") {
		t.Fatalf("live cascade = %v, want refused naming the scenario", err)
	}
}

func TestServiceLiveHaltLeavesTheEngineWhole(t *testing.T) {
	t.Parallel()
	cfg := engine.Default()
	cfg.Cortex.Enabled = false
	main, rec := startMain(t, cfg)
	b := setupService(t, serviceSetup{cfg: cfg, main: main, deadline: 10 * time.Second})
	// A slow storm: still flooding when the halt comes.
	b.lib.Get(storm).Parameters["events_per_second"] = chaos.Parameter{Base: 50}
	ctx := context.Background()
	run, err := b.svc.StartChaos(ctx, engine.ChaosRequest{Scenarios: []string{storm}, Live: true})
	if err != nil {
		t.Fatal(err)
	}
	b.waitPhase(t, storm, engine.ChaosPhaseInject)
	if h, err := b.svc.HaltChaos(ctx, "carol", "stop the storm"); err != nil || h.Halted != 1 {
		t.Fatalf("halt = %+v, %v", h, err)
	}
	got, err := b.svc.ChaosRun(ctx, run.RunID)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("halted live run: %s", got.Error)
	if got.State != engine.ChaosHalted || got.HaltedBy != "carol" || !strings.Contains(got.Error, "live engine's steady state holds") {
		t.Fatalf("halted live run = %+v", got)
	}
	if s := main.Snapshot(); !s.Ready || s.Layer2.Paused {
		t.Fatalf("live engine left degraded: ready %v, paused %v", s.Ready, s.Layer2.Paused)
	}
	es, err := rec.Search(ctx, clarity.Query{Action: engine.WhatChaosRunHalted, Limit: 5})
	if err != nil || len(es) != 1 || es[0].Who != "carol" {
		t.Fatalf("halt on the live record: %+v, %v", es, err)
	}
}
