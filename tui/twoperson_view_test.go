package tui

import (
	"strings"
	"testing"
	"time"

	"grace/engine/intent"
)

// An intent half approved under the two-person rule says so in its
// detail, so that its first approver knows to leave it to another
// operator and the next one knows a colleague has approved it.
func TestHalfApprovedIntentSaysWhoApprovedFirst(t *testing.T) {
	t.Parallel()
	b := setup(t)
	it := pendingIntent("int_01JPB9HALF00000000000001", "change_charter", "agent.architect", time.Minute)
	it.DecidedBy, it.DecisionReason = "alice", "charter reviewed"
	b.api.setPending([]intent.Intent{it})
	b.run(t, b.press(t, "2"))
	b.run(t, b.press(t, "<enter>"))
	v := b.view()
	checkBounds(t, v, 80, 24)
	if !strings.Contains(v, "alice approved, 1 of the 2 needed") {
		t.Fatalf("the detail does not say alice approved first:\n%s", v)
	}
	// Unapproved, it says nothing of the kind.
	b = setup(t)
	it.DecidedBy, it.DecisionReason = "", ""
	b.api.setPending([]intent.Intent{it})
	b.run(t, b.press(t, "2"))
	b.run(t, b.press(t, "<enter>"))
	if v := b.view(); strings.Contains(v, "1 of the 2 needed") || !strings.Contains(v, "REASONING") {
		t.Fatalf("an intent nobody approved reads as half approved:\n%s", v)
	}
}
