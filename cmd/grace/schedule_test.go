package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestCLIScheduledSubmission: intent submit --delay or --not-before
// schedules the intent (it waits, queued, with its time shown), a batch
// line may carry not_before, and a bad or doubled schedule is a usage
// error that submits nothing.
func TestCLIScheduledSubmission(t *testing.T) {
	t.Parallel()
	c, url := newServerCLI(t)
	startServe(t, c, writeServeConfig(t, c.dir, url, ""), url)

	c.run(t, "intent", "submit", "--type", "query_knowledge", "--delay", "1h", "--not-before", "2030-01-01T00:00:00Z").wantFail(t, exitUsage, "give one")
	c.run(t, "intent", "submit", "--type", "query_knowledge", "--not-before", "tomorrow").wantFail(t, exitUsage, "want an RFC 3339 time")
	c.run(t, "intent", "submit", "--type", "query_knowledge", "--delay", "-5m").wantFail(t, exitUsage, "want a positive duration")
	if n := len(listIntents(t, c)); n != 0 {
		t.Fatalf("refused schedules submitted %d intents", n)
	}

	id := strings.TrimSpace(c.run(t, "intent", "submit", "--type", "query_knowledge", "--delay", "1h").stdout)
	r := c.run(t, "intent", "get", id)
	if r.code != 0 || !strings.Contains(r.stdout, "not_before") || !strings.Contains(r.stdout, "state       queued") {
		t.Fatalf("a delayed intent: exit %d %q %q", r.code, r.stdout, r.stderr)
	}
	at := time.Now().Add(2 * time.Hour).UTC().Format(time.RFC3339)
	lines := filepath.Join(c.dir, "scheduled.jsonl")
	if err := os.WriteFile(lines, []byte(`{"type":"query_knowledge","not_before":"`+at+`"}`+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if r := c.run(t, "intent", "batch", lines); r.code != 0 {
		t.Fatalf("a scheduled batch line: exit %d %q %q", r.code, r.stdout, r.stderr)
	}
	queued := 0
	for _, st := range listIntents(t, c) {
		if st == "queued" {
			queued++
		}
	}
	if queued != 2 {
		t.Fatalf("%d intents wait queued, want the 2 scheduled ones", queued)
	}
	for _, args := range [][]string{{"health"}, {"scheduler"}} {
		if r := c.run(t, args...); !strings.Contains(r.stdout, "2 not yet due") {
			t.Fatalf("grace %s does not count the scheduled intents: %q %q", args[0], r.stdout, r.stderr)
		}
	}
}
