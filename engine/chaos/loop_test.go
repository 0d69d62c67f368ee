package chaos_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"grace/engine"
	"grace/engine/chaos"
)

func TestLoopRunsTheDailySchedule(t *testing.T) {
	t.Parallel()
	b := setupLoop(t, loopLibrary(), loopTime(2026, 3, 10, 0, 30))
	b.start(t)

	day := []struct {
		slot      string
		at        time.Time
		scenarios string
	}{
		{"02:00", loopTime(2026, 3, 10, 2, 0), "DIRT_kernel_kill"},
		{"08:00", loopTime(2026, 3, 10, 8, 0), "DIRT_acl_flood,L2_HTM_queue_flood_stress"},
		{"12:00", loopTime(2026, 3, 10, 12, 0), "DIRT_resource_siege,L2_trigger_mesh_storm"},
		{"18:00", loopTime(2026, 3, 10, 18, 0), "FIT_multi_fault,L2_worker_dropout_chaos"},
		// All DiRT, all FIT, then the Layer 2 and Jepsen scenarios not
		// run earlier that day.
		{"23:00", loopTime(2026, 3, 10, 23, 0), "DIRT_acl_flood,DIRT_kernel_kill,DIRT_resource_siege," +
			"FIT_handler_errors,FIT_handler_latency,FIT_multi_fault,FIT_surge_with_worker_loss," +
			"L2_event_policy_cascade,L2_scheduler_pause_during_load," +
			"JEPSEN_crash_restart,JEPSEN_paused_approvals,JEPSEN_store_stall"},
		{"02:00", loopTime(2026, 3, 11, 2, 0), "DIRT_kernel_kill"},
	}
	for i, want := range day {
		st := b.loop.State()
		if !st.Enabled || st.NextSlot != want.slot || !st.NextRunAt.Equal(want.at) || loopJoined(st.NextScenarios) != want.scenarios {
			t.Fatalf("slot %d: state says next %s at %v running %v; want %s at %v running %s",
				i, st.NextSlot, st.NextRunAt, st.NextScenarios, want.slot, want.at, want.scenarios)
		}
		// A minute before, nothing runs.
		b.advanceTo(t, want.at.Add(-time.Minute))
		if n := b.runner.callCount(); n != i {
			t.Fatalf("before %s: %d runs, want %d", want.slot, n, i)
		}
		b.advanceTo(t, want.at)
		if n := b.runner.callCount(); n != i+1 {
			t.Fatalf("at %s: %d runs, want %d", want.slot, n, i+1)
		}
		c := b.runner.call(i)
		if got := loopJoined(c.req.Scenarios); got != want.scenarios {
			t.Errorf("%s ran %s, want %s", want.slot, got, want.scenarios)
		}
		if c.req.Trigger != engine.ChaosTriggerLoop || c.req.Operator != chaos.LoopActor || c.req.Difficulty != 0 || !c.at.Equal(want.at) {
			t.Errorf("%s: request %+v at %v: want trigger loop, operator %s, difficulty 0 (each scenario's own), at %v",
				want.slot, c.req, c.at, chaos.LoopActor, want.at)
		}
		if st := b.loop.State(); st.LastRunID != "run_"+strconv.Itoa(i+1) || !st.LastRunAt.Equal(want.at) || st.Skipped != 0 {
			t.Errorf("after %s: state %+v", want.slot, st)
		}
	}
}

func TestLoopSkipsSlotsThatComeWhileARunGoes(t *testing.T) {
	t.Parallel()
	b := setupLoop(t, loopLibrary(), loopTime(2026, 3, 10, 7, 0))
	hold, started := make(chan struct{}), make(chan struct{}, 1)
	b.runner.set(func(f *loopRunnerFake) { f.hold, f.started = hold, started })
	b.start(t)

	b.clk.Advance(time.Hour) // 08:00: the run starts and holds
	<-started
	b.clk.Advance(4*time.Hour + 30*time.Minute) // 12:30: the 12:00 slot came while the run went
	close(hold)
	b.waitIdle(t)
	st := b.loop.State()
	if st.Skipped != 1 || st.NextSlot != "18:00" || b.runner.callCount() != 1 {
		t.Fatalf("after a run from 08:00 to 12:30: skipped %d, next %s, %d runs; want 1 skipped, next 18:00, 1 run",
			st.Skipped, st.NextSlot, b.runner.callCount())
	}

	// 18:00: another run (an operator's) is going: skipped, not queued.
	b.runner.set(func(f *loopRunnerFake) { f.busy = true })
	b.advanceTo(t, loopTime(2026, 3, 10, 18, 0))
	b.runner.set(func(f *loopRunnerFake) { f.busy = false })
	if st := b.loop.State(); st.Skipped != 2 || st.NextSlot != "23:00" {
		t.Fatalf("after a busy 18:00: skipped %d, next %s; want 2, 23:00", st.Skipped, st.NextSlot)
	}
	// Each skip is on the record, saying which slot and why.
	var skips []string
	for _, n := range b.rec.notesOf(engine.WhatChaosSlotSkipped) {
		skips = append(skips, fmt.Sprint(n.Context["slot"], ": ", strings.Join(n.Why, "; ")))
		if n.RunID != "" || n.Who != chaos.LoopActor {
			t.Errorf("slot skip record %+v: want no run, by %s", n, chaos.LoopActor)
		}
	}
	if len(skips) != 2 || !strings.Contains(skips[0], "08:00: 1 more slot came while the 08:00 slot ran") ||
		skips[1] != "18:00: another chaos run was going" {
		t.Fatalf("slot skip records %q; want the 12:00 slot skipped during the 08:00 run, then 18:00 busy", skips)
	}
	// 23:00 makes up for the Layer 2 scenario the skipped slots did not run.
	c := b.nextRun(t)
	want := "DIRT_acl_flood,DIRT_kernel_kill,DIRT_resource_siege,FIT_handler_errors,FIT_handler_latency,FIT_multi_fault,FIT_surge_with_worker_loss," +
		"L2_event_policy_cascade,L2_scheduler_pause_during_load,L2_trigger_mesh_storm,L2_worker_dropout_chaos," +
		"JEPSEN_crash_restart,JEPSEN_paused_approvals,JEPSEN_store_stall"
	if got := loopJoined(c.req.Scenarios); got != want || !c.at.Equal(loopTime(2026, 3, 10, 23, 0)) || b.runner.callCount() != 2 {
		t.Fatalf("23:00 ran %s at %v (%d runs), want %s", got, c.at, b.runner.callCount(), want)
	}
}

func TestLoopDoesNotPileUpMissedSlots(t *testing.T) {
	t.Parallel()
	b := setupLoop(t, loopLibrary(), loopTime(2026, 3, 10, 1, 0))
	b.start(t)

	// The clock jumps a day: 02:00 (late by a day), 08:00, 12:00, 18:00
	// and 23:00 are missed; none runs.
	b.advanceTo(t, loopTime(2026, 3, 11, 1, 30))
	st := b.loop.State()
	if b.runner.callCount() != 0 || st.Skipped != 5 || !st.NextRunAt.Equal(loopTime(2026, 3, 11, 2, 0)) {
		t.Fatalf("after a day's gap: %d runs, skipped %d, next %v; want 0 runs, 5 skipped, next 02:00 the next day",
			b.runner.callCount(), st.Skipped, st.NextRunAt)
	}
	// Only the next slot runs, once.
	c := b.nextRun(t)
	if loopJoined(c.req.Scenarios) != "DIRT_kernel_kill" || b.runner.callCount() != 1 || b.loop.State().Skipped != 5 {
		t.Fatalf("after the gap ran %v (%d runs, skipped %d)", c.req.Scenarios, b.runner.callCount(), b.loop.State().Skipped)
	}

	// A wake a little late (within chaos.SlotGrace) still runs the slot.
	b.advanceTo(t, loopTime(2026, 3, 11, 8, 0).Add(chaos.SlotGrace))
	if b.runner.callCount() != 2 {
		t.Fatalf("a wake %v late did not run the slot", chaos.SlotGrace)
	}
}

func TestLoopCountsSlotsMissedWhileTheEngineWasDown(t *testing.T) {
	t.Parallel()
	start := loopTime(2026, 3, 12, 0, 30)
	b := setupLoop(t, loopLibrary(), start)
	// The loop's last run ended two days before this start.
	_ = b.store.SaveChaosRun(context.Background(), engine.ChaosRun{RunID: "run_old", Trigger: engine.ChaosTriggerLoop,
		StartedAt: start.Add(-48*time.Hour - time.Minute), FinishedAt: start.Add(-48 * time.Hour)})
	// An operator's run since does not count as the loop's.
	_ = b.store.SaveChaosRun(context.Background(), engine.ChaosRun{RunID: "run_op", Trigger: engine.ChaosTriggerOperator,
		StartedAt: start.Add(-time.Hour), FinishedAt: start.Add(-time.Hour)})
	b.start(t)
	st := b.loop.State()
	if st.Skipped != 10 || st.LastRunID != "run_old" || st.NextSlot != "02:00" || b.runner.callCount() != 0 {
		t.Fatalf("after two days down: %+v, %d runs; want 10 skipped, last run run_old, next 02:00, nothing run", st, b.runner.callCount())
	}
}

func TestLoopEscalation(t *testing.T) {
	t.Parallel()
	for _, counted := range []bool{false, true} {
		name := "loop counts the streak"
		if counted {
			name = "runner counts the streak"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			const id = "DIRT_kernel_kill"
			b := setupLoop(t, loopLibrary(id), loopTime(2026, 3, 10, 0, 0))
			b.cfg.MaxDifficulty = 3
			b.runner.countStanding = counted
			fail := false
			b.runner.verdict = func(sc *chaos.Scenario, d int, _ map[string]engine.SafeguardConfig) engine.ChaosResult {
				res := loopPassed(sc, d)
				if fail {
					res.Passed, res.Failures = false, []string{"2 intents lost"}
				}
				return res
			}
			b.start(t)
			runOnce := func(wantDifficulty, thenDifficulty, thenStreak int) {
				t.Helper()
				c := b.nextRun(t)
				if d := c.difficulties[id]; d != wantDifficulty {
					t.Fatalf("run %d at difficulty %d, want %d", b.runner.callCount(), d, wantDifficulty)
				}
				if st := b.store.state(id); st.Difficulty != thenDifficulty || st.Streak != thenStreak {
					t.Fatalf("after run %d: difficulty %d streak %d, want %d and %d",
						b.runner.callCount(), st.Difficulty, st.Streak, thenDifficulty, thenStreak)
				}
			}
			for i := 1; i <= 4; i++ { // four passes: not yet
				runOnce(1, 1, i)
			}
			runOnce(1, 2, 0) // the fifth: difficulty 2, streak reset
			for i := 1; i <= 3; i++ {
				runOnce(2, 2, i)
			}
			b.runner.set(func(*loopRunnerFake) { fail = true })
			runOnce(2, 2, 0) // a failure resets the streak, keeps the difficulty
			b.runner.set(func(*loopRunnerFake) { fail = false })
			for i := 1; i <= 4; i++ {
				runOnce(2, 2, i)
			}
			runOnce(2, 3, 0)
			for i := 1; i <= 6; i++ { // capped at chaos.loop.max_difficulty 3
				runOnce(3, 3, i)
			}
			if st := b.store.state(id); st.Runs != 20 || st.LastVerdict != engine.ChaosPassed {
				t.Fatalf("standing %+v, want 20 runs, last loopPassed", st)
			}
			if n := loopCount(b.rec.whats(), chaos.WhatChaosLoopEscalated); n != 2 {
				t.Fatalf("%d escalations on the record, want 2", n)
			}

			// A restart keeps the difficulty: the next run is at 3.
			b.loop.Stop()
			b.start(t)
			if c := b.nextRun(t); c.difficulties[id] != 3 {
				t.Fatalf("after a restart the run is at difficulty %d, want 3", c.difficulties[id])
			}
		})
	}
}

func TestLoopStopHaltsARunInProgress(t *testing.T) {
	t.Parallel()
	b := setupLoop(t, loopLibrary(), loopTime(2026, 3, 10, 1, 59))
	hold, started := make(chan struct{}), make(chan struct{}, 1)
	b.runner.set(func(f *loopRunnerFake) { f.hold, f.started = hold, started })
	b.start(t)
	b.clk.Advance(time.Minute)
	<-started
	b.loop.Stop() // returns only once the run saw its context end and the goroutine quit
	b.loop.Stop()
}

func TestNewLoopRefusesBadInput(t *testing.T) {
	t.Parallel()
	b := setupLoop(t, loopLibrary(), loopTime(2026, 3, 10, 0, 0))
	deps := chaos.LoopDeps{Library: b.lib, Runner: b.runner, Store: b.store, Governor: b.gov}
	cfg := b.cfg
	cfg.EscalateAfter = 0
	if _, err := chaos.NewLoop(cfg, deps); err == nil || !strings.Contains(err.Error(), "chaos.loop.escalate_after") {
		t.Errorf("escalate_after 0: %v, want an error naming chaos.loop.escalate_after", err)
	}
	// A playbooks folder under a file: every finding would have been lost
	// to a line in the log when its playbook could not be written.
	cfg = b.cfg
	cfg.Enabled = true
	file := filepath.Join(t.TempDir(), "playbooks")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, dir := range []string{file, filepath.Join(file, "sub")} {
		cfg.PlaybooksDir = dir
		if _, err := chaos.NewLoop(cfg, deps); err == nil || err.Error() != "chaos.loop.playbooks_dir "+dir+": "+file+" is not a folder" {
			t.Errorf("playbooks_dir %s: %v, want an error naming chaos.loop.playbooks_dir and %s", dir, err, file)
		}
	}
	deps.Runner = nil
	if _, err := chaos.NewLoop(b.cfg, deps); err == nil {
		t.Error("no runner: no error")
	}
	// Disabled: Start does nothing and State says so.
	cfg = b.cfg
	cfg.Enabled = false
	deps.Runner = b.runner
	l, err := chaos.NewLoop(cfg, deps)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Start(context.Background()); err != nil || l.State().Enabled || b.clk.Waiters() != 0 {
		t.Fatalf("disabled loop: start %v, state %+v, %d timers", err, l.State(), b.clk.Waiters())
	}
	l.Stop()
}

func loopCount(s []string, v string) int {
	n := 0
	for _, x := range s {
		if x == v {
			n++
		}
	}
	return n
}
