package chaos_test

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"grace/engine"
	"grace/engine/chaos"
)

// deadPID is the process ID of a process that has ended.
func deadPID(t *testing.T) int {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	return cmd.Process.Pid
}

// A run left in state running by a process that stopped (a crash) is
// marked as an error by the next service on the store, unless a live
// process holds it in <data>/chaos/running.
func TestServiceMarksRunsOfDeadProcessesInterrupted(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	st := openStore(t, filepath.Join(dir, "grace.db"))
	started := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
	runs := map[string]engine.ChaosRun{}
	for i, id := range []string{"crashed", "held-by-cli", "held-by-dead-service", "held-by-reused-pid", "passed"} {
		run := engine.ChaosRun{RunID: id, State: engine.ChaosRunning, Trigger: engine.ChaosTriggerOperator,
			StartedAt: started.Add(time.Duration(i) * time.Second), Requested: []string{cascade}, Scenarios: []engine.ChaosResult{}}
		if id == "passed" {
			run.State, run.FinishedAt = engine.ChaosPassed, run.StartedAt.Add(time.Second)
		}
		runs[id] = run
		if err := st.SaveChaosRun(ctx, run); err != nil {
			t.Fatal(err)
		}
	}
	running := filepath.Join(dir, "chaos", "running")
	if err := os.MkdirAll(running, 0o700); err != nil {
		t.Fatal(err)
	}
	// A live grace chaos run (this test process) holds one run; a service
	// whose process has gone held another.
	write := func(name, runID string) string {
		p := filepath.Join(running, name)
		if err := os.WriteFile(p, []byte(runID+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	write(strconv.Itoa(os.Getpid()), "held-by-cli")
	stale := write(strconv.Itoa(deadPID(t))+".service", "held-by-dead-service")
	// A mark written an hour ago names a process ID that a process
	// started since now holds: the service that wrote it has gone.
	later := exec.Command("sleep", "60")
	if err := later.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = later.Process.Kill(); _ = later.Wait() })
	reused := write(strconv.Itoa(later.Process.Pid)+".service", "held-by-reused-pid")
	if err := os.Chtimes(reused, time.Now().Add(-time.Hour), time.Now().Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}

	lib, err := chaos.LoadLibrary("")
	if err != nil {
		t.Fatal(err)
	}
	svc, err := chaos.NewService(chaos.ServiceOptions{Runner: &chaos.Runner{Config: engine.Default(), Open: openTarget},
		Library: lib, Store: st, DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(svc.Close)

	want := map[string]string{"crashed": engine.ChaosError, "held-by-cli": engine.ChaosRunning,
		"held-by-dead-service": engine.ChaosError, "held-by-reused-pid": engine.ChaosError, "passed": engine.ChaosPassed}
	for id, state := range want {
		got, err := st.ChaosRun(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if got.State != state {
			t.Errorf("run %s: state %s, want %s", id, got.State, state)
		}
		if state == engine.ChaosError && (got.Error != chaos.InterruptedError || got.FinishedAt.IsZero()) {
			t.Errorf("run %s: error %q, finished %v; want %q and a finish time", id, got.Error, got.FinishedAt, chaos.InterruptedError)
		}
		if id == "passed" && !got.FinishedAt.Equal(runs[id].FinishedAt) {
			t.Errorf("a finished run was changed: %+v", got)
		}
	}
	if _, err := os.Stat(stale); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the dead service's mark %s is still there (%v)", stale, err)
	}
}

// A run in progress is marked as held: another service opened on the
// same store meanwhile (a console beside grace serve) leaves it running,
// and the mark goes when the run ends.
func TestServiceDoesNotInterruptARunInProgressElsewhere(t *testing.T) {
	t.Parallel()
	cfg := engine.Default()
	cfg.Safeguards[engine.SafeguardSchedulerAutoResume] = engine.SafeguardConfig{Enabled: false}
	b := setupService(t, serviceSetup{cfg: cfg, deadline: time.Minute})
	const pause = "L2_scheduler_pause_during_load"
	b.lib.Get(pause).Parameters["queued"] = chaos.Parameter{Base: 20}
	ctx := context.Background()
	run, err := b.svc.StartChaos(ctx, engine.ChaosRequest{Scenarios: []string{pause}})
	if err != nil {
		t.Fatal(err)
	}
	b.waitPhase(t, pause, engine.ChaosPhaseWatch)
	other, err := chaos.NewService(chaos.ServiceOptions{Runner: &chaos.Runner{Config: cfg, Open: openTarget},
		Library: b.lib, Store: b.st, DataDir: b.dir})
	if err != nil {
		t.Fatal(err)
	}
	other.Close()
	if got, err := b.st.ChaosRun(ctx, run.RunID); err != nil || got.State != engine.ChaosRunning {
		t.Fatalf("run in progress after another service started: %+v, %v", got, err)
	}
	if _, err := b.svc.HaltChaos(ctx, "bob", ""); err != nil {
		t.Fatal(err)
	}
	mark := filepath.Join(b.dir, "chaos", "running", strconv.Itoa(os.Getpid())+".service")
	if _, err := os.Stat(mark); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("the run's mark %s is still there after the run (%v)", mark, err)
	}
	if got, err := b.st.ChaosRun(ctx, run.RunID); err != nil || got.State != engine.ChaosHalted {
		t.Fatalf("run after halt: %+v, %v", got, err)
	}
}
