package worker

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"grace/engine/intent"
)

// stderrTail is how many trailing bytes of a failed command's stderr its
// error quotes.
const stderrTail = 512

// pipeDrainTimeout bounds how long Handle waits for the command's stdin and
// stderr pipes once the process group has been killed. Only a process that
// left the group (setsid) while holding a pipe can make it wait that long.
const pipeDrainTimeout = 2 * time.Second

// execHandler runs a configured command per intent.
type execHandler struct {
	argv []string
}

// Handle runs the command with the intent's payload JSON on stdin ("{}"
// when it has none), its stdout discarded, and GRACE_INTENT_ID,
// GRACE_INTENT_TYPE and GRACE_ACTOR added to the environment, with the
// owner's mark (EnvOwner, EnvOwnerProcess) once ClaimOwner was called. The
// command runs in its own process group; when ctx ends the whole group is
// killed, and once the command exits any process it left behind in its
// group is killed too, so nothing outlives the task. On Linux the command
// is also killed when the process running it dies, even by SIGKILL (the
// kernel's parent-death signal); the processes it started, which that
// signal does not reach, carry the mark, and the next grace process on
// this machine to claim the same owner kills them before it runs any task
// again, so that they do not run on beside the task's rerun (a rerun on
// another machine, by a worker of the nats backend, is not covered). A
// non-zero exit returns an error with the exit code and the last 512
// bytes of stderr; a program that cannot be found or executed is a
// Permanent failure.
func (h *execHandler) Handle(ctx context.Context, in intent.Intent) error {
	what := fmt.Sprintf("exec %s for intent %s", h.argv[0], in.ID)
	payload := []byte(in.Payload)
	if len(payload) == 0 {
		payload = []byte("{}")
	}

	stdinR, stdinW, err := os.Pipe()
	if err != nil {
		return fmt.Errorf("%s: stdin pipe: %w", what, err)
	}
	stderrR, stderrW, err := os.Pipe()
	if err != nil {
		stdinR.Close()
		stdinW.Close()
		return fmt.Errorf("%s: stderr pipe: %w", what, err)
	}
	defer stdinW.Close()
	defer stderrR.Close()

	cmd := exec.CommandContext(ctx, h.argv[0], h.argv[1:]...)
	cmd.Stdin = stdinR
	cmd.Stderr = stderrW
	cmd.Env = append(os.Environ(),
		"GRACE_INTENT_ID="+in.ID,
		"GRACE_INTENT_TYPE="+in.Type,
		"GRACE_ACTOR="+in.Actor,
	)
	cmd.Env = append(cmd.Env, ownerEnv()...)
	ownProcessGroup(cmd)
	startErr := cmd.Start()
	// The child has its own copies now (or never started).
	stdinR.Close()
	stderrW.Close()
	if startErr != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("%s: %w", what, ctx.Err())
		}
		if errors.Is(startErr, exec.ErrNotFound) || errors.Is(startErr, fs.ErrNotExist) || errors.Is(startErr, fs.ErrPermission) {
			return Permanent(fmt.Errorf("%s: start: %w", what, startErr))
		}
		return fmt.Errorf("%s: start: %w", what, startErr)
	}

	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		// A command that does not read its stdin makes this fail with
		// EPIPE once it exits; that is not an error of the task.
		_, _ = stdinW.Write(payload)
		stdinW.Close()
	}()
	tail := &tailBuffer{max: stderrTail}
	go func() {
		defer wg.Done()
		_, _ = io.Copy(tail, stderrR)
	}()

	waitErr := cmd.Wait()
	killProcessGroup(cmd.Process.Pid)
	deadline := time.Now().Add(pipeDrainTimeout)
	_ = stdinW.SetWriteDeadline(deadline)
	_ = stderrR.SetReadDeadline(deadline)
	wg.Wait()

	if waitErr == nil {
		return nil
	}
	stderr := tail.String()
	if stderr != "" {
		stderr = "; stderr: " + stderr
	}
	if ctx.Err() != nil {
		return fmt.Errorf("%s: killed with its process group: %w%s", what, ctx.Err(), stderr)
	}
	var exitErr *exec.ExitError
	if errors.As(waitErr, &exitErr) {
		if code := exitErr.ExitCode(); code >= 0 {
			return fmt.Errorf("%s: exit code %d%s", what, code, stderr)
		}
		return fmt.Errorf("%s: %v%s", what, exitErr, stderr)
	}
	return fmt.Errorf("%s: %w%s", what, waitErr, stderr)
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu        sync.Mutex
	max       int
	buf       []byte
	truncated bool
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if len(t.buf) > 2*t.max {
		t.buf = append(t.buf[:0], t.buf[len(t.buf)-t.max:]...)
		t.truncated = true
	}
	return len(p), nil
}

// String returns the kept bytes, trimmed, as valid UTF-8, with "…" in front
// when earlier output was dropped.
func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	b := t.buf
	truncated := t.truncated
	if len(b) > t.max {
		b = b[len(b)-t.max:]
		truncated = true
	}
	// Drop a rune cut in half at the start.
	for len(b) > 0 && !utf8.RuneStart(b[0]) {
		b = b[1:]
	}
	s := strings.TrimSpace(strings.ToValidUTF8(string(b), "\uFFFD"))
	if truncated && s != "" {
		s = "…" + s
	}
	return s
}
