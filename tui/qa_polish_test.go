package tui

import (
	"strings"
	"testing"
	"time"

	"grace/engine"
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

// TestStatusGivesWayToANewPrompt: "approve cancelled: …" is about the
// question the operator just answered; when the deny prompt opens it no
// longer shows under it.
func TestStatusGivesWayToANewPrompt(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.api.setPending([]intent.Intent{pendingIntent(tier0ID, "deploy_production", "agent:release-bot", time.Minute)})
	b.arrive(t, tier0ID)
	b.press(t, "a", "n")
	if row := statusRow(b.view()); !strings.Contains(row, "approve cancelled") {
		t.Fatalf("after a, n the status line says %q", row)
	}
	b.press(t, "d")
	v := b.view()
	if !strings.Contains(v, "Deny") || !strings.Contains(v, "reason:") {
		t.Fatalf("d did not open the reason prompt:\n%s", v)
	}
	if row := statusRow(v); strings.Contains(row, "approve cancelled") {
		t.Errorf("the deny prompt is open and the status line still says %q", row)
	}
}

// TestReasonRefusalGoesOnceTheOperatorTypes: "deny needs a reason" is
// said on an empty enter, and goes as soon as the operator types one.
func TestReasonRefusalGoesOnceTheOperatorTypes(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.api.setPending([]intent.Intent{pendingIntent(tier0ID, "deploy_production", "agent:release-bot", time.Minute)})
	b.arrive(t, tier0ID)
	b.press(t, "d", "<enter>")
	if row := statusRow(b.view()); !strings.Contains(row, "deny needs a reason") {
		t.Fatalf("an empty reason: the status line says %q", row)
	}
	b.typeText(t, "no")
	if row := statusRow(b.view()); strings.Contains(row, "needs a reason") {
		t.Errorf("the operator is typing the reason and the status line still says %q", row)
	}
	if _, denies := b.api.calls(); len(denies) != 0 {
		t.Fatalf("denied before enter: %+v", denies)
	}
}

// TestChaosStartedGivesWayWhenTheRunEnds: "chaos run … started" is not
// left on the status line once the run has ended: the verdict shows,
// however soon after the start it came.
func TestChaosStartedGivesWayWhenTheRunEnds(t *testing.T) {
	t.Parallel()
	b, cf := setupChaos(t)
	const id = "chr_test0001"
	done := fixtureChaosRuns()[0]
	done.RunID, done.State = id, engine.ChaosPassed
	cf.fakeChaos.mu.Lock()
	cf.fakeChaos.history = append([]engine.ChaosRun{done}, cf.fakeChaos.history...)
	cf.fakeChaos.mu.Unlock()
	ended := engine.Event{Kind: engine.EventChaos, Chaos: &engine.ChaosProgress{RunID: id, Phase: engine.ChaosPhaseDone, State: engine.ChaosPassed}}

	b.press(t, "j", "r")
	b.run(t, b.press(t, "y"))
	if row := statusRow(b.view()); !strings.Contains(row, "chaos run "+id+" started") {
		t.Fatalf("after y the status line says %q", row)
	}
	b.run(t, b.send(eventsMsg{events: []engine.Event{ended}}))
	row := statusRow(b.view())
	if strings.Contains(row, "started") || !strings.Contains(row, "chaos run "+id+" ended: ✓ passed") {
		t.Errorf("the run ended and the status line says %q", row)
	}
}

// TestChaosEndBeforeTheStartAnswer: a run so short that its end comes over
// the event stream before the answer to its start is not then announced
// as started, nor shown as running.
func TestChaosEndBeforeTheStartAnswer(t *testing.T) {
	t.Parallel()
	b, cf := setupChaos(t)
	const id = "chr_test0001"
	done := fixtureChaosRuns()[0]
	done.RunID, done.State = id, engine.ChaosPassed
	cf.fakeChaos.mu.Lock()
	cf.fakeChaos.history = append([]engine.ChaosRun{done}, cf.fakeChaos.history...)
	cf.fakeChaos.mu.Unlock()
	ended := engine.Event{Kind: engine.EventChaos, Chaos: &engine.ChaosProgress{RunID: id, Phase: engine.ChaosPhaseDone, State: engine.ChaosPassed}}

	b.press(t, "j", "r")
	start := b.press(t, "y")
	b.run(t, b.send(eventsMsg{events: []engine.Event{ended}}))
	b.run(t, start)
	v := b.view()
	if row := statusRow(v); strings.Contains(row, "started") || !strings.Contains(row, "chaos run "+id+" ended: ✓ passed") {
		t.Errorf("the run ended before its start was answered and the status line says %q", row)
	}
	if strings.Contains(v, "▶ running "+id) {
		t.Errorf("the ended run shows as running:\n%s", v)
	}
}

// TestStatusGivesWayToTheChaosQuestion: "chaos run cancelled: … not run"
// goes when the operator asks for a run again.
func TestStatusGivesWayToTheChaosQuestion(t *testing.T) {
	t.Parallel()
	b, _ := setupChaos(t)
	b.press(t, "j", "r", "n")
	if row := statusRow(b.view()); !strings.Contains(row, "chaos run cancelled") {
		t.Fatalf("after r, n the status line says %q", row)
	}
	b.press(t, "r")
	v := b.view()
	if !strings.Contains(v, "(y/N)") {
		t.Fatalf("r did not ask:\n%s", v)
	}
	if row := statusRow(v); strings.Contains(row, "cancelled") {
		t.Errorf("the run question is open and the status line still says %q", row)
	}
}

// TestCancelChecksTheIntentBeforeAskingWhy: ":cancel ID" without a
// reason looks the intent up first: an unknown intent, or one that can no
// longer be cancelled, is said at once and no reason is asked for (the
// operator would type it for nothing); a pending one gets the prompt.
// ":retry ID" does the same for an intent that cannot be retried.
func TestCancelChecksTheIntentBeforeAskingWhy(t *testing.T) {
	t.Parallel()
	b := setup(t)
	const completed, pending = "int_01JPB8A1REVIEW0000000000AA", "int_01JPB7R2C3D4E5F6G7H8J9K0LM"
	cases := []struct{ line, status string }{
		{"cancel int_nope", "cancel int_nope failed: no such intent"},
		{"cancel " + completed, "cancel " + completed + " failed: intent can no longer be cancelled (it is completed)"},
		{"retry int_nope", "retry int_nope failed: no such intent"},
		{"retry " + completed, "retry " + completed + " failed: intent cannot be retried (it is completed; only a failed, cancelled, expired or shed intent can be retried)"},
	}
	for _, c := range cases {
		b.run(t, b.command(t, c.line))
		v := b.view()
		if b.m.intentCmd.prompting() || strings.Contains(v, "reason:") {
			t.Errorf(":%s asks for a reason:\n%s", c.line, v)
			b.run(t, b.press(t, "<esc>"))
			continue
		}
		if b.statusLevel() != levelError || b.statusText() != c.status {
			t.Errorf(":%s: status (level %d) %q, want %q", c.line, b.statusLevel(), b.statusText(), c.status)
		}
	}
	if n := len(b.api.cancelCalls()) + len(b.api.retryCalls()); n != 0 {
		t.Errorf("%d cancels or retries sent", n)
	}

	b.run(t, b.command(t, "cancel "+pending))
	if v := b.view(); !b.m.intentCmd.prompting() || !strings.Contains(v, "Cancel int_01J…H8J9K0LM · reason:") {
		t.Fatalf(":cancel of a pending intent does not ask for the reason:\n%s", v)
	}
}
