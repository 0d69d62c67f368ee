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
	var more []string // failed beside it, for the selection below
	for i := range 2 {
		r := c.run(t, "intent", "submit", "--type", "schedule_task", "--payload", fmt.Sprintf(`{"job":"extra-%d"}`, i))
		if r.code != 0 {
			t.Fatalf("submit: exit %d %s", r.code, r.stderr)
		}
		more = append(more, strings.TrimSpace(r.stdout))
	}
	waitFor(t, 20*time.Second, "the intents to fail", func() bool {
		st := listIntents(t, c)
		return st[id] == "failed" && st[more[0]] == "failed" && st[more[1]] == "failed"
	})

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
	r = c.run(t, "intent", "retry", out.ID, "--reason", "r")
	r.wantFail(t, exitFailure, "cannot be retried (it is completed")
	if strings.Contains(r.stderr, "retry intent") {
		t.Fatalf("the refusal says the verb and intent twice: %q", r.stderr)
	}

	// A selection: every failed schedule_task not yet retried, as after
	// an outage (id was retried above: it is left out).
	c.run(t, "intent", "retry", "--reason", "r").wantFail(t, exitUsage, "name the intents")
	c.run(t, "intent", "retry", id, "--type", "schedule_task", "--reason", "r").wantFail(t, exitUsage, "not both")
	r = c.run(t, "intent", "retry", "--type", "schedule_task", "--reason", "outage over", "--dry-run")
	if r.code != 0 || strings.Count(r.stdout, "schedule_task") != 2 || strings.Contains(r.stdout, id) || !strings.Contains(r.stderr, "would retry 2 intents") {
		t.Fatalf("dry run: exit %d %q %q", r.code, r.stdout, r.stderr)
	}
	before := len(listIntents(t, c))
	r = c.run(t, "intent", "retry", "--type", "schedule_task", "--since", "1h", "--reason", "outage over", "--operator", "alice")
	if r.code != 0 || !strings.Contains(r.stdout, "retried "+more[0]+" as ") || !strings.Contains(r.stdout, "retried "+more[1]+" as ") ||
		strings.Contains(r.stdout, id) || !strings.Contains(r.stderr, "retried 2 of 2 intents (0 had been retried already); 0 refused") {
		t.Fatalf("retry a selection: exit %d %q %q", r.code, r.stdout, r.stderr)
	}
	if n := len(listIntents(t, c)); n != before+2 {
		t.Fatalf("the selection made %d intents, want 2", n-before)
	}
	// Asked again once the retries have run, the selection is empty: what
	// was retried is not offered again.
	waitFor(t, 20*time.Second, "the selection's retries to complete", func() bool {
		n := 0
		for _, st := range listIntents(t, c) {
			if st == "completed" {
				n++
			}
		}
		return n == 3
	})
	r = c.run(t, "intent", "retry", "--all", "--reason", "outage over", "--dry-run")
	if r.code != 0 || r.stdout != "" || !strings.Contains(r.stderr, "would retry 0 intents") {
		t.Fatalf("dry run after the retries: exit %d %q %q", r.code, r.stdout, r.stderr)
	}
	r = c.run(t, "narratives", "search", "--intent", id, "--json")
	if r.code != 0 || !strings.Contains(r.stdout, `"intent_retried"`) || !strings.Contains(r.stdout, out.ID) {
		t.Fatalf("the original's story does not name its retry: %q %q", r.stdout, r.stderr)
	}

	// Cancelled intents too, selected with --state; never a denied one.
	pending := strings.TrimSpace(c.run(t, "intent", "submit", "--type", "change_charter").stdout)
	c.run(t, "intent", "cancel", pending, "--reason", "raised by mistake")
	c.run(t, "intent", "retry", "--state", "denied", "--reason", "r").wantFail(t, exitUsage, "want failed, cancelled, expired or shed")
	r = c.run(t, "intent", "retry", "--state", "cancelled", "--reason", "it was needed", "--operator", "alice")
	if r.code != 0 || !strings.Contains(r.stdout, "retried "+pending+" as ") || !strings.Contains(r.stdout, "pending_approval") {
		t.Fatalf("retry the cancelled ones: exit %d %q %q", r.code, r.stdout, r.stderr)
	}
}
