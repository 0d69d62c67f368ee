package engine

import (
	"slices"
	"strings"
	"testing"
)

// TestConsoleKeysSilence: the console's silence action has a default key
// and console.keys may remap it like any other action.
func TestConsoleKeysSilence(t *testing.T) {
	t.Parallel()
	if got := DefaultConsoleKeys()["silence"]; !slices.Equal(got, []string{"s"}) {
		t.Errorf("the silence action's default keys are %q, want [s]", got)
	}
	var p problems
	p.checkConsoleKeys(map[string][]string{"silence": {"ctrl+s"}})
	if len(p) != 0 {
		t.Errorf("console.keys.silence is refused: %v", p)
	}
	p.checkConsoleKeys(map[string][]string{"silences": {"x"}})
	if len(p) != 1 || !strings.Contains(p[0].Error(), "silence,") {
		t.Errorf("an unknown action is not refused naming the known ones (silence among them): %v", p)
	}
}
