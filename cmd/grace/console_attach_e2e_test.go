package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestConsoleAttachEndToEndInTmux runs "grace serve" in one process and
// "grace console --attach URL" in another, inside tmux: an agent submits a
// Tier 0 intent over HTTP, the attached console shows the popup from the
// event stream, the operator approves it, and the record names the
// operator's identity (not the login name of the terminal).
func TestConsoleAttachEndToEndInTmux(t *testing.T) {
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Skip("tmux is not installed (.ci/run installs it)")
	}
	t.Parallel()
	c := newCLI(t)
	url := closedURL(t)
	c.env = []string{"GRACE_API_SERVER=" + url, "GRACE_CORTEX_ENABLED=false"}
	cfg := writeServeConfig(t, c.dir, url, identitiesYAML(idAlice, idAgent, idVal))
	startServe(t, c, cfg, url)

	// The console runs in its own folder: it reads no database, only the API.
	consoleDir := filepath.Join(c.dir, "elsewhere")
	if err := os.MkdirAll(consoleDir, 0o700); err != nil {
		t.Fatal(err)
	}
	socket := filepath.Join(c.dir, "tmux.sock")
	codeFile := filepath.Join(c.dir, "console.exit")
	script := fmt.Sprintf("cd %q && USER=mallory GRACE_API_TOKEN=%s %q console --attach %s; echo $? > %q",
		consoleDir, idAlice.token, graceBin, url, codeFile)
	if out, err := tmux(t, socket, "new-session", "-d", "-s", "grace", "-x", "100", "-y", "30", "sh", "-c", script); err != nil {
		t.Fatalf("tmux new-session: %v: %s", err, out)
	}
	t.Cleanup(func() { _, _ = tmux(t, socket, "kill-server") })
	screen := func() string {
		out, _ := tmux(t, socket, "capture-pane", "-p", "-t", "grace")
		return out
	}
	waitFor(t, 20*time.Second, "the attached dashboard", func() bool { return strings.Contains(screen(), "Dashboard") })

	r := c.as(idAgent.token).run(t, "intent", "submit", "--type", "change_charter", "--payload", `{"clause":"resilience first"}`)
	id := strings.TrimSpace(r.stdout)
	if r.code != 0 || id == "" {
		t.Fatalf("agent submit over HTTP: exit %d %s %s", r.code, r.stdout, r.stderr)
	}
	waitFor(t, 10*time.Second, "the Tier 0 popup in the attached console", func() bool {
		s := screen()
		return strings.Contains(s, "change_charter") && strings.Contains(s, "agent.architect")
	})
	if _, err := tmux(t, socket, "send-keys", "-t", "grace", "a"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "the (y/N) question", func() bool { return strings.Contains(screen(), "y/N") })
	if _, err := tmux(t, socket, "send-keys", "-t", "grace", "y"); err != nil {
		t.Fatal(err)
	}
	alice := c.as(idAlice.token)
	waitFor(t, 10*time.Second, "the approved intent to complete", func() bool { return listIntents(t, alice)[id] == "completed" })

	r = c.run(t, "narratives", "search", "--intent", id, "--action", "intent_approved", "--json")
	var nr struct {
		Narratives []struct{ Who string } `json:"narratives"`
	}
	r.decode(t, &nr)
	if len(nr.Narratives) != 1 || nr.Narratives[0].Who != "alice" {
		t.Fatalf("approved by %+v; want the token's identity alice", nr.Narratives)
	}
	if s := screen(); strings.Contains(s, "level=") || strings.Contains(s, "msg=") {
		t.Fatalf("log lines reached the terminal:\n%s", s)
	}
	quitConsoleInTmux(t, socket, codeFile)
	if _, err := os.Stat(filepath.Join(consoleDir, "grace-data", "grace.db")); err == nil {
		t.Fatal("the attached console created a database")
	}
}

// TestConsoleAttachRefusesBadTokens checks that attach says what is wrong
// before taking the terminal.
func TestConsoleAttachRefusesBadTokens(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	url := closedURL(t)
	c.env = []string{"GRACE_API_SERVER=" + url, "GRACE_CORTEX_ENABLED=false"}
	cfg := writeServeConfig(t, c.dir, url, identitiesYAML(idAlice, idAgent))
	startServe(t, c, cfg, url)
	c.as("tok-forged").run(t, "console", "--attach", url).wantFail(t, exitFailure, "refused the API token")
	c.as(idAgent.token).run(t, "console", "--attach", url).wantFail(t, exitFailure, "the console needs an operator's or a viewer's")
	c.run(t, "console", "--attach", closedURL(t)).wantFail(t, exitFailure, "connection refused")
}
