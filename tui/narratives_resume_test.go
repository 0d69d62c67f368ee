package tui

import (
	"slices"
	"strings"
	"testing"

	"grace/engine/clarity"
)

// TestNarrativesReadOnWhereAPageStopped: a search whose pages stop early
// at the engine's read budget (a phrase over many records holding its
// words apart) is not taken as ended by a short page: the list reads on
// from where each page stopped, finding older matches, and after three
// pages in a row with no match it stops reading and says where.
func TestNarrativesReadOnWhereAPageStopped(t *testing.T) {
	t.Parallel()
	b := setup(t)
	var recs []clarity.Entry
	for id := int64(1000); id >= 1; id-- {
		why := "the disk is full"
		if id == 990 || id == 650 || id == 120 {
			why = "needle in the record"
		}
		recs = append(recs, clarity.Entry{ID: id, Record: clarity.Record{When: fixedNow, Who: "monitor", What: "alert_raised", Where: "node", Why: []string{why}}})
	}
	b.api.mu.Lock()
	b.api.narratives, b.api.readBudget = recs, 100
	b.api.mu.Unlock()
	openNarratives(t, b)
	b.press(t, "/")
	b.typeText(t, "needle")
	b.run(t, b.press(t, "<enter>"))
	var befores []int64
	for _, q := range b.api.searchCalls()[1:] {
		befores = append(befores, q.BeforeID)
	}
	// 1000–901 holds 990; 900–601 holds 650 after two dry pages; three
	// dry pages after it (600–301) end the reading, short of 120.
	if want := []int64{0, 901, 801, 701, 601, 501, 401}; !slices.Equal(befores, want) {
		t.Fatalf("pages asked before %v, want %v", befores, want)
	}
	l := &b.m.narratives.results
	var got []int64
	for _, e := range l.entries {
		got = append(got, e.ID)
	}
	if !slices.Equal(got, []int64{990, 650}) || !l.exhausted {
		t.Fatalf("entries %v (exhausted %v), want 990 and 650, then stopped", got, l.exhausted)
	}
	if v := b.view(); !strings.Contains(v, "2 found · read down to #301, then stopped") {
		t.Errorf("the title does not say where the reading stopped:\n%s", v)
	}
	// A new search starts afresh: without a budget it finds all three.
	b.api.mu.Lock()
	b.api.readBudget = 0
	b.api.mu.Unlock()
	b.press(t, "/")
	b.run(t, b.press(t, "<enter>"))
	if n := len(l.entries); n != 3 || !strings.Contains(b.view(), "3 found") {
		t.Errorf("%d entries after searching again without a budget, want 3:\n%s", n, b.view())
	}
}
