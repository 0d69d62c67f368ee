package tui

import (
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"
)

// TestHelpRowsAreWhole opens the full help on every screen of an 80-column
// console and checks that each row's key and description are shown
// whole: help cut mid-word does not say what a key does.
func TestHelpRowsAreWhole(t *testing.T) {
	t.Parallel()
	for _, screen := range []string{"1", "2", "3", "4", "5"} {
		b, _ := setupChaos(t)
		b.send(tea.WindowSizeMsg{Width: 80, Height: 60})
		b.run(t, b.press(t, screen))
		b.press(t, "?")
		v := ansi.Strip(b.view())
		if !strings.Contains(v, "Help ·") {
			t.Fatalf("screen %s: ? did not open the help:\n%s", screen, v)
		}
		// Enter does nothing on Alerts (the selected alert's detail is
		// always shown), so its help must not offer it.
		if screen == "5" && strings.Contains(v, "open the detail") {
			t.Errorf("the Alerts help offers enter, which does nothing there:\n%s", v)
		}
		for _, g := range b.m.helpGroups() {
			for _, r := range g.rows {
				if !strings.Contains(v, r[0]) || !strings.Contains(v, r[1]) {
					t.Errorf("screen %s: help row %q %q is not shown whole:\n%s", screen, r[0], r[1], v)
				}
			}
		}
	}
}
