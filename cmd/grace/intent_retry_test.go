package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestCLIRetry: against a running server, intent retry submits a failed
// intent (a real child process that fails) again as a new intent, which
// runs with the same payload once the cause is fixed; the original stays
// failed; asking again prints the first retry; a reason is required and an
// intent that has not failed is refused.
func TestCLIRetry(t *testing.T) {
	t.Parallel()
	c, url := newServerCLI(t)
	fixed := filepath.Join(c.dir, "fixed")
	got := filepath.Join(c.dir, "payloads")
	cfg := writeServeConfig(t, c.dir, url, fmt.Sprintf(`  schedule_task:
    kind: exec
    command: ["sh", "-c", "cat >> %s; echo >> %s; test -f %s"]
workers:
  max_attempts: 1
`, got, got, fixed))
	startServe(t, c, cfg, url)
	r := c.run(t, "intent", "submit", "--type", "schedule_task", "--actor", "agent.planner", "--payload", `{"job":"nightly-7"}`)
	id := strings.TrimSpace(r.stdout)
	if r.code != 0 || id == "" {
		t.Fatalf("submit: exit %d %s", r.code, r.stderr)
	}
	waitFor(t, 20*time.Second, "the intent to fail", func() bool { return listIntents(t, c)[id] == "failed" })

	c.run(t, "intent", "retry", id).wantFail(t, exitUsage, "retry needs --reason")
	if err := os.WriteFile(fixed, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	r = c.run(t, "intent", "retry", id, "--reason", "the disk is back", "--operator", "alice", "--json")
	var out retryOutput
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &out) != nil || out.RetryOf != id || out.ID == "" || out.ID == id || out.Existing {
		t.Fatalf("retry: exit %d %q %q", r.code, r.stdout, r.stderr)
	}
	waitFor(t, 20*time.Second, "the retry to complete", func() bool { return listIntents(t, c)[out.ID] == "completed" })
	if st := listIntents(t, c)[id]; st != "failed" {
		t.Fatalf("the original is %q after its retry, want failed", st)
	}
	if b, _ := os.ReadFile(got); strings.Count(string(b), "nightly-7") != 2 {
		t.Fatalf("the handler got %q, want the payload twice (the original and its retry)", b)
	}
	r = c.run(t, "intent", "retry", id, "--reason", "again", "--operator", "alice")
	if r.code != 0 || strings.TrimSpace(r.stdout) != id+" was already retried as "+out.ID+": completed" {
		t.Fatalf("retry again: exit %d %q %q", r.code, r.stdout, r.stderr)
	}
	c.run(t, "intent", "retry", out.ID, "--reason", "r").wantFail(t, exitFailure, "cannot be retried (it is completed")
	r = c.run(t, "narratives", "search", "--intent", id, "--json")
	if r.code != 0 || !strings.Contains(r.stdout, `"intent_retried"`) || !strings.Contains(r.stdout, out.ID) {
		t.Fatalf("the original's story does not name its retry: %q %q", r.stdout, r.stderr)
	}
}
