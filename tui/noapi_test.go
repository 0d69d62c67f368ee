package tui

import (
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"
)

// A console whose engine serves no HTTP API (its port was taken) says so
// while it runs: the status line names api.listen and the cause as it
// starts, :messages keeps it, and the header marks it for as long as it
// runs. It said so only in the log file, then on standard error at exit,
// while the CLI in another terminal met whatever held the port.
func TestConsoleSaysItServesNoAPI(t *testing.T) {
	t.Parallel()
	const why = "api.listen 127.0.0.1:7420: bind: address already in use"
	b := setup(t, func(o *Options) { o.NoAPI = why })
	if s := b.statusText(); !strings.Contains(s, "this console serves no HTTP API ("+why+")") || b.statusLevel() != levelWarn {
		t.Errorf("status line at start: %q", s)
	}
	if h := header(b.view()); !strings.Contains(h, "▲ NO API") {
		t.Errorf("header at 80 columns: %q", h)
	}
	checkBounds(t, b.view(), 80, 24)
	b.send(tea.WindowSizeMsg{Width: 160, Height: 40})
	b.run(t, b.command(t, "messages"))
	if v := ansi.Strip(b.view()); !strings.Contains(strings.Join(strings.Fields(v), " "), "--set api.listen=127.0.0.1:PORT") {
		t.Errorf(":messages lacks the notice:\n%s", v)
	}

	if h := header(setup(t).view()); strings.Contains(h, "NO API") {
		t.Errorf("a console serving its API marks it as not: %q", h)
	}
}
