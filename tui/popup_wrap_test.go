package tui

import (
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"
)

// TestPopupWrapsReasons: a Tier 0 arrival's reasons are what the operator
// decides on, so the popup wraps them at word boundaries instead of
// cutting them mid-word, and names how many it left to Approvals.
func TestPopupWrapsReasons(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.arrive(t, "int_01JPBNEW0000000000000000AA")
	v := ansi.Strip(b.view())
	for _, want := range []string{"a human must", "approve ", "(extend_grace 0.5, revenue 0.3)", "(+1 more in Approvals)"} {
		if !strings.Contains(v, want) {
			t.Errorf("the popup lacks %q:\n%s", want, v)
		}
	}
	if strings.Contains(v, "app…") || strings.Contains(v, "(exten…") {
		t.Errorf("the popup cuts a reason mid-word:\n%s", v)
	}
}
