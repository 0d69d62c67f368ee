package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"
)

// TestNarrativesFollow: search --follow prints the newest matches oldest
// first, then each new match as another process writes it, one JSON
// object a line with --json, and ends cleanly (exit 0) on an interrupt.
func TestNarrativesFollow(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	submit := func(typ string) string {
		t.Helper()
		r := c.run(t, "intent", "submit", "--type", typ)
		if r.code != 0 {
			t.Fatalf("submit %s: exit %d %s", typ, r.code, r.stderr)
		}
		return strings.TrimSpace(r.stdout)
	}
	first, second := submit("query_knowledge"), submit("generate_summary")
	g := startGrace(t, c, "narratives", "search", "--follow", "--json", "--action", "intent_received", "--limit", "1", "--interval", "20ms")
	intents := func() []string {
		var ids []string
		for _, line := range strings.Split(strings.TrimSpace(g.stdout.String()), "\n") {
			var e struct {
				What     string `json:"what"`
				IntentID string `json:"intent_id"`
			}
			if line == "" {
				continue
			}
			if err := json.Unmarshal([]byte(line), &e); err != nil {
				t.Fatalf("not one JSON object a line: %q: %v", line, err)
			}
			if e.What != "intent_received" {
				t.Fatalf("followed a %s record past --action intent_received", e.What)
			}
			ids = append(ids, e.IntentID)
		}
		return ids
	}
	waitFor(t, 10*time.Second, "the newest match", func() bool { return len(intents()) == 1 })
	if got := intents(); got[0] != second {
		t.Fatalf("first line is %s, want the newest match %s (not %s)", got[0], second, first)
	}
	third, fourth := submit("schedule_task"), submit("query_knowledge")
	waitFor(t, 10*time.Second, "the new matches", func() bool { return len(intents()) == 3 })
	if got := intents(); got[1] != third || got[2] != fourth {
		t.Fatalf("followed %v, want %s then %s after %s", got, third, fourth, second)
	}
	if err := g.cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	if code := g.exit(t); code != 0 {
		t.Fatalf("interrupted follow: exit %d: %s", code, g.stderr.String())
	}
}

// TestNarrativesSearchAsksAServer: with --server, search (and follow)
// reads a grace serve's record over HTTP, from a folder with no database;
// a server that does not answer is named.
func TestNarrativesSearchAsksAServer(t *testing.T) {
	t.Parallel()
	c, url := newServerCLI(t)
	startServe(t, c, writeServeConfig(t, c.dir, url, ""), url)
	submit := func() string {
		t.Helper()
		r := c.run(t, "intent", "submit", "--type", "query_knowledge")
		if r.code != 0 {
			t.Fatalf("submit: exit %d %s", r.code, r.stderr)
		}
		return strings.TrimSpace(r.stdout)
	}
	first := submit()
	tok, err := os.ReadFile(filepath.Join(c.dir, "grace-data", tokenFileName))
	if err != nil {
		t.Fatal(err)
	}
	far := &cli{dir: t.TempDir(), env: []string{"GRACE_API_TOKEN=" + strings.TrimSpace(string(tok))}}
	var found struct {
		Narratives []struct {
			What     string `json:"what"`
			IntentID string `json:"intent_id"`
		} `json:"narratives"`
	}
	far.run(t, "narratives", "search", "--server", url, "--intent", first, "--json").decode(t, &found)
	if len(found.Narratives) < 2 || found.Narratives[len(found.Narratives)-1].What != "intent_received" {
		t.Fatalf("the server's record of %s: %+v", first, found)
	}
	if _, err := os.Stat(filepath.Join(far.dir, "grace-data")); err == nil {
		t.Fatal("a search of a server made a data folder")
	}

	g := startGrace(t, far, "narratives", "search", "--server", url, "-f", "--json", "--action", "intent_received", "--limit", "1", "--interval", "20ms")
	lines := func() []string {
		out := strings.TrimSpace(g.stdout.String())
		if out == "" {
			return nil
		}
		return strings.Split(out, "\n")
	}
	waitFor(t, 10*time.Second, "the newest match", func() bool { return len(lines()) == 1 })
	second := submit()
	waitFor(t, 10*time.Second, "the new match", func() bool { return len(lines()) == 2 })
	if l := lines(); !strings.Contains(l[0], first) || !strings.Contains(l[1], second) {
		t.Fatalf("followed %q, want %s then %s", l, first, second)
	}
	if err := g.cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	if code := g.exit(t); code != 0 {
		t.Fatalf("interrupted follow: exit %d: %s", code, g.stderr.String())
	}
	far.run(t, "narratives", "search", "--server", closedURL(t)).wantFail(t, exitFailure, "no server answers at")
}

// TestNarrativesFollowServerStops: search --follow --server ends with exit
// 1 when the server it follows stops, saying it stopped answering; it said
// "no server answers at URL: start grace serve there", as if it had never
// answered.
func TestNarrativesFollowServerStops(t *testing.T) {
	t.Parallel()
	c, url := newServerCLI(t)
	srv := startServe(t, c, writeServeConfig(t, c.dir, url, ""), url)
	follow := exec.Command(graceBin, "narratives", "search", "-f", "--interval", "50ms", "--server", url)
	follow.Dir, follow.Env = c.dir, append(os.Environ(), c.env...)
	out, errb := &syncBuffer{}, &syncBuffer{}
	follow.Stdout, follow.Stderr = out, errb
	if err := follow.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- follow.Wait() }()
	t.Cleanup(func() { _ = follow.Process.Kill() })
	waitFor(t, 20*time.Second, "the follow's header", func() bool { return strings.Contains(out.String(), "WHEN") })
	if err := srv.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatalf("search --follow did not end when its server stopped; stderr: %s", errb.String())
	}
	r := result{stderr: errb.String(), code: follow.ProcessState.ExitCode()}
	r.wantFail(t, exitFailure, "the server at "+url+" stopped answering")
}

// TestNarrativesFollowWideCharacters: search --follow's rows keep their
// columns under the header when a cell holds characters two columns wide
// (an actor named in Japanese): they were padded by characters, not by
// what a terminal shows.
func TestNarrativesFollowWideCharacters(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	for _, actor := range []string{"agent.日本語テスト", "agent.x"} {
		if r := c.run(t, "intent", "submit", "--type", "query_knowledge", "--actor", actor); r.code != 0 {
			t.Fatalf("submit: exit %d: %s", r.code, r.stderr)
		}
	}
	follow := exec.Command(graceBin, "narratives", "search", "-f", "--action", "intent_received")
	follow.Dir, follow.Env = c.dir, append(os.Environ(), c.env...)
	out, errb := &syncBuffer{}, &syncBuffer{}
	follow.Stdout, follow.Stderr = out, errb
	if err := follow.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- follow.Wait() }()
	t.Cleanup(func() { _ = follow.Process.Kill() })
	waitFor(t, 20*time.Second, "the follow's two rows", func() bool { return strings.Count(out.String(), "\n") >= 3 })
	if err := follow.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	<-done
	lines := strings.Split(strings.TrimRight(out.String(), "\n"), "\n")
	head, _, _ := strings.Cut(lines[0], "WHAT")
	for _, line := range lines[1:] {
		before, _, ok := strings.Cut(line, "intent_received")
		if !ok || ansi.StringWidth(before) != ansi.StringWidth(head) {
			t.Errorf("WHAT starts at column %d in %q, at %d in the header:\n%s", ansi.StringWidth(before), line, ansi.StringWidth(head), out.String())
		}
	}
}
