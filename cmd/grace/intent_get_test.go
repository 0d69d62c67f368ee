package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestCLISubmitWaitAndGet: against a running server, submit --wait prints
// the ID, waits for the intent to finish and exits 0 only when it
// completed (a failed one exits 1 with its last error, a Tier 0 one still
// pending at the timeout exits 1 saying who must act); intent get shows
// the finished intent, and get --wait waits for one submitted without
// waiting, exiting as submit --wait does. Without a server --wait is
// refused and nothing is submitted.
func TestCLISubmitWaitAndGet(t *testing.T) {
	t.Parallel()
	c, url := newServerCLI(t)
	c.run(t, "intent", "submit", "--type", "query_knowledge", "--wait").wantFail(t, exitFailure, "--wait needs a running server")
	c.run(t, "intent", "get", "int_any", "--wait").wantFail(t, exitFailure, "--wait needs a running server")
	if r := c.run(t, "intent", "list"); strings.Contains(r.stdout, "query_knowledge") {
		t.Fatalf("a refused --wait submitted: %s", r.stdout)
	}
	cfg := writeServeConfig(t, c.dir, url, `  schedule_task:
    kind: exec
    command: ["sh", "-c", "cat >/dev/null; echo disk full >&2; exit 3"]
workers:
  max_attempts: 1
`)
	startServe(t, c, cfg, url)

	r := c.run(t, "intent", "submit", "--type", "query_knowledge", "--payload", `{"q":"x","api_key":"k-123"}`, "--wait")
	id := strings.TrimSpace(r.stdout)
	if r.code != 0 || !strings.HasPrefix(id, "int_") || !strings.Contains(r.stderr, id+" completed after 1 attempt(s)") {
		t.Fatalf("submit --wait of a completing intent: exit %d %q %q", r.code, r.stdout, r.stderr)
	}
	r = c.run(t, "intent", "get", id)
	got := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
		name, value, _ := strings.Cut(line, " ")
		got[name] = strings.TrimSpace(value)
	}
	for name, want := range map[string]string{"id": id, "state": "completed", "attempts": "1", "tier": "2, routed to direct",
		"payload": `{"api_key":"[masked]","q":"x"}`} {
		if r.code != 0 || got[name] != want {
			t.Fatalf("intent get: %s is %q, want %q (exit %d)\n%s%s", name, got[name], want, r.code, r.stdout, r.stderr)
		}
	}
	if strings.Contains(r.stdout, "k-123") {
		t.Fatalf("intent get shows a masked value:\n%s", r.stdout)
	}

	r = c.run(t, "intent", "submit", "--type", "schedule_task", "--wait")
	failed := strings.TrimSpace(r.stdout)
	if r.code != exitFailure || !strings.Contains(r.stderr, "intent "+failed+" failed: ") || !strings.Contains(r.stderr, "exit code 3; stderr: disk full") {
		t.Fatalf("submit --wait of a failing intent: exit %d %q %q", r.code, r.stdout, r.stderr)
	}

	r = c.run(t, "intent", "submit", "--type", "change_charter", "--wait", "--wait-timeout", "300ms")
	pending := strings.TrimSpace(r.stdout)
	if r.code != exitFailure || !strings.Contains(r.stderr, "is still pending_approval after 300ms") ||
		!strings.Contains(r.stderr, "grace intent approve "+pending) {
		t.Fatalf("submit --wait of a Tier 0 intent: exit %d %q %q", r.code, r.stdout, r.stderr)
	}

	// get --wait waits for an intent submitted without waiting, then shows it.
	r = c.run(t, "intent", "get", pending, "--wait", "--wait-timeout", "300ms")
	if r.code != exitFailure || !strings.Contains(r.stderr, "is still pending_approval after 300ms") || r.stdout != "" {
		t.Fatalf("get --wait of a Tier 0 intent: exit %d %q %q", r.code, r.stdout, r.stderr)
	}
	r = c.run(t, "intent", "get", failed, "--wait")
	if r.code != exitFailure || !strings.Contains(r.stderr, "intent "+failed+" failed: ") || !strings.Contains(r.stdout, "state") {
		t.Fatalf("get --wait of a failed intent: exit %d %q %q", r.code, r.stdout, r.stderr)
	}
	later := strings.TrimSpace(c.run(t, "intent", "submit", "--type", "query_knowledge").stdout)
	r = c.run(t, "intent", "get", later, "--wait", "--json")
	var done struct{ ID, State string }
	if err := json.Unmarshal([]byte(r.stdout), &done); r.code != 0 || err != nil || done.ID != later || done.State != "completed" ||
		!strings.Contains(r.stderr, later+" completed after 1 attempt(s), waited ") {
		t.Fatalf("get --wait of a submitted intent: exit %d %q %q", r.code, r.stdout, r.stderr)
	}

	c.run(t, "intent", "submit", "--type", "query_knowledge", "--wait", "--wait-timeout", "0s").wantFail(t, exitUsage, "--wait-timeout 0s")
	c.run(t, "intent", "get", later, "--wait", "--wait-timeout", "-1s").wantFail(t, exitUsage, "--wait-timeout -1s")
	c.run(t, "intent", "get", "int_nope").wantFail(t, exitFailure, "intent int_nope: no such intent")
	// With retention on, an intent not found may have been pruned: it says so.
	c.run(t, "--set", "retention.records=2160h", "intent", "get", "int_nope").wantFail(t, exitFailure,
		"intent int_nope: no such intent (or it was pruned: retention.records is 2160h0m0s, and intents that ended longer ago are deleted)")
}

// TestCLIWaitServerGoneMidway: a server that answered the submission and
// then stopped while submit --wait waited is an error naming it, with the
// ID already printed on stdout; the command does not then turn to the
// database as if no server had ever answered ("--wait needs a running
// server ...; nothing was submitted", a false account, or a batch's first
// part written twice), and the intent is in the database once.
func TestCLIWaitServerGoneMidway(t *testing.T) {
	t.Parallel()
	c, url := newServerCLI(t)
	cfg := writeServeConfig(t, c.dir, url, `  query_knowledge:
    kind: sim
    latency: 1h
`)
	srv := startServe(t, c, cfg, url)

	wait := exec.Command(graceBin, "intent", "submit", "--type", "query_knowledge", "--wait")
	wait.Dir, wait.Env = c.dir, append(os.Environ(), c.env...)
	var out, errb bytes.Buffer
	wait.Stdout, wait.Stderr = &out, &errb
	if err := wait.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- wait.Wait() }()
	t.Cleanup(func() {
		_ = wait.Process.Kill()
	})
	waitFor(t, 20*time.Second, "the intent to run", func() bool {
		for _, state := range listIntents(t, c) {
			if state == "running" {
				return true
			}
		}
		return false
	})
	if err := srv.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-srv.done:
	case <-time.After(30 * time.Second):
		t.Fatalf("serve did not stop on SIGTERM:\n%s", srv.logs.String())
	}
	srv.done <- nil // for the cleanup
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatalf("submit --wait did not end when its server stopped; stderr: %s", errb.String())
	}
	id := strings.TrimSpace(out.String())
	r := result{stdout: out.String(), stderr: errb.String(), code: wait.ProcessState.ExitCode()}
	if !strings.HasPrefix(id, "int_") {
		t.Fatalf("submit --wait printed no ID before waiting: %q %q", r.stdout, r.stderr)
	}
	r.stdout = ""
	r.wantFail(t, exitFailure, "the server at "+url+" stopped answering during the command")
	if strings.Contains(r.stderr, "nothing was submitted") {
		t.Fatalf("submit --wait says nothing was submitted, but %s was: %s", id, r.stderr)
	}
	if got := listIntents(t, c); len(got) != 1 || got[id] == "" {
		t.Fatalf("the database holds %v; want %s alone", got, id)
	}
}
