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

// TestCLICancelMany: intent cancel takes several IDs, or selects the
// unfinished intents by type, actor and state (--dry-run lists them and
// changes nothing), and sums up what it did; a selection that names
// nothing, or mixes IDs with filters, is a usage error.
func TestCLICancelMany(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	submit := func(typ, actor string) string {
		t.Helper()
		r := c.run(t, "intent", "submit", "--type", typ, "--actor", actor)
		if r.code != 0 {
			t.Fatalf("submit: exit %d: %s", r.code, r.stderr)
		}
		return strings.TrimSpace(r.stdout)
	}
	q1, q2 := submit("query_knowledge", "agent.a"), submit("query_knowledge", "agent.b")
	s1, s2 := submit("schedule_task", "agent.a"), submit("schedule_task", "agent.b")
	pending := submit("change_charter", "agent.a")

	c.run(t, "intent", "cancel", "--reason", "r").wantFail(t, exitUsage, "name the intents")
	c.run(t, "intent", "cancel", q1, "--type", "query_knowledge", "--reason", "r").wantFail(t, exitUsage, "not both")
	c.run(t, "intent", "cancel", "--state", "completed", "--reason", "r").wantFail(t, exitUsage, "only those can be cancelled")
	c.run(t, "intent", "cancel", "--all").wantFail(t, exitUsage, "cancel needs --reason")

	r := c.run(t, "intent", "cancel", "--actor", "agent.a", "--dry-run", "--reason", "runaway agent")
	for _, id := range []string{q1, s1, pending} {
		if !strings.Contains(r.stdout, id) {
			t.Errorf("--dry-run does not list %s:\n%s", id, r.stdout)
		}
	}
	if r.code != 0 || strings.Contains(r.stdout, q2) || !strings.Contains(r.stderr, "would cancel 3 intents") {
		t.Fatalf("--dry-run: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	for id, st := range listIntents(t, c) {
		if st == "cancelled" {
			t.Fatalf("--dry-run cancelled %s", id)
		}
	}

	r = c.run(t, "intent", "cancel", "--type", "query_knowledge", "--reason", "not needed", "--json")
	var out struct{ Cancelled, Finished []string }
	r.decode(t, &out)
	if r.code != 0 || len(out.Cancelled) != 2 || len(out.Finished) != 0 {
		t.Fatalf("cancel --type: exit %d %+v %s", r.code, out, r.stderr)
	}
	r = c.run(t, "intent", "cancel", s1, s2, "--reason", "wrong plan")
	if r.code != 0 || !strings.Contains(r.stderr, "cancelled 2 of 2 intents; 0 had finished; 0 failed") {
		t.Fatalf("cancel two IDs: exit %d %q %q", r.code, r.stdout, r.stderr)
	}
	want := map[string]string{q1: "cancelled", q2: "cancelled", s1: "cancelled", s2: "cancelled", pending: "pending_approval"}
	if got := listIntents(t, c); len(got) != len(want) {
		t.Fatalf("intents %v, want %v", got, want)
	} else {
		for id, st := range want {
			if got[id] != st {
				t.Errorf("%s is %s, want %s", id, got[id], st)
			}
		}
	}
	r = c.run(t, "intent", "cancel", q1, pending, "--reason", "again")
	if r.code != 0 || !strings.Contains(r.stderr, "cancelled 1 of 2 intents; 1 cancelled already; 0 had finished") {
		t.Fatalf("a cancelled one among the IDs: exit %d %q %q", r.code, r.stdout, r.stderr)
	}
}

// TestCLICancelManySaysWhoCancelledFirst: an operator whose cancel of
// many meets intents another operator cancelled first (two operators
// clearing the same queue at once) is told so, each with who cancelled it
// and why, and counted apart: they were counted as "had finished", as if
// they had completed.
func TestCLICancelManySaysWhoCancelledFirst(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	first, second := submitted(t, c, "change_charter"), submitted(t, c, "change_charter")
	if r := c.run(t, "intent", "cancel", first, "--reason", "wrong charter", "--operator", "alice"); r.code != 0 {
		t.Fatalf("alice's cancel: exit %d %s", r.code, r.stderr)
	}
	r := c.run(t, "intent", "cancel", first, second, "--reason", "clearing the queue", "--operator", "bob")
	if r.code != 0 || !strings.Contains(r.stdout, first+" (change_charter) was cancelled already by alice: wrong charter") ||
		!strings.Contains(r.stdout, "cancelled "+second) ||
		!strings.Contains(r.stderr, "cancelled 1 of 2 intents; 1 cancelled already; 0 had finished; 0 failed") {
		t.Fatalf("bob's cancel: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	third := submitted(t, c, "change_charter")
	r = c.run(t, "intent", "cancel", first, third, "--reason", "again", "--operator", "bob", "--json")
	var out cancelOutcome
	r.decode(t, &out)
	if r.code != 0 || len(out.AlreadyCancelled) != 1 || out.AlreadyCancelled[0] != first || len(out.Finished) != 0 ||
		len(out.Cancelled) != 1 || out.Cancelled[0] != third {
		t.Fatalf("--json: exit %d %+v %s", r.code, out, r.stderr)
	}
}

// TestCLIManyStopsAtARefusedToken: a viewer's cancel or retry of many
// intents stops at the first refusal of its role, says how many were not
// tried, exits 1 and changes nothing: it asked once per intent, each
// refused and said on a line of its own.
func TestCLIManyStopsAtARefusedToken(t *testing.T) {
	t.Parallel()
	c, url := newServerCLI(t)
	startServe(t, c, writeServeConfig(t, c.dir, url, identitiesYAML(idAlice, idVal)), url)
	alice, val := c.as(idAlice.token), c.as(idVal.token)
	var ids []string
	for range 3 {
		ids = append(ids, submitted(t, alice, "change_charter"))
	}
	r := val.run(t, "intent", "cancel", "--all", "--reason", "viewer bulk")
	if r.code != exitFailure || strings.Count(r.stderr, "may not call") != 1 ||
		!strings.Contains(r.stderr, "cancel: stopped: the server refuses this token's cancel; the other 2 intents were not tried") {
		t.Fatalf("a viewer's cancel --all: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	for _, id := range ids {
		if st := listIntents(t, alice)[id]; st != "pending_approval" {
			t.Fatalf("%s is %s after a refused cancel", id, st)
		}
	}
	if r := alice.run(t, "intent", "cancel", "--all", "--reason", "clearing up"); r.code != 0 {
		t.Fatalf("alice's cancel --all: exit %d %s", r.code, r.stderr)
	}
	r = val.run(t, "intent", "retry", "--all", "--state", "cancelled", "--reason", "viewer bulk")
	if r.code != exitFailure || strings.Count(r.stderr, "may not call") != 1 ||
		!strings.Contains(r.stderr, "retry: stopped: the server refuses this token's retry; the other 2 intents were not tried") {
		t.Fatalf("a viewer's retry --all: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if n := len(listIntents(t, alice)); n != 3 {
		t.Fatalf("%d intents after a refused retry, want 3", n)
	}
}

// A --type that differs from a charter type only in case selected nothing
// and said "cancelled 0 of 0": types are matched exactly, so cancel and
// retry say so, naming the type meant, and change nothing.
func TestCLISelectionByTypeHintsAtTheTypeMeant(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	r := c.run(t, "intent", "submit", "--type", "schedule_task", "--actor", "agent.a")
	if r.code != 0 {
		t.Fatalf("submit: exit %d: %s", r.code, r.stderr)
	}
	id := strings.TrimSpace(r.stdout)
	for _, args := range [][]string{
		{"intent", "cancel", "--type", "Schedule_Task", "--reason", "r"},
		{"intent", "retry", "--type", "schedule-task", "--reason", "r"},
	} {
		r := c.run(t, args...)
		if r.code != 0 || !strings.Contains(r.stderr, "types are matched exactly: did you mean --type schedule_task?") {
			t.Errorf("%v: exit %d, no hint at the type meant:\n%s", args, r.code, r.stderr)
		}
	}
	if st := listIntents(t, c)[id]; st == "cancelled" {
		t.Fatalf("%s was cancelled by a --type that is not its type", id)
	}
	// A type of the charter with nothing to select gets no hint.
	if r := c.run(t, "intent", "cancel", "--type", "deploy_model", "--reason", "r"); r.code != 0 || strings.Contains(r.stderr, "did you mean") {
		t.Errorf("cancel --type deploy_model: exit %d\n%s", r.code, r.stderr)
	}
}
