package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCLIBatchDirect: intent batch on the database directly governs each
// line, prints one result per line in order, and exits 1 when any was
// refused; only the accepted ones are stored.
func TestCLIBatchDirect(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	file := filepath.Join(c.dir, "b.jsonl")
	body := `{"type":"query_knowledge","payload":{"q":1}}` + "\n\n" +
		`{"type":"change_charter","idempotency_key":"a"}` + "\n" +
		`{"type":""}` + "\n"
	if err := os.WriteFile(file, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	r := c.run(t, "intent", "batch", "b.jsonl")
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if r.code != exitFailure || len(lines) != 3 || !strings.HasSuffix(lines[0], "queued") ||
		!strings.HasSuffix(lines[1], "pending_approval") || !strings.Contains(lines[2], "refused\t422 invalid_intent") ||
		!strings.Contains(r.stderr, "1 of 3 submissions refused (2 accepted)") {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	if got := listIntents(t, c); len(got) != 2 {
		t.Fatalf("%d intents stored, want 2", len(got))
	}
}

// TestCLIBatchRemote: over HTTP a batch larger than one request's 1000 is
// sent in parts, each line governed as the caller (an agent's lines are
// its own), and every one is stored.
func TestCLIBatchRemote(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	url := closedURL(t)
	c.env = []string{"GRACE_API_SERVER=" + url, "GRACE_CORTEX_ENABLED=false"}
	cfg := writeServeConfig(t, c.dir, url, identitiesYAML(idAlice, idAgent)+
		"htm:\n  capacity: 5000\n  rate_limit: {actor_burst: 5000, global_burst: 5000}\n")
	startServe(t, c, cfg, url)
	var b strings.Builder
	for i := range 1200 {
		fmt.Fprintf(&b, `{"type":"query_knowledge","payload":{"n":%d},"idempotency_key":"k%d"}`+"\n", i, i)
	}
	if err := os.WriteFile(filepath.Join(c.dir, "many.jsonl"), []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	agent, alice := c.as(idAgent.token), c.as(idAlice.token)
	r := agent.run(t, "intent", "batch", "many.jsonl", "--json")
	var resp struct {
		Results []struct {
			Status int
			ID     string
		}
		Accepted, Refused int
	}
	r.decode(t, &resp)
	if r.code != 0 || resp.Accepted != 1200 || resp.Refused != 0 || len(resp.Results) != 1200 {
		t.Fatalf("exit %d, accepted %d, refused %d, %d results\n%s", r.code, resp.Accepted, resp.Refused, len(resp.Results), r.stderr)
	}
	ids := map[string]bool{}
	for _, res := range resp.Results {
		ids[res.ID] = true
	}
	if len(ids) != 1200 {
		t.Fatalf("%d distinct IDs for 1200 submissions", len(ids))
	}
	// Sent again, every line is its key's retry: nothing new is stored.
	r = agent.run(t, "intent", "batch", "many.jsonl", "--json")
	r.decode(t, &resp)
	if r.code != 0 || resp.Accepted != 1200 || resp.Results[0].Status != 200 || resp.Results[1199].Status != 200 {
		t.Fatalf("the same batch again: exit %d, first %d, last %d", r.code, resp.Results[0].Status, resp.Results[1199].Status)
	}
	stored := 0
	for args := []string{"intent", "list", "--limit", "1000", "--json"}; ; {
		r = alice.run(t, args...)
		var page struct{ Intents []struct{ ID, Actor string } }
		r.decode(t, &page)
		if len(page.Intents) == 0 {
			break
		}
		for _, in := range page.Intents {
			if !ids[in.ID] || in.Actor != "agent.architect" {
				t.Fatalf("stored intent %s by %q is not one of the agent's batch", in.ID, in.Actor)
			}
			stored++
		}
		args = []string{"intent", "list", "--limit", "1000", "--json", "--before", page.Intents[len(page.Intents)-1].ID}
	}
	if stored != 1200 {
		t.Fatalf("%d intents stored, want 1200", stored)
	}
}

// TestCLIBatchIsRateLimited: a batch is no way around intake's rate
// limit: past the actor's burst its submissions are refused 429, each in
// its place, and only those within it are stored.
func TestCLIBatchIsRateLimited(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	url := closedURL(t)
	c.env = []string{"GRACE_API_SERVER=" + url, "GRACE_CORTEX_ENABLED=false"}
	cfg := writeServeConfig(t, c.dir, url, identitiesYAML(idAlice, idAgent)+
		"htm:\n  rate_limit: {actor_rate: 1, actor_burst: 10}\n")
	startServe(t, c, cfg, url)
	if err := os.WriteFile(filepath.Join(c.dir, "b.jsonl"), []byte(strings.Repeat(`{"type":"query_knowledge"}`+"\n", 50)), 0o600); err != nil {
		t.Fatal(err)
	}
	r := c.as(idAgent.token).run(t, "intent", "batch", "b.jsonl", "--json")
	var resp struct {
		Results []struct {
			Status int
			Error  *struct{ Code string }
		}
		Accepted, Refused int
	}
	r.decode(t, &resp)
	limited := 0
	for _, res := range resp.Results {
		if res.Status == 429 && res.Error != nil && res.Error.Code == "rate_limited" {
			limited++
		}
	}
	if r.code != exitFailure || resp.Accepted < 10 || resp.Accepted > 12 || limited != 50-resp.Accepted {
		t.Fatalf("exit %d, accepted %d, rate limited %d of 50", r.code, resp.Accepted, limited)
	}
	if got := listIntents(t, c.as(idAlice.token)); len(got) != resp.Accepted {
		t.Fatalf("%d intents stored, %d accepted", len(got), resp.Accepted)
	}
}

// TestCLIBatchBadInput: a batch that does not read stops before anything
// is sent, naming the line; nothing is stored.
func TestCLIBatchBadInput(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	write := func(name, body string) {
		if err := os.WriteFile(filepath.Join(c.dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("case.jsonl", `{"type":"query_knowledge"}`+"\n"+`{"Type":"query_knowledge"}`+"\n")
	write("twice.jsonl", `{"type":"a","type":"b"}`+"\n")
	write("broken.jsonl", `{"type":"query_knowledge"}`+"\n"+`{"type":`+"\n")
	write("empty.jsonl", "\n\n")
	write("array.json", `[{"type":"q"}, 3]`)
	// A value of the wrong type was told in Go's terms: "cannot unmarshal
	// string into Go struct field SubmitRequest.priority of type int".
	write("priority.jsonl", `{"type":"q"}`+"\n\n"+`{"type":"q","priority":"high"}`+"\n")
	write("typed.json", `[{"type":7}]`)
	for _, tc := range []struct{ file, want string }{
		{"case.jsonl", `case.jsonl line 2: unknown field "Type"`},
		{"twice.jsonl", "twice.jsonl line 1: type is given twice"},
		{"broken.jsonl", "broken.jsonl line 2: not valid JSON"},
		{"empty.jsonl", "empty.jsonl holds no submissions"},
		{"array.json", "array.json: item 2: not a JSON object"},
		{"priority.jsonl", "priority.jsonl line 3: priority: expected an integer, got a string"},
		{"typed.json", "typed.json: item 1: type: expected a string, got a number"},
		{"missing.jsonl", "missing.jsonl: no such file or directory"},
	} {
		c.run(t, "intent", "batch", tc.file).wantFail(t, exitUsage, tc.want)
	}
	wantNothingIn(t, c.dir, "case.jsonl", "twice.jsonl", "broken.jsonl", "empty.jsonl", "array.json", "priority.jsonl", "typed.json")
}

// TestCLIBatchAtomic: intent batch --atomic stores a file all or none, on
// the database directly and through a server alike: one bad line stores
// nothing (it is printed with its error, the others as not_stored naming
// it by its number, exit 1); the same file fixed stores every line.
func TestCLIBatchAtomic(t *testing.T) {
	t.Parallel()
	direct := newCLI(t)
	remote, url := newServerCLI(t)
	startServe(t, remote, writeServeConfig(t, remote.dir, url, ""), url)
	for name, c := range map[string]*cli{"direct": direct, "server": remote} {
		t.Run(name, func(t *testing.T) {
			bad := `{"type":"query_knowledge"}` + "\n" + `{"type":"change_charter"}` + "\n" + `{"type":"query_knowledge","priority":42}` + "\n"
			if err := os.WriteFile(filepath.Join(c.dir, "bad.jsonl"), []byte(bad), 0o600); err != nil {
				t.Fatal(err)
			}
			before := 0 // the direct CLI's database does not exist yet
			if name == "server" {
				before = len(listIntents(t, c))
			}
			r := c.run(t, "intent", "batch", "--atomic", "bad.jsonl")
			lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
			// The one refused is named as numbered here (3), not by its place
			// in the request (intents[2]).
			if r.code != exitFailure || len(lines) != 3 || !strings.Contains(lines[0], "refused\t424 not_stored: not stored: the batch is all or none, and 3 was refused") ||
				!strings.Contains(lines[2], "refused\t422 invalid_intent") ||
				!strings.Contains(r.stderr, "atomic batch refused: 1 of 3 submissions would be refused, so none of the 3 was stored") {
				t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
			}
			if n := len(listIntents(t, c)); n != before {
				t.Fatalf("a refused atomic batch stored %d intents", n-before)
			}
			good := strings.Replace(bad, `"priority":42`, `"priority":4`, 1)
			if err := os.WriteFile(filepath.Join(c.dir, "good.jsonl"), []byte(good), 0o600); err != nil {
				t.Fatal(err)
			}
			r = c.run(t, "intent", "batch", "--atomic", "good.jsonl")
			if r.code != 0 || strings.Count(r.stdout, "\n") != 3 || !strings.Contains(r.stdout, "pending_approval") {
				t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
			}
			if n := len(listIntents(t, c)); n != before+3 {
				t.Fatalf("the atomic batch stored %d intents, want 3", n-before)
			}
		})
	}
	many := strings.Repeat(`{"type":"query_knowledge"}`+"\n", 1001)
	if err := os.WriteFile(filepath.Join(direct.dir, "many.jsonl"), []byte(many), 0o600); err != nil {
		t.Fatal(err)
	}
	direct.run(t, "intent", "batch", "--atomic", "many.jsonl").wantFail(t, exitUsage, "at most 1000, and many.jsonl holds 1001; split it")
}
