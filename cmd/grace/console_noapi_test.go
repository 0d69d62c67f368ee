package main

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// A console whose API port is taken runs without its API, as documented;
// it said so in the log file only, so the CLI in another terminal met
// whatever held the port and nobody knew why. When it ends it says so on
// standard error, naming the address and the cause; while it runs, the
// console's header and status line say so.
func TestConsoleSaysItRanWithoutItsAPI(t *testing.T) {
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Skip("tmux is not installed (.ci/run installs it)")
	}
	t.Parallel()
	c := newCLI(t)
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	cfg := filepath.Join(c.dir, "console.yaml")
	body := "api:\n  listen: " + taken.Addr().String() + "\ncortex:\n  enabled: false\nhandlers:\n  default:\n    kind: noop\n"
	if err := os.WriteFile(cfg, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	socket := filepath.Join(c.dir, "tmux.sock")
	codeFile, errFile := filepath.Join(c.dir, "console.exit"), filepath.Join(c.dir, "console.stderr")
	script := fmt.Sprintf("cd %q && %q console --config %q 2>%q; echo $? > %q", c.dir, graceBin, cfg, errFile, codeFile)
	if out, err := tmux(t, socket, "new-session", "-d", "-s", "grace", "-x", "100", "-y", "30", "sh", "-c", script); err != nil {
		t.Fatalf("tmux new-session: %v: %s", err, out)
	}
	t.Cleanup(func() { _, _ = tmux(t, socket, "kill-server") })
	waitFor(t, 20*time.Second, "the dashboard", func() bool {
		out, _ := tmux(t, socket, "capture-pane", "-p", "-t", "grace")
		return strings.Contains(out, "Dashboard")
	})
	// While it runs, the console itself says so: the header marks it,
	// the status line names the address and the cause.
	waitFor(t, 20*time.Second, "the console saying it serves no API", func() bool {
		out, _ := tmux(t, socket, "capture-pane", "-p", "-t", "grace")
		return strings.Contains(out, "▲ NO API") &&
			strings.Contains(out, "this console serves no HTTP API (api.listen "+taken.Addr().String()+": bind: address already in use)")
	})
	quitConsoleInTmux(t, socket, codeFile)
	b, _ := os.ReadFile(errFile)
	want := "grace: this console ran without its HTTP API (api.listen " + taken.Addr().String() + ": bind: address already in use)"
	if !strings.Contains(string(b), want) {
		t.Fatalf("console's standard error %q; want %q", b, want)
	}
}
