package main

import (
	"strings"
	"testing"
)

// checkIdempotencyConflict submits under one key: the same submission
// again prints the original's ID; another payload, priority or type exits
// 1 with one line naming the key's intent and what differs, and stores
// nothing.
func checkIdempotencyConflict(t *testing.T, c *cli) {
	t.Helper()
	submit := func(extra ...string) result {
		args := append([]string{"intent", "submit", "--type", "query_knowledge", "--actor", "agent.cli",
			"--idempotency-key", "nightly-7"}, extra...)
		return c.run(t, args...)
	}
	r := submit("--payload", `{"q":"depth","n":1}`)
	id := strings.TrimSpace(r.stdout)
	if r.code != 0 || id == "" {
		t.Fatalf("first submit: exit %d %q %q", r.code, r.stdout, r.stderr)
	}
	r = submit("--payload", `{ "n": 1, "q": "depth" }`, "--priority", "5")
	if r.code != 0 || strings.TrimSpace(r.stdout) != id || !strings.Contains(r.stderr, "this is the original intent") {
		t.Fatalf("same submission again: exit %d %q %q; want %s", r.code, r.stdout, r.stderr, id)
	}
	for _, tc := range []struct {
		name  string
		args  []string
		field string
	}{
		{"payload", []string{"--payload", `{"q":"depth","n":2}`}, "payload"},
		{"priority", []string{"--payload", `{"q":"depth","n":1}`, "--priority", "9"}, "priority"},
		{"context", []string{"--payload", `{"q":"depth","n":1}`, "--context", `{"revenue_impact":true}`}, "context"},
	} {
		r := submit(tc.args...)
		r.wantFail(t, exitFailure, `idempotency key "nightly-7" is already used by intent `+id)
		if !strings.Contains(r.stderr, "different "+tc.field) || r.stdout != "" {
			t.Fatalf("%s: stdout %q, stderr %q; want nothing on stdout and the %s named", tc.name, r.stdout, r.stderr, tc.field)
		}
	}
	if n := len(listIntents(t, c)); n != 1 {
		t.Fatalf("%d intents listed after the refusals, want 1", n)
	}
}

func TestCLIIdempotencyConflictDirect(t *testing.T) {
	t.Parallel()
	checkIdempotencyConflict(t, newCLI(t))
}

func TestCLIIdempotencyConflictOverHTTP(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	url := closedURL(t)
	c.env = []string{"GRACE_API_SERVER=" + url, "GRACE_CORTEX_ENABLED=false"}
	startServe(t, c, writeServeConfig(t, c.dir, url, ""), url)
	checkIdempotencyConflict(t, c)
}
