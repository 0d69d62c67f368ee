package main

import (
	"strings"
	"testing"
	"time"
)

// TestCLIActorPause: grace scheduler pause --actor holds one actor's
// intents on a real grace serve while another actor's flow; grace
// scheduler, grace intent get and grace health say so; --type with
// --actor is a usage error; a resume lets its intents run.
func TestCLIActorPause(t *testing.T) {
	t.Parallel()
	c, url := newServerCLI(t)
	startServe(t, c, writeServeConfig(t, c.dir, url, ""), url)

	c.run(t, "scheduler", "pause", "--actor", "agent.runaway").wantFail(t, exitUsage, "--reason is required")
	c.run(t, "scheduler", "pause", "--actor", " ", "--reason", "r").wantFail(t, exitUsage, "--actor is empty")
	c.run(t, "scheduler", "pause", "--type", "generate_summary", "--actor", "agent.runaway", "--reason", "r").wantFail(t, exitUsage, "--type and --actor go one at a time")
	c.run(t, "scheduler", "resume", "--type", "generate_summary", "--actor", "agent.runaway").wantFail(t, exitUsage, "--type and --actor go one at a time")
	c.run(t, "scheduler", "pause", "--actor", "agent\x1b[2J", "--reason", "r").wantFail(t, exitFailure, "actor holds a control character")
	c.run(t, "scheduler", "resume", "--actor", "agent.runaway").wantFail(t, exitFailure, "resume actor agent.runaway: it is not paused")
	r := c.run(t, "scheduler", "pause", "--actor", "agent.runaway", "--reason", "loops on summaries")
	if r.code != 0 || !strings.HasPrefix(r.stdout, "running: dispatching") || !strings.Contains(r.stdout, "\nactor agent.runaway paused by ") ||
		!strings.HasSuffix(r.stdout, ": loops on summaries; 0 of its intents waiting\n") {
		t.Fatalf("scheduler pause --actor: exit %d %q %q", r.code, r.stdout, r.stderr)
	}
	c.run(t, "scheduler", "pause", "--actor", "agent.runaway", "--reason", "again").wantFail(t, exitFailure, "already paused")

	held := strings.TrimSpace(c.run(t, "intent", "submit", "--type", "generate_summary", "--actor", "agent.runaway").stdout)
	other := strings.TrimSpace(c.run(t, "intent", "submit", "--type", "generate_summary", "--actor", "agent.good").stdout)
	waitFor(t, 20*time.Second, "the other actor's intent to run", func() bool { return listIntents(t, c)[other] == "completed" })
	var s struct {
		Paused       bool `json:"paused"`
		PausedActors []struct {
			Actor   string `json:"actor"`
			Reason  string `json:"reason"`
			Waiting int    `json:"waiting"`
		} `json:"paused_actors"`
		QueueDepth int `json:"queue_depth"`
	}
	c.run(t, "scheduler", "--json").decode(t, &s)
	if s.Paused || len(s.PausedActors) != 1 || s.PausedActors[0].Actor != "agent.runaway" || s.PausedActors[0].Waiting != 1 || s.QueueDepth != 1 ||
		listIntents(t, c)[held] != "queued" {
		t.Fatalf("while agent.runaway is paused: %+v; the intent is %s", s, listIntents(t, c)[held])
	}
	if r := c.run(t, "scheduler"); !strings.Contains(r.stdout, "\nactor agent.runaway paused by ") || !strings.Contains(r.stdout, ": loops on summaries; 1 of its intents waiting\n") {
		t.Fatalf("scheduler while agent.runaway waits: %q", r.stdout)
	}
	if r := c.run(t, "intent", "get", held); !strings.Contains(r.stdout, "actor agent.runaway is paused by ") || !strings.Contains(r.stdout, ": loops on summaries; grace scheduler resume --actor agent.runaway") {
		t.Fatalf("intent get of a held intent does not say why it waits: %q %q", r.stdout, r.stderr)
	}
	if r := c.run(t, "health"); !strings.Contains(r.stdout, "agent.runaway by ") || !strings.Contains(r.stdout, "1 waiting; grace scheduler resume --actor agent.runaway") {
		t.Fatalf("health while an actor is paused: %q %q", r.stdout, r.stderr)
	}
	if r := c.run(t, "scheduler", "resume", "--actor", "agent.runaway", "--reason", "loop fixed"); r.code != 0 || !strings.HasPrefix(r.stdout, "running: dispatching") || strings.Contains(r.stdout, "actor agent.runaway") {
		t.Fatalf("scheduler resume --actor: exit %d %q %q", r.code, r.stdout, r.stderr)
	}
	waitFor(t, 20*time.Second, "the held intent to run", func() bool { return listIntents(t, c)[held] == "completed" })
	if r := c.run(t, "narratives", "search", "--action", "actor_paused"); !strings.Contains(r.stdout, "loops on summaries") {
		t.Fatalf("the actor pause is not on the record: %q %q", r.stdout, r.stderr)
	}
}
