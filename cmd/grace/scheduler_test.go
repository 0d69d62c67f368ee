package main

import (
	"strings"
	"testing"
	"time"
)

// TestCLISchedulerPauseResume: against a running server, grace scheduler
// pause (a reason required) stops dispatching while intake goes on, says
// who paused it and why (grace health too, at once), and refuses a second
// pause; resume lets the queued intent run and refuses a second resume.
// With no server answering it says so.
func TestCLISchedulerPauseResume(t *testing.T) {
	t.Parallel()
	c, url := newServerCLI(t)
	c.run(t, "scheduler").wantFail(t, exitFailure, "no server answers at "+url)
	startServe(t, c, writeServeConfig(t, c.dir, url, ""), url)

	if r := c.run(t, "scheduler"); r.code != 0 || r.stdout != "running: dispatching; 0 queued\n" {
		t.Fatalf("scheduler: exit %d %q %q", r.code, r.stdout, r.stderr)
	}
	c.run(t, "scheduler", "pause").wantFail(t, exitUsage, "--reason is required")
	c.as("tok-forged").run(t, "scheduler", "pause", "--reason", "r").wantFail(t, exitFailure, "refused the API token")
	r := c.run(t, "scheduler", "pause", "--reason", "downstream outage")
	if r.code != 0 || !strings.HasPrefix(r.stdout, "paused by ") || !strings.HasSuffix(r.stdout, ": downstream outage; 0 queued\n") {
		t.Fatalf("scheduler pause: exit %d %q %q", r.code, r.stdout, r.stderr)
	}
	c.run(t, "scheduler", "pause", "--reason", "again").wantFail(t, exitFailure, "already paused")
	// health says so at once, not a watchdog interval later.
	if r := c.run(t, "health"); !strings.Contains(r.stdout, ": downstream outage; grace scheduler resume dispatches again") {
		t.Fatalf("health while paused: %q %q", r.stdout, r.stderr)
	}

	id := strings.TrimSpace(c.run(t, "intent", "submit", "--type", "query_knowledge").stdout)
	var s struct {
		Paused bool `json:"paused"`
		Pause  struct {
			Reason string `json:"reason"`
		} `json:"pause"`
		QueueDepth int `json:"queue_depth"`
	}
	r = c.run(t, "scheduler", "--json")
	r.decode(t, &s)
	if !s.Paused || s.Pause.Reason != "downstream outage" || s.QueueDepth != 1 || listIntents(t, c)[id] != "queued" {
		t.Fatalf("while paused: %+v; the intent is %s", s, listIntents(t, c)[id])
	}

	if r := c.run(t, "scheduler", "resume", "--reason", "outage over"); r.code != 0 || !strings.HasPrefix(r.stdout, "running: dispatching") {
		t.Fatalf("scheduler resume: exit %d %q %q", r.code, r.stdout, r.stderr)
	}
	waitFor(t, 20*time.Second, "the queued intent to run", func() bool { return listIntents(t, c)[id] == "completed" })
	c.run(t, "scheduler", "resume").wantFail(t, exitFailure, "not paused")
	if r := c.run(t, "health"); strings.Contains(r.stdout, "downstream outage") {
		t.Fatalf("health after the resume still says paused: %q", r.stdout)
	}
	if r := c.run(t, "narratives", "search", "--action", "scheduler_paused"); !strings.Contains(r.stdout, "downstream outage") {
		t.Fatalf("the pause is not on the record: %q %q", r.stdout, r.stderr)
	}
}
