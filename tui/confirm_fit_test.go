package tui

import (
	"strings"
	"testing"

	"grace/engine"
)

// lineWith is the first line of view holding s, "" when none does.
func lineWith(view, s string) string {
	for _, l := range strings.Split(view, "\n") {
		if strings.Contains(l, s) {
			return l
		}
	}
	return ""
}

// At 80 columns a yes/no question about a long subject still ends in
// "(y/N)": the question gives way, not the answer the operator must
// read before pressing a key.
func TestConfirmQuestionsKeepTheirAnswerAt80Columns(t *testing.T) {
	t.Parallel()
	t.Run("halt of a run with a real run ID", func(t *testing.T) {
		t.Parallel()
		b, _ := setupChaos(t)
		const id = "chaos-20261129T171517.884Z-nt2wu2vk" // as the engine names its runs
		b.run(t, b.send(eventsMsg{events: []engine.Event{progressEvent(id, "L2_htm_queue_flood", 1, 1, engine.ChaosPhaseInject, []string{"intake_flood"}, nil)}}))
		b.press(t, "H")
		l := lineWith(b.view(), "Halt chaos run")
		if !strings.Contains(l, "(y/N)") || !strings.Contains(l, "remove its faults?") || !strings.Contains(l, "nt2wu2vk") {
			t.Fatalf("the halt question lost its answer, its point or the run:\n%s", b.view())
		}
	})
	t.Run("run of a scenario with a long category", func(t *testing.T) {
		t.Parallel()
		b, _ := setupChaos(t)
		b.press(t, "G") // L2_policy_cascade, layer2_orchestration
		b.press(t, "r")
		l := lineWith(b.view(), "Run L2_policy_cascade")
		if !strings.Contains(l, "(y/N)") {
			t.Fatalf("the run question lost its (y/N):\n%s", b.view())
		}
	})
}
