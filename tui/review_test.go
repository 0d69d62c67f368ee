package tui

import (
	"fmt"
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"

	"grace/engine"
	"grace/engine/intent"
)

// openReview shows the Tier 1 review section with its list loaded.
func openReview(t *testing.T, b *testBundle) {
	t.Helper()
	b.run(t, b.press(t, "2"))
	b.run(t, b.press(t, "l"))
	if b.m.approvals.section != sectionReview || !b.m.approvals.review.loaded {
		t.Fatalf("l did not open the loaded review section:\n%s", b.view())
	}
}

func TestReviewListShowsFinishedTier1Intents(t *testing.T) {
	t.Parallel()
	b := setup(t)
	openReview(t, b)
	v := b.view()
	for _, want := range []string{"[✓ Tier 1 review (3)]", "1 still running", "agent:ml-ops", "✗ failed", "✓ completed"} {
		if !strings.Contains(v, want) {
			t.Errorf("review list lacks %q:\n%s", want, v)
		}
	}
	if strings.Contains(v, "int_01J…000000DD") {
		t.Errorf("a running intent is listed for review:\n%s", v)
	}
	b.press(t, "h")
	if b.m.approvals.section != sectionPending || !strings.Contains(b.view(), "deploy_production") {
		t.Errorf("h did not go back to the pending section:\n%s", b.view())
	}
}

func TestReviewAcknowledgeAsksAndOnlyYesAcknowledges(t *testing.T) {
	t.Parallel()
	b := setup(t)
	openReview(t, b)
	first := fixtureTier1()[0].ID
	b.press(t, "a")
	if v := b.view(); !strings.Contains(v, "Acknowledge "+first+" as reviewed? (y/N)") {
		t.Fatalf("a did not ask (y/N):\n%s", v)
	}
	b.run(t, b.press(t, "n"))
	if calls := b.api.reviewCalls(); len(calls) != 0 {
		t.Fatalf("n acknowledged: %+v", calls)
	}
	if !strings.Contains(b.statusText(), "acknowledge cancelled") {
		t.Errorf("status %q does not say the acknowledgement was cancelled", b.statusText())
	}
	b.run(t, b.press(t, "a", "y"))
	want := []reviewCall{{ID: first, Operator: "ops"}}
	if got := b.api.reviewCalls(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("reviews %+v, want %+v", got, want)
	}
	if b.m.approvals.review.knows(first) {
		t.Error("the acknowledged intent is still listed")
	}
	if got := b.statusText(); got != "acknowledged "+first+" (deploy_model)" {
		t.Errorf("status %q", got)
	}
	if approves, denies := b.api.calls(); len(approves)+len(denies) != 0 {
		t.Errorf("a in the review section approved or denied: %+v %+v", approves, denies)
	}
}

func TestReviewFlagNeedsANote(t *testing.T) {
	t.Parallel()
	b := setup(t)
	openReview(t, b)
	second := fixtureTier1()[1].ID
	b.press(t, "j", "<enter>", "f")
	b.send(tea.WindowSizeMsg{Width: 100, Height: 30})
	if v := b.view(); !strings.Contains(v, "Flag "+second+" · note:") {
		t.Fatalf("f did not ask for a note:\n%s", v)
	}
	b.run(t, b.press(t, "<enter>"))
	if calls := b.api.reviewCalls(); len(calls) != 0 {
		t.Fatalf("flagged without a note: %+v", calls)
	}
	if b.statusLevel() != levelError || !strings.Contains(b.statusText(), "flag needs a reason") {
		t.Errorf("status (level %d) %q, want an error asking for a note", b.statusLevel(), b.statusText())
	}
	b.typeText(t, "timeouts again: check the tuner")
	b.run(t, b.press(t, "<enter>"))
	want := []reviewCall{{ID: second, Operator: "ops", Note: "timeouts again: check the tuner", Flag: true}}
	if got := b.api.reviewCalls(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("reviews %+v, want %+v", got, want)
	}
	if b.m.approvals.detail {
		t.Error("the detail of the flagged intent is still open")
	}
	if !strings.Contains(b.statusText(), "flagged "+second) {
		t.Errorf("status %q", b.statusText())
	}
}

func TestReviewedElsewhereLeavesTheList(t *testing.T) {
	t.Parallel()
	b := setup(t)
	openReview(t, b)
	it := fixtureTier1()[2]
	b.api.mu.Lock()
	b.api.tier1[2].Reviewed = true // by someone else, since the list was fetched
	b.api.mu.Unlock()
	b.press(t, "G")
	b.run(t, b.press(t, "a", "y"))
	if b.m.approvals.review.knows(it.ID) {
		t.Error("an intent reviewed elsewhere stays listed")
	}
	if !strings.Contains(b.statusText(), engine.ErrNotReviewable.Error()) {
		t.Errorf("status %q does not say why", b.statusText())
	}
	// An event saying a Tier 1 intent was reviewed takes it off at once.
	other := fixtureTier1()[0]
	other.Reviewed = true
	b.send(eventsMsg{events: []engine.Event{{Kind: "intent", Intent: other}}})
	if b.m.approvals.review.knows(other.ID) {
		t.Error("an intent reviewed elsewhere (event) stays listed")
	}
	// One that finished makes the list refetch on the next tick.
	done := tier1Intent("int_NEWTIER1", "modify_config", "agent:tuner", intent.StateCompleted, 0)
	b.api.mu.Lock()
	b.api.tier1 = append(b.api.tier1, done)
	b.api.mu.Unlock()
	b.send(eventsMsg{events: []engine.Event{{Kind: "intent", Intent: done}}})
	b.run(t, b.send(tickMsg{at: fixedNow}))
	if !b.m.approvals.review.knows("int_NEWTIER1") {
		t.Error("a Tier 1 intent that finished was not listed after the tick")
	}
}

func TestReadOnlyRemovesReview(t *testing.T) {
	t.Parallel()
	b := setup(t, func(o *Options) { o.ReadOnly = true })
	openReview(t, b)
	for _, k := range []string{"a", "f"} {
		b.run(t, b.press(t, k, "y"))
		if b.m.approvals.decider.prompting() {
			t.Fatalf("%s opened a prompt in read-only mode", k)
		}
	}
	if calls := b.api.reviewCalls(); len(calls) != 0 {
		t.Fatalf("read-only console reviewed: %+v", calls)
	}
	b.press(t, "a")
	if !strings.Contains(b.statusText(), "read-only console: acknowledge is disabled") {
		t.Errorf("status %q", b.statusText())
	}
	v := b.view()
	if footer := v[strings.LastIndex(v, "\n"):]; strings.Contains(footer, "acknowledge") || strings.Contains(footer, "flag") {
		t.Errorf("read-only hints offer review: %q", footer)
	}
	b.press(t, "?")
	for _, offer := range []string{"approve (pending)", "deny (pending)", "acknowledge (review)", "flag (review)"} {
		if v := b.view(); strings.Contains(v, offer) {
			t.Errorf("read-only help offers %q:\n%s", offer, v)
		}
	}
}

func TestFilterNarrowsTheListAndEscClears(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.run(t, b.press(t, "2"))
	b.press(t, "/")
	b.typeText(t, "JANITOR")
	if n := b.m.approvals.pending.len(); n != 1 {
		t.Fatalf("filter shows %d rows while typing, want 1", n)
	}
	if it, _ := b.m.approvals.selected(); it.Actor != "agent:janitor" {
		t.Errorf("selected %s, want the only match", it.Actor)
	}
	b.press(t, "<enter>")
	if b.m.approvals.filter.editing || b.m.approvals.pending.filter != "JANITOR" {
		t.Fatal("enter did not keep the filter")
	}
	if v := b.view(); !strings.Contains(v, "filter “JANITOR”: 1 shown") || strings.Contains(v, "svc:cortex") {
		t.Errorf("filtered list not shown:\n%s", v)
	}
	// a acts on the filtered row.
	b.press(t, "a")
	if b.m.approvals.decider.target != fixturePending()[1].ID {
		t.Errorf("a targets %s", b.m.approvals.decider.target)
	}
	b.press(t, "n", "<esc>")
	if b.m.approvals.pending.filter != "" || b.m.approvals.pending.len() != 3 {
		t.Fatalf("esc did not clear the filter: %q, %d rows", b.m.approvals.pending.filter, b.m.approvals.pending.len())
	}
	// esc while typing clears too.
	b.press(t, "/")
	b.typeText(t, "zzz")
	if n := b.m.approvals.pending.len(); n != 0 {
		t.Fatalf("%d rows match zzz", n)
	}
	if !strings.Contains(b.view(), "Nothing matches the filter") {
		t.Errorf("an empty match is not explained:\n%s", b.view())
	}
	b.press(t, "<esc>")
	if b.m.approvals.filter.editing || b.m.approvals.pending.len() != 3 {
		t.Fatal("esc while typing did not clear the filter")
	}
	// q typed into a filter is text, not quit.
	b.press(t, "/")
	if cmd := b.press(t, "q"); cmd != nil {
		t.Fatal("q quit while typing a filter")
	}
}

func TestDashboardFilterNarrowsRecentDecisions(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.press(t, "/")
	b.typeText(t, "failed")
	b.press(t, "<enter>")
	v := b.view()
	if !strings.Contains(v, "filter “failed”: 1 of 12") || !strings.Contains(v, "worker-06") || strings.Contains(v, "vote.cast") {
		t.Fatalf("recent decisions not filtered:\n%s", v)
	}
	b.press(t, "<esc>")
	if strings.Contains(b.view(), "filter “failed”") {
		t.Fatal("esc did not clear the filter")
	}
}
