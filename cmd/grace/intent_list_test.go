package main

import (
	"strings"
	"testing"
)

// TestCLIListPages: intent list --limit N says where the next page starts
// when a page is full, and --before walks on from there to the end.
func TestCLIListPages(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	var ids []string
	for range 5 {
		r := c.run(t, "intent", "submit", "--type", "query_knowledge")
		if r.code != 0 {
			t.Fatalf("submit: exit %d: %s", r.code, r.stderr)
		}
		ids = append(ids, strings.TrimSpace(r.stdout))
	}
	var seen []string
	args := []string{"intent", "list", "--limit", "2", "--json"}
	for page := 0; page < 4; page++ {
		r := c.run(t, args...)
		var resp struct{ Intents []struct{ ID string } }
		r.decode(t, &resp)
		if r.code != 0 || len(resp.Intents) == 0 {
			break
		}
		for _, in := range resp.Intents {
			seen = append(seen, in.ID)
		}
		args = []string{"intent", "list", "--limit", "2", "--json", "--before", resp.Intents[len(resp.Intents)-1].ID}
	}
	if strings.Join(seen, " ") != strings.Join([]string{ids[4], ids[3], ids[2], ids[1], ids[0]}, " ") {
		t.Fatalf("pages gave %v, want the 5 intents newest first", seen)
	}

	r := c.run(t, "intent", "list", "--limit", "2")
	if want := "more may follow: --before " + ids[3]; r.code != 0 || !strings.Contains(r.stderr, want) {
		t.Fatalf("a full page: exit %d, stderr %q; want %q", r.code, r.stderr, want)
	}
	r = c.run(t, "intent", "list", "--limit", "2", "--before", ids[1])
	if r.code != 0 || strings.Contains(r.stderr, "more may follow") || !strings.Contains(r.stdout, ids[0]) {
		t.Fatalf("the last page: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	c.run(t, "intent", "list", "--before", "int_nope").wantFail(t, exitFailure, "--before int_nope: no such intent")
}
