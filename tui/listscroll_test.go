package tui

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"

	"grace/engine"
	"grace/engine/intent"
)

// cursorLine returns the line of view that carries the list cursor "› ",
// or "" when none does.
func cursorLine(view string) string {
	for _, l := range strings.Split(ansi.Strip(view), "\n") {
		if strings.Contains(l, "│ ›") {
			return l
		}
	}
	return ""
}

// TestApprovalsCursorStaysVisibleWhileScrolling walks the cursor down a
// pending list longer than the screen: the row under the cursor (the one a
// and d act on) must always be drawn, never covered by the "more" line.
func TestApprovalsCursorStaysVisibleWhileScrolling(t *testing.T) {
	t.Parallel()
	b := setup(t)
	var items []intent.Intent
	for i := range 30 {
		items = append(items, pendingIntent(fmt.Sprintf("int_01JPB7Q4Z8XK3M2N5R6T7V%04d", i), "deploy_production", "agent:release-bot", time.Duration(60-i)*time.Minute))
	}
	b.api.setPending(items)
	b.run(t, b.press(t, "2"))
	if b.m.approvals.pending.len() != len(items) {
		t.Fatalf("pending list has %d rows, want %d", b.m.approvals.pending.len(), len(items))
	}
	for i := range items {
		v := b.view()
		checkBounds(t, v, 80, 24)
		it, _ := b.m.approvals.selected()
		line := cursorLine(v)
		if line == "" || !strings.Contains(line, it.ID[len(it.ID)-4:]) {
			t.Fatalf("row %d: the selected intent %s is not drawn under the cursor:\n%s", i, it.ID, ansi.Strip(v))
		}
		if i > 0 && i < len(items)-1 && !strings.Contains(v, "more") {
			t.Fatalf("row %d: a scrolled list does not say rows are out of view:\n%s", i, ansi.Strip(v))
		}
		b.press(t, "j")
	}
	if v := ansi.Strip(b.view()); !strings.Contains(v, "above") {
		t.Errorf("at the end of the list nothing says rows are out of view above:\n%s", v)
	}
}

// TestNarrativesCursorVisibleWhileLoadingMore jumps to the last loaded
// narrative, which fetches the next page: while it loads, the "loading
// more" line must not cover the row under the cursor.
func TestNarrativesCursorVisibleWhileLoadingMore(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.run(t, b.press(t, "4"))
	l := &b.m.narratives.results
	if !l.loaded || len(l.entries) < 24 {
		t.Fatalf("narratives did not load a page longer than the screen (%d)", len(l.entries))
	}
	cmd := b.press(t, "G") // the fetch of the next page is left pending
	if !l.loading {
		t.Fatalf("G to the last loaded row did not start loading more")
	}
	v := b.view()
	checkBounds(t, v, 80, 24)
	if !strings.Contains(v, "loading more") {
		t.Errorf("nothing says more is loading:\n%s", ansi.Strip(v))
	}
	if cursorLine(v) == "" {
		t.Errorf("the cursor's row is not drawn while more loads:\n%s", ansi.Strip(v))
	}
	b.run(t, cmd)
	if v := b.view(); cursorLine(v) == "" || strings.Contains(v, "loading more") {
		t.Errorf("after the page landed the cursor row is missing or loading is still shown:\n%s", ansi.Strip(v))
	}
}

// TestPendingNeverFetchedSaysSo: when the pending list cannot be fetched
// at all, the Approvals screen says so and how to retry, rather than
// "loading…" for ever (or, worse, "nothing is waiting").
func TestPendingNeverFetchedSaysSo(t *testing.T) {
	t.Parallel()
	b := setupWith(t, func(a *fakeAPI) engine.OperatorAPI {
		a.pendingErr = fmt.Errorf("query pending: %w", engine.ErrStopped)
		return a
	})
	b.run(t, b.press(t, "2"))
	v := ansi.Strip(b.view())
	if strings.Contains(v, "loading…") || strings.Contains(v, "Nothing is waiting") ||
		!strings.Contains(v, "could not be fetched; r tries again") || !strings.Contains(v, "engine is not running") {
		t.Fatalf("a pending list that failed to load does not say so:\n%s", v)
	}
	b.api.mu.Lock()
	b.api.pendingErr = nil
	b.api.mu.Unlock()
	b.run(t, b.press(t, "r"))
	if v := ansi.Strip(b.view()); strings.Contains(v, "could not be fetched") || !strings.Contains(v, "agent:janitor") {
		t.Errorf("r did not fetch the pending list again:\n%s", v)
	}
}

// TestReviewCountSaysWhenCapped: the review list fetches the newest
// reviewLimit unreviewed Tier 1 intents; when the engine has that many,
// the count is a floor and says so ("500+"), not an exact 500.
func TestReviewCountSaysWhenCapped(t *testing.T) {
	t.Parallel()
	b := setupWith(t, func(a *fakeAPI) engine.OperatorAPI {
		a.tier1 = nil
		for i := range reviewLimit {
			a.tier1 = append(a.tier1, tier1Intent(fmt.Sprintf("int_01JPB8A1REVIEW%012d", i), "deploy_model", "agent:ml-ops",
				intent.StateCompleted, time.Duration(i+1)*time.Minute))
		}
		return a
	})
	openReview(t, b)
	if v := ansi.Strip(b.view()); !strings.Contains(v, fmt.Sprintf("Tier 1 review (%d+)", reviewLimit)) {
		t.Errorf("a review list cut at %d does not say there may be more:\n%s", reviewLimit, v)
	}
	b.api.mu.Lock()
	b.api.tier1 = b.api.tier1[:3]
	b.api.mu.Unlock()
	b.run(t, b.press(t, "r"))
	if v := ansi.Strip(b.view()); !strings.Contains(v, "Tier 1 review (3)]") {
		t.Errorf("an uncapped review list does not show its exact count:\n%s", v)
	}
}
