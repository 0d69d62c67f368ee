package main

import (
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"
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

// TestCLIListFilters: intent list narrows by type, actor, tier and age, on
// the database directly and through a server alike, and refuses a tier or
// an age it cannot read.
func TestCLIListFilters(t *testing.T) {
	t.Parallel()
	c, url := newServerCLI(t)
	submit := func(typ, actor string) string {
		t.Helper()
		r := c.run(t, "intent", "submit", "--type", typ, "--actor", actor)
		if r.code != 0 {
			t.Fatalf("submit %s: exit %d: %s", typ, r.code, r.stderr)
		}
		return strings.TrimSpace(r.stdout)
	}
	charter := submit("change_charter", "agent.a")
	query := submit("query_knowledge", "agent.b")
	schedule := submit("schedule_task", "agent.a")
	ids := func(args ...string) string {
		t.Helper()
		r := c.run(t, append([]string{"intent", "list", "--json"}, args...)...)
		var resp struct{ Intents []struct{ ID string } }
		r.decode(t, &resp)
		var out []string
		for _, in := range resp.Intents {
			out = append(out, in.ID)
		}
		return strings.Join(out, " ")
	}
	check := func(where string) {
		t.Helper()
		for _, tc := range []struct {
			args []string
			want string
		}{
			{[]string{"--type", "query_knowledge"}, query},
			{[]string{"--actor", "agent.a"}, schedule + " " + charter},
			{[]string{"--tier", "0"}, charter},
			{[]string{"--actor", "agent.a", "--tier", "2"}, schedule},
			{[]string{"--since", "1h"}, schedule + " " + query + " " + charter},
			{[]string{"--since", "2999-01-01T00:00:00Z"}, ""},
		} {
			if got := ids(tc.args...); got != tc.want {
				t.Errorf("%s: list %v = %q, want %q", where, tc.args, got, tc.want)
			}
		}
	}
	check("on the database")
	startServe(t, c, writeServeConfig(t, c.dir, url, ""), url)
	check("through the server")
	c.run(t, "intent", "list", "--tier", "5").wantFail(t, exitUsage, "--tier 5: want 0 to 4")
	c.run(t, "intent", "list", "--since", "yesterday").wantFail(t, exitUsage, `--since "yesterday"`)
}

// TestCLITableWideCharacters: a table's columns line up on a terminal when
// a cell holds characters two columns wide (an actor named in Japanese,
// an emoji): the column after it starts where its header does, on every
// row. The tables counted characters, so such a row's later columns sat
// further right than the header's.
func TestCLITableWideCharacters(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	for _, actor := range []string{"agent.日本語テスト🚀", "agent.x"} {
		if r := c.run(t, "intent", "submit", "--type", "query_knowledge", "--actor", actor, "--priority", "7"); r.code != 0 {
			t.Fatalf("submit: exit %d: %s", r.code, r.stderr)
		}
	}
	for _, args := range [][]string{{"intent", "list"}, {"narratives", "search", "--action", "intent_received"}} {
		r := c.run(t, args...)
		lines := strings.Split(strings.TrimRight(r.stdout, "\n"), "\n")
		if r.code != 0 || len(lines) != 3 {
			t.Fatalf("%v: exit %d\n%s%s", args, r.code, r.stdout, r.stderr)
		}
		// The column after the actor's: PRIO in intent list, WHAT in narratives search.
		next, value := "PRIO", "7"
		if args[0] == "narratives" {
			next, value = "WHAT", "intent_received"
		}
		head, _, ok := strings.Cut(lines[0], next)
		if !ok {
			t.Fatalf("%v: no %s column:\n%s", args, next, r.stdout)
		}
		for _, line := range lines[1:] {
			before, _, ok := strings.Cut(line, "  "+value+"  ")
			if !ok {
				t.Fatalf("%v: no %q in %q", args, value, line)
			}
			if got, want := ansi.StringWidth(before)+2, ansi.StringWidth(head); got != want {
				t.Errorf("%v: %s starts at column %d in %q, at %d in the header:\n%s", args, next, got, line, want, r.stdout)
			}
		}
	}
}

// A list or search that matches nothing says so on stderr and prints no
// bare header on stdout (exit 0: nothing is wrong).
func TestCLINothingMatchesSaysSo(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	if r := c.run(t, "intent", "submit", "--type", "query_knowledge"); r.code != 0 {
		t.Fatalf("submit: exit %d: %s", r.code, r.stderr)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"intent", "list", "--state", "failed"}, "grace: no intents match"},
		{[]string{"narratives", "search", "kangaroo"}, "grace: no narratives match"},
	} {
		r := c.run(t, tc.args...)
		if r.code != 0 || r.stdout != "" || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("grace %q: exit %d, stdout %q, stderr %q; want exit 0, nothing on stdout, %q", tc.args, r.code, r.stdout, r.stderr, tc.want)
		}
	}
}
