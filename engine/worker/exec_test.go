//go:build unix

package worker

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"grace/engine/intent"
)

// shHandler is an exec handler running script with /bin/sh; args follow as
// $1, $2, ...
func shHandler(t *testing.T, script string, args ...string) Handler {
	t.Helper()
	cmd := append([]string{"/bin/sh", "-c", script, "sh"}, args...)
	r, err := NewRegistry(map[string]HandlerConfig{"run": {Kind: KindExec, Command: cmd}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	h, _ := r.For("run")
	return h
}

var sandboxIntent = intent.Intent{
	ID: "int-42", Type: "execute_sandbox", Actor: "agent.sre",
	Payload: []byte(`{"sandbox":"sbx-7f3a","command":["pytest","-q"]}`),
}

func TestExecSuccessReceivesPayloadAndEnv(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	stdinFile, envFile := filepath.Join(dir, "stdin"), filepath.Join(dir, "env")
	h := shHandler(t, `cat > "$1"; printf '%s|%s|%s' "$GRACE_INTENT_ID" "$GRACE_INTENT_TYPE" "$GRACE_ACTOR" > "$2"`, stdinFile, envFile)
	if err := h.Handle(context.Background(), sandboxIntent); err != nil {
		t.Fatalf("Handle: %v", err)
	}
	if got, _ := os.ReadFile(stdinFile); !bytes.Equal(got, sandboxIntent.Payload) {
		t.Errorf("stdin = %q, want the payload %q", got, sandboxIntent.Payload)
	}
	if got, _ := os.ReadFile(envFile); string(got) != "int-42|execute_sandbox|agent.sre" {
		t.Errorf("environment = %q, want int-42|execute_sandbox|agent.sre", got)
	}
}

func TestExecEmptyPayloadIsEmptyObject(t *testing.T) {
	t.Parallel()
	h := shHandler(t, `test "$(cat)" = '{}' || { echo "stdin was not {}" >&2; exit 9; }`)
	if err := h.Handle(context.Background(), intent.Intent{ID: "int-1", Type: "run"}); err != nil {
		t.Errorf("Handle: %v", err)
	}
}

func TestExecFailures(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("x", 2000)
	tests := []struct {
		name          string
		script        string
		wantContains  []string
		wantMissing   []string
		wantPermanent bool
	}{
		{"exit code and stderr", `echo "disk full on /var" >&2; exit 7`, []string{"exit code 7", "disk full on /var", "int-42"}, nil, false},
		{"only the last 512 bytes of stderr", `printf 'BEGIN%sEND' "` + long + `" >&2; exit 1`, []string{"exit code 1", "xEND"}, []string{"BEGIN"}, false},
		{"killed by a signal", `kill -9 $$`, []string{"signal: killed"}, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := shHandler(t, tt.script).Handle(context.Background(), sandboxIntent)
			if err == nil {
				t.Fatal("Handle succeeded, want an error")
			}
			for _, s := range tt.wantContains {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not contain %q", err, s)
				}
			}
			for _, s := range tt.wantMissing {
				if strings.Contains(err.Error(), s) {
					t.Errorf("error %q contains %q", err, s)
				}
			}
			if IsPermanent(err) != tt.wantPermanent {
				t.Errorf("IsPermanent = %v, want %v", IsPermanent(err), tt.wantPermanent)
			}
		})
	}
	tail := &tailBuffer{max: stderrTail}
	_, _ = tail.Write([]byte(long + "END"))
	if got := tail.String(); len(got) > stderrTail+len("…") || !strings.HasSuffix(got, "END") {
		t.Errorf("tail = %d bytes ending %q, want at most %d ending END", len(got), got[len(got)-5:], stderrTail)
	}
}

func TestExecMissingProgramIsPermanent(t *testing.T) {
	t.Parallel()
	r, err := NewRegistry(map[string]HandlerConfig{"run": {Kind: KindExec, Command: []string{"/nonexistent/grace-tool"}}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	h, _ := r.For("run")
	err = h.Handle(context.Background(), sandboxIntent)
	if !IsPermanent(err) || !strings.Contains(err.Error(), "/nonexistent/grace-tool") {
		t.Errorf("err = %v; want a permanent error naming the program", err)
	}
}

func TestExecTimeoutKillsProcessGroup(t *testing.T) {
	t.Parallel()
	pidFile := filepath.Join(t.TempDir(), "child.pid")
	h := shHandler(t, `sleep 30 & echo $! > "$1"; wait`, pidFile)
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	err := h.Handle(ctx, sandboxIntent)
	if !errors.Is(err, context.DeadlineExceeded) || IsPermanent(err) {
		t.Fatalf("err = %v; want a retryable context.DeadlineExceeded", err)
	}
	assertGone(t, readPID(t, pidFile))
}

func TestExecKillsLeftoverChildrenAfterExit(t *testing.T) {
	t.Parallel()
	pidFile := filepath.Join(t.TempDir(), "child.pid")
	h := shHandler(t, `sleep 30 & echo $! > "$1"; exit 0`, pidFile)
	if err := h.Handle(context.Background(), sandboxIntent); err != nil {
		t.Fatalf("Handle: %v", err)
	}
	assertGone(t, readPID(t, pidFile))
}

func readPID(t *testing.T, path string) int {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("the script never wrote its child's pid: %v", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatalf("pid file %q: %v", b, err)
	}
	return pid
}

// assertGone fails unless pid has exited (gone, or a zombie waiting for
// init to reap it). Handle returns once the killed child has closed its
// pipes, so the process is already exiting; the bounded wait covers the
// last instants of its exit only.
func assertGone(t *testing.T, pid int) {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skip("process state is read from /proc")
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
		if err != nil {
			return // no such process
		}
		// The state follows the command name in parentheses.
		if i := bytes.LastIndexByte(stat, ')'); i >= 0 && i+2 < len(stat) && (stat[i+2] == 'Z' || stat[i+2] == 'X') {
			return
		}
		if time.Now().After(deadline) {
			_ = syscall.Kill(pid, syscall.SIGKILL) // do not leave it behind
			t.Fatalf("child %d survived its task: %s", pid, stat)
		}
		runtime.Gosched()
	}
}
