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
	if r := c.run(t, "intent", "get", id); !strings.Contains(r.stdout, "the scheduler is paused by ") || !strings.Contains(r.stdout, ": downstream outage; grace scheduler resume") {
		t.Fatalf("intent get of a queued intent does not say the scheduler holds it: %q %q", r.stdout, r.stderr)
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

// TestCLITypePause: grace scheduler pause --type holds one intent type of
// a real grace serve while others run; grace scheduler and grace health
// say so; a resume lets its intents run; bad types change nothing.
func TestCLITypePause(t *testing.T) {
	t.Parallel()
	c, url := newServerCLI(t)
	startServe(t, c, writeServeConfig(t, c.dir, url, ""), url)

	c.run(t, "scheduler", "pause", "--type", "generate_summary").wantFail(t, exitUsage, "--reason is required")
	c.run(t, "scheduler", "pause", "--type", " ", "--reason", "r").wantFail(t, exitUsage, "--type is empty")
	c.run(t, "scheduler", "pause", "--type", "generate_sumary", "--reason", "r").wantFail(t, exitFailure, "not an intent type of the charter")
	c.run(t, "scheduler", "resume", "--type", "generate_summary").wantFail(t, exitFailure, "not paused")
	r := c.run(t, "scheduler", "pause", "--type", "generate_summary", "--reason", "model rollout")
	if r.code != 0 || !strings.HasPrefix(r.stdout, "running: dispatching") || !strings.Contains(r.stdout, "\ntype generate_summary paused by ") ||
		!strings.HasSuffix(r.stdout, ": model rollout; 0 of it waiting\n") {
		t.Fatalf("scheduler pause --type: exit %d %q %q", r.code, r.stdout, r.stderr)
	}
	c.run(t, "scheduler", "pause", "--type", "generate_summary", "--reason", "again").wantFail(t, exitFailure, "already paused")

	held := strings.TrimSpace(c.run(t, "intent", "submit", "--type", "generate_summary").stdout)
	other := strings.TrimSpace(c.run(t, "intent", "submit", "--type", "query_knowledge").stdout)
	waitFor(t, 20*time.Second, "the other type to run", func() bool { return listIntents(t, c)[other] == "completed" })
	var s struct {
		Paused      bool `json:"paused"`
		PausedTypes []struct {
			Type    string `json:"type"`
			Reason  string `json:"reason"`
			Waiting int    `json:"waiting"`
		} `json:"paused_types"`
		QueuedByType map[string]int `json:"queued_by_type"`
	}
	c.run(t, "scheduler", "--json").decode(t, &s)
	if s.Paused || len(s.PausedTypes) != 1 || s.PausedTypes[0].Type != "generate_summary" || s.PausedTypes[0].Waiting != 1 || listIntents(t, c)[held] != "queued" ||
		len(s.QueuedByType) != 1 || s.QueuedByType["generate_summary"] != 1 {
		t.Fatalf("while generate_summary is paused: %+v; the intent is %s", s, listIntents(t, c)[held])
	}
	if r := c.run(t, "scheduler"); !strings.HasSuffix(r.stdout, "\nqueued by type: generate_summary 1\n") {
		t.Fatalf("scheduler while generate_summary waits: %q", r.stdout)
	}
	if r := c.run(t, "intent", "get", held); !strings.Contains(r.stdout, "type generate_summary is paused by ") || !strings.Contains(r.stdout, ": model rollout; grace scheduler resume --type generate_summary") {
		t.Fatalf("intent get of a held intent does not say why it waits: %q %q", r.stdout, r.stderr)
	}
	if r := c.run(t, "intent", "get", other); strings.Contains(r.stdout, "held") {
		t.Fatalf("intent get of a completed intent says it is held: %q", r.stdout)
	}
	if r := c.run(t, "health"); !strings.Contains(r.stdout, "generate_summary by ") || !strings.Contains(r.stdout, "1 waiting; grace scheduler resume --type generate_summary") {
		t.Fatalf("health while a type is paused: %q %q", r.stdout, r.stderr)
	}
	if r := c.run(t, "scheduler", "resume", "--type", "generate_summary", "--reason", "rollout done"); r.code != 0 || !strings.HasPrefix(r.stdout, "running: dispatching") || strings.Contains(r.stdout, "type generate_summary") {
		t.Fatalf("scheduler resume --type: exit %d %q %q", r.code, r.stdout, r.stderr)
	}
	waitFor(t, 20*time.Second, "the held intent to run", func() bool { return listIntents(t, c)[held] == "completed" })
	if r := c.run(t, "narratives", "search", "--action", "type_paused"); !strings.Contains(r.stdout, "model rollout") {
		t.Fatalf("the type pause is not on the record: %q %q", r.stdout, r.stderr)
	}
}

func TestQueuedByTypeListsTheMostQueuedFirst(t *testing.T) {
	t.Parallel()
	if got := queuedByType(map[string]int{"a": 1, "c": 3, "b": 3}); got != "b 3, c 3, a 1" {
		t.Fatalf("queuedByType = %q", got)
	}
	if got := queuedByType(map[string]int{}); got != "" {
		t.Fatalf("nothing queued: %q", got)
	}
}
