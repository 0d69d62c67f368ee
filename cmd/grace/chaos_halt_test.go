//go:build unix

package main

import (
	"errors"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// startSleeper starts a process that dies of SIGINT, and reaps it at the
// end of the test.
func startSleeper(t *testing.T) *exec.Cmd {
	t.Helper()
	cmd := exec.Command("sleep", "60")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	})
	return cmd
}

// waitSignal waits for cmd to end and returns the signal that ended it.
func waitSignal(t *testing.T, cmd *exec.Cmd) syscall.Signal {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			t.Fatalf("pid %d ended with %v, not a signal", cmd.Process.Pid, err)
		}
		ws := ee.Sys().(syscall.WaitStatus)
		if !ws.Signaled() {
			t.Fatalf("pid %d exited %d, not by a signal", cmd.Process.Pid, ws.ExitStatus())
		}
		return ws.Signal()
	case <-time.After(10 * time.Second):
		t.Fatalf("pid %d did not end", cmd.Process.Pid)
		return 0
	}
}

func announce(t *testing.T, dir string, pid int, runID string) string {
	t.Helper()
	p := filepath.Join(dir, strconv.Itoa(pid))
	if err := os.WriteFile(p, []byte(runID+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// grace chaos halt interrupts each live announced process, removes the
// announcements of processes that have gone (or whose ID a later process
// took), and leaves other files alone.
func TestHaltLocalChaosInterruptsAnnouncedProcesses(t *testing.T) {
	// A shell that started the tests in the background may have left
	// SIGINT ignored, which children inherit; a handler here makes the
	// children start with the default action (die of it).
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt)
	defer signal.Stop(sigs)

	dir := filepath.Join(t.TempDir(), "chaos", "running")
	if got, err := haltLocalChaos(dir, "tester", "a test"); err != nil || len(got.halted)+len(got.stale) != 0 {
		t.Fatalf("no folder: %+v, %v", got, err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	live := startSleeper(t)
	livePath := announce(t, dir, live.Process.Pid, "chaos-live")

	gone := exec.Command("true")
	if err := gone.Run(); err != nil {
		t.Fatal(err)
	}
	gonePath := announce(t, dir, gone.Process.Pid, "chaos-gone")

	// A process started after its ID was announced is not the announcer.
	reused := startSleeper(t)
	reusedPath := announce(t, dir, reused.Process.Pid, "chaos-old")
	old := time.Now().Add(-time.Hour)
	if err := os.Chtimes(reusedPath, old, old); err != nil {
		t.Fatal(err)
	}
	other := filepath.Join(dir, "README")
	if err := os.WriteFile(other, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	self := announce(t, dir, os.Getpid(), "chaos-self")

	got, err := haltLocalChaos(dir, "tester", "a test")
	if err != nil {
		t.Fatal(err)
	}
	if len(got.halted) != 1 || got.halted[0] != (localChaosRun{PID: live.Process.Pid, RunID: "chaos-live"}) {
		t.Fatalf("halted = %+v", got.halted)
	}
	if len(got.stale) != 2 {
		t.Fatalf("stale = %+v", got.stale)
	}
	if sig := waitSignal(t, live); sig != syscall.SIGINT {
		t.Fatalf("the announced process got %v, want SIGINT", sig)
	}
	for _, p := range []string{gonePath, reusedPath} {
		if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("stale announcement %s not removed", p)
		}
	}
	for _, p := range []string{livePath, other, self} {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("%s was removed: %v", p, err)
		}
	}
	if err := reused.Process.Signal(syscall.Signal(0)); err != nil {
		t.Fatalf("the process with the reused ID was signalled: %v", err)
	}
}
