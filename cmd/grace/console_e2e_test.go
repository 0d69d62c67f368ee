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

// tmux runs a tmux command against the test's own server socket.
func tmux(t *testing.T, socket string, args ...string) (string, error) {
	t.Helper()
	out, err := exec.Command("tmux", append([]string{"-S", socket}, args...)...).CombinedOutput()
	return string(out), err
}

// quitConsoleInTmux presses q in the console of the tmux server at socket
// and waits for the exit status its script writes to codeFile: 0.
func quitConsoleInTmux(t *testing.T, socket, codeFile string) {
	t.Helper()
	if _, err := tmux(t, socket, "send-keys", "-t", "grace", "q"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 20*time.Second, "the console to quit", func() bool {
		b, err := os.ReadFile(codeFile)
		return err == nil && len(b) > 0
	})
	if b, _ := os.ReadFile(codeFile); strings.TrimSpace(string(b)) != "0" {
		t.Fatalf("console exit status %q; want 0", b)
	}
}

// TestConsoleEndToEndInTmux drives the real binary's console through tmux:
// an agent in another process submits a Tier 0 intent over HTTP, the popup
// appears, the operator presses a then y, the intent's whole story is found
// by narrative search, q quits cleanly, and the audit chain verifies.
func TestConsoleEndToEndInTmux(t *testing.T) {
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Skip("tmux is not installed (.ci/run installs it)")
	}
	t.Parallel()
	c, url := newServerCLI(t)
	cfg := filepath.Join(c.dir, "console.yaml")
	body := fmt.Sprintf("api:\n  listen: %s\ncortex:\n  enabled: false\nhandlers:\n  default:\n    kind: noop\n",
		strings.TrimPrefix(url, "http://"))
	if err := os.WriteFile(cfg, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	socket := filepath.Join(c.dir, "tmux.sock")
	codeFile := filepath.Join(c.dir, "console.exit")
	script := fmt.Sprintf("cd %q && USER=opal %q console --config %q; echo $? > %q", c.dir, graceBin, cfg, codeFile)
	if out, err := tmux(t, socket, "new-session", "-d", "-s", "grace", "-x", "100", "-y", "30", "sh", "-c", script); err != nil {
		t.Fatalf("tmux new-session: %v: %s", err, out)
	}
	t.Cleanup(func() { _, _ = tmux(t, socket, "kill-server") })
	screen := func() string {
		out, _ := tmux(t, socket, "capture-pane", "-p", "-t", "grace")
		return out
	}
	waitFor(t, 20*time.Second, "the dashboard", func() bool { return strings.Contains(screen(), "Dashboard") })

	r := c.run(t, "intent", "submit", "--type", "change_charter", "--actor", "agent.architect",
		"--payload", `{"clause":"resilience first"}`)
	id := strings.TrimSpace(r.stdout)
	if r.code != 0 || id == "" {
		t.Fatalf("submit over HTTP: exit %d %s %s", r.code, r.stdout, r.stderr)
	}
	waitFor(t, 10*time.Second, "the Tier 0 popup", func() bool {
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
	waitFor(t, 10*time.Second, "the approved intent to complete", func() bool {
		return listIntents(t, c)[id] == "completed"
	})

	r = c.run(t, "narratives", "search", "--intent", id, "--json")
	var nr struct {
		Narratives []struct{ Who, What string } `json:"narratives"`
	}
	r.decode(t, &nr)
	story := map[string]string{}
	for _, n := range nr.Narratives {
		story[n.What] = n.Who
	}
	for _, what := range []string{"intent_received", "intent_routed", "intent_approved", "intent_dispatched", "intent_completed"} {
		if _, ok := story[what]; !ok {
			t.Errorf("the intent's story lacks %s: %v", what, story)
		}
	}
	if who := story["intent_approved"]; who != "opal" {
		t.Errorf("approved by %q; want the operator opal", who)
	}
	if s := screen(); strings.Contains(s, "level=") || strings.Contains(s, "msg=") {
		t.Fatalf("log lines reached the terminal:\n%s", s)
	}

	// At 60×15 the Throughput panel is too narrow for its labels and
	// figures side by side: the labels give way, both rates stay whole
	// (they were cut to "…").
	if _, err := tmux(t, socket, "resize-window", "-t", "grace", "-x", "60", "-y", "15"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "both rates whole at 60×15", func() bool {
		s := screen()
		return strings.Contains(s, "Throughput") && strings.Count(s, "/s") >= 2
	})

	quitConsoleInTmux(t, socket, codeFile)
	if r := c.run(t, "audit", "verify"); r.code != 0 {
		t.Fatalf("audit verify: exit %d %s %s", r.code, r.stdout, r.stderr)
	}
}
