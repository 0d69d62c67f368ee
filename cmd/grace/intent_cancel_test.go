package main

import (
	"fmt"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestCLICancel: intent cancel withdraws a pending intent on the database
// directly, says so, and refuses a second cancel and a missing reason.
func TestCLICancel(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	r := c.run(t, "intent", "submit", "--type", "change_charter")
	id := strings.TrimSpace(r.stdout)
	if r.code != 0 || id == "" {
		t.Fatalf("submit: exit %d %s", r.code, r.stderr)
	}
	c.run(t, "intent", "cancel", id).wantFail(t, exitUsage, "cancel needs --reason")
	r = c.run(t, "intent", "cancel", id, "--reason", "raised by mistake", "--operator", "alice")
	if r.code != 0 || !strings.Contains(r.stdout, "cancelled "+id+" by alice: now cancelled") {
		t.Fatalf("cancel: exit %d %q %q", r.code, r.stdout, r.stderr)
	}
	if got := listIntents(t, c)[id]; got != "cancelled" {
		t.Fatalf("stored as %q", got)
	}
	c.run(t, "intent", "cancel", id, "--reason", "again").wantFail(t, exitFailure, "can no longer be cancelled (it is cancelled)")
	if r := c.run(t, "intent", "list", "--state", "cancelled"); r.code != 0 || !strings.Contains(r.stdout, id) {
		t.Fatalf("list --state cancelled: exit %d %q %q", r.code, r.stdout, r.stderr)
	}
}

// TestCLICancelRunning: against a running server, intent cancel stops an
// intent whose handler (a real child process) is running: the child is
// killed, the intent is cancelled and stays so, and the record says the
// attempt's result was discarded.
func TestCLICancelRunning(t *testing.T) {
	t.Parallel()
	c, url := newServerCLI(t)
	pids := filepath.Join(c.dir, "running.pids")
	cfg := writeServeConfig(t, c.dir, url, fmt.Sprintf(`  schedule_task:
    kind: exec
    command: ["sh", "-c", "cat >/dev/null; echo $$ >> %s; exec sleep 60"]
`, pids))
	startServe(t, c, cfg, url)
	r := c.run(t, "intent", "submit", "--type", "schedule_task", "--actor", "agent.planner")
	id := strings.TrimSpace(r.stdout)
	if r.code != 0 || id == "" {
		t.Fatalf("submit: exit %d %s", r.code, r.stderr)
	}
	waitFor(t, 20*time.Second, "the handler's child to start", func() bool { return len(readPIDs(t, pids)) == 1 })
	child := readPIDs(t, pids)[0]
	t.Cleanup(func() { _ = syscall.Kill(child, syscall.SIGKILL) })

	r = c.run(t, "intent", "cancel", id, "--reason", "wrong job", "--operator", "alice")
	if r.code != 0 || !strings.Contains(r.stdout, "cancelled "+id+" by alice: now cancelled") {
		t.Fatalf("cancel a running intent: exit %d %q %q", r.code, r.stdout, r.stderr)
	}
	waitFor(t, 20*time.Second, "the handler's child to be killed", func() bool {
		return syscall.Kill(child, 0) == syscall.ESRCH
	})
	waitFor(t, 20*time.Second, "the discarded result on the record", func() bool {
		r := c.run(t, "narratives", "search", "--intent", id, "--json")
		return r.code == 0 && strings.Contains(r.stdout, `"intent_cancelled"`) && strings.Contains(r.stdout, `"stale_result_discarded"`)
	})
	if got := listIntents(t, c)[id]; got != "cancelled" {
		t.Fatalf("after its handler stopped the intent is %q", got)
	}
	if n := len(readPIDs(t, pids)); n != 1 {
		t.Fatalf("the handler ran %d times", n)
	}
	c.run(t, "intent", "cancel", id, "--reason", "again").wantFail(t, exitFailure, "can no longer be cancelled (it is cancelled)")
}
