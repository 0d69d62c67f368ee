package main

import (
	"strings"
	"testing"
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
