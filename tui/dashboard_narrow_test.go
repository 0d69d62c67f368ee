package tui

import (
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"
)

// TestDashboardNarrowKeepsFigures draws the dashboard in a 60×15
// terminal: the Throughput panel is too narrow for its labels and figures
// side by side, so the labels give way and every figure stays whole; the
// Queue panel's last line keeps its thresholds readable rather than
// running a cut "last …" into them.
func TestDashboardNarrowKeepsFigures(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.send(tea.WindowSizeMsg{Width: 60, Height: 15})
	v := ansi.Strip(b.view())
	checkBounds(t, b.view(), 60, 15)
	for _, want := range []string{"48.6/s", "47.9/s", "7,252", "7,238", "warn 1,000 · crit 5,000"} {
		if !strings.Contains(v, want) {
			t.Errorf("the 60×15 dashboard lacks %q:\n%s", want, v)
		}
	}
	for _, l := range strings.Split(v, "\n") {
		if strings.Contains(l, " … ") || strings.Contains(l, "…warn") {
			t.Errorf("a figure or label is cut into nothing: %q", l)
		}
	}
}
