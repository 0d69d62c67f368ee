//go:build linux

package worker

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// uniqueOwner is an owner no other test, process or run shares.
func uniqueOwner(t *testing.T) string {
	return fmt.Sprintf("test %s pid %d at %d", t.Name(), os.Getpid(), time.Now().UnixNano())
}

// startSleeper starts "sleep 300" with extra environment entries and makes
// sure it is killed and reaped at the end of the test.
func startSleeper(t *testing.T, env ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command("sleep", "300")
	cmd.Env = append(os.Environ(), env...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	return cmd
}

// processMark is the EnvOwnerProcess value of cmd's process.
func processMark(t *testing.T, cmd *exec.Cmd) string {
	t.Helper()
	start, _, err := procStart(cmd.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	return strconv.Itoa(cmd.Process.Pid) + ":" + start
}

// endedBy waits for cmd and returns the signal that ended it.
func endedBy(t *testing.T, cmd *exec.Cmd) syscall.Signal {
	t.Helper()
	err := cmd.Wait()
	var exitErr *exec.ExitError
	if !errors.As(err, &exitErr) {
		t.Fatalf("%v ended with %v; want it killed by a signal", cmd.Args, err)
	}
	ws := exitErr.Sys().(syscall.WaitStatus)
	if !ws.Signaled() {
		t.Fatalf("%v exited with %v; want it killed by a signal", cmd.Args, ws)
	}
	return ws.Signal()
}

// TestKillLeftoversTouchesOnlyTheOwnersOrphans runs real processes with
// every kind of mark and sweeps for one owner: only the processes with that
// owner's exact mark whose grace process is gone are killed. The others are
// then ended with SIGTERM, which is how they must end: one the sweep had
// SIGKILLed would report SIGKILL.
func TestKillLeftoversTouchesOnlyTheOwnersOrphans(t *testing.T) {
	t.Parallel()
	owner := uniqueOwner(t)
	self := selfProcess()

	gone := startSleeper(t) // a grace process that has died
	goneMark := processMark(t, gone)
	_ = gone.Process.Kill()
	_ = gone.Wait()
	live := startSleeper(t) // a grace process that runs
	liveMark := processMark(t, live)

	tests := []struct {
		name     string
		env      []string
		wantKill bool
	}{
		{"no mark", nil, false},
		{"another owner's mark", []string{EnvOwner + "=" + owner + " other", EnvOwnerProcess + "=" + goneMark}, false},
		{"a prefix of the owner", []string{EnvOwner + "=" + owner[:len(owner)-1], EnvOwnerProcess + "=" + goneMark}, false},
		{"the owner in another variable", []string{"NOT_" + EnvOwner + "=" + owner, EnvOwnerProcess + "=" + goneMark}, false},
		{"the mark of a grace process that runs", []string{EnvOwner + "=" + owner, EnvOwnerProcess + "=" + liveMark}, false},
		{"the mark of this process", []string{EnvOwner + "=" + owner, EnvOwnerProcess + "=" + self}, false},
		{"the mark of a grace process that died", []string{EnvOwner + "=" + owner, EnvOwnerProcess + "=" + goneMark}, true},
		{"the mark of a reused PID", []string{EnvOwner + "=" + owner, EnvOwnerProcess + "=" + strconv.Itoa(live.Process.Pid) + ":1"}, true},
		{"the mark without its process", []string{EnvOwner + "=" + owner}, true},
	}
	procs := make([]*exec.Cmd, len(tests))
	wantKilled := 0
	for i, tt := range tests {
		procs[i] = startSleeper(t, tt.env...)
		if tt.wantKill {
			wantKilled++
		}
	}

	killed, err := killLeftovers(owner, self)
	if err != nil {
		t.Fatalf("killLeftovers: %v", err)
	}
	if killed != wantKilled {
		t.Errorf("killLeftovers killed %d processes; want %d", killed, wantKilled)
	}
	for i, tt := range tests {
		if !tt.wantKill {
			_ = procs[i].Process.Signal(syscall.SIGTERM)
		}
		want := map[bool]syscall.Signal{true: syscall.SIGKILL, false: syscall.SIGTERM}[tt.wantKill]
		if got := endedBy(t, procs[i]); got != want {
			t.Errorf("%s: the process ended by %v; want %v", tt.name, got, want)
		}
	}
	// The grace process that runs was never a candidate.
	_ = live.Process.Signal(syscall.SIGTERM)
	if got := endedBy(t, live); got != syscall.SIGTERM {
		t.Errorf("the live grace process ended by %v; want SIGTERM", got)
	}
}

// TestKillLeftoversKillsTheWholeTree sweeps a marked shell whose child left
// its process group (setsid): the child carries the mark too, through the
// environment it inherited, and both are killed.
func TestKillLeftoversKillsTheWholeTree(t *testing.T) {
	t.Parallel()
	owner := uniqueOwner(t)
	pidFile := filepath.Join(t.TempDir(), "child.pid")
	sh := exec.Command("/bin/sh", "-c", `setsid sleep 300 & echo $! > "$1"; wait`, "sh", pidFile)
	sh.Env = append(os.Environ(), EnvOwner+"="+owner, EnvOwnerProcess+"=0:0")
	if err := sh.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sh.Process.Kill(); _ = sh.Wait() })
	child := waitPID(t, pidFile)
	t.Cleanup(func() { _ = syscall.Kill(child, syscall.SIGKILL) })

	killed, err := killLeftovers(owner, selfProcess())
	if err != nil || killed != 2 {
		t.Fatalf("killLeftovers = %d, %v; want 2 (the shell and its child), nil", killed, err)
	}
	if got := endedBy(t, sh); got != syscall.SIGKILL {
		t.Errorf("the shell ended by %v; want SIGKILL", got)
	}
	assertGone(t, child)
}

// waitPID waits (at most 10 s) for a script to write a PID to path.
func waitPID(t *testing.T, path string) int {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if b, err := os.ReadFile(path); err == nil && strings.HasSuffix(string(b), "\n") {
			return readPID(t, path)
		}
		if time.Now().After(deadline) {
			t.Fatalf("no PID written to %s", path)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestClaimOwnerMarksHandlers runs an exec handler after ClaimOwner: its
// command, and what that starts, see the owner and this process.
func TestClaimOwnerMarksHandlers(t *testing.T) {
	owner := uniqueOwner(t)
	if n, err := ClaimOwner(owner); err != nil || n != 0 {
		t.Fatalf("ClaimOwner = %d, %v; want 0, nil (nothing of this owner ran before)", n, err)
	}
	t.Cleanup(func() { claimed.Store(nil) })
	out := filepath.Join(t.TempDir(), "mark")
	h := shHandler(t, `sh -c 'printf "%s|%s" "$GRACE_HANDLER_OWNER" "$GRACE_HANDLER_PROCESS"' > "$1"`, out)
	if err := h.Handle(context.Background(), sandboxIntent); err != nil {
		t.Fatalf("Handle: %v", err)
	}
	got, _ := os.ReadFile(out)
	if want := owner + "|" + selfProcess(); string(got) != want {
		t.Errorf("the handler's child saw %q; want %q", got, want)
	}
	if _, err := ClaimOwner(""); err == nil {
		t.Error("ClaimOwner(\"\") succeeded; want an error")
	}
}
