package tui

import (
	"strings"
	"testing"
	"time"

	"grace/engine/intent"
)

// TestPopupLaterNamesTheKeyAsAKey: esc on an arrival says where it waits
// and which key opens that screen in words that cannot be read as a count
// ("Approvals (2)" beside a badge saying ⚑ 1 read as two waiting).
func TestPopupLaterNamesTheKeyAsAKey(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.api.setPending([]intent.Intent{pendingIntent(tier0ID, "deploy_production", "agent:release-bot", time.Minute)})
	b.arrive(t, tier0ID)
	b.press(t, "<esc>")
	row := statusRow(b.view())
	want := "later: " + tier0ID + " waits in Approvals (press 2)"
	if !strings.Contains(row, want) {
		t.Fatalf("at 80 columns the status line says %q, want %q", row, want)
	}
	if strings.Contains(row, "Approvals (2)") {
		t.Errorf("the status line still reads like a count: %q", row)
	}
}

// TestApproveQuestionHasNoSpaceBeforeTheQuestionMark: the popup's
// question reads "Approve int_…? (y/N)".
func TestApproveQuestionHasNoSpaceBeforeTheQuestionMark(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.api.setPending([]intent.Intent{pendingIntent(tier0ID, "deploy_production", "agent:release-bot", time.Minute)})
	b.arrive(t, tier0ID)
	b.press(t, "a")
	v := b.view()
	if !strings.Contains(v, "Approve "+tier0ID+"? (y/N)") || strings.Contains(v, " ? (y/N)") {
		t.Fatalf("the question is not \"Approve %s? (y/N)\":\n%s", tier0ID, v)
	}
}
