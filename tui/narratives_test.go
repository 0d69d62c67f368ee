package tui

import (
	"errors"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"grace/engine"
	"grace/engine/clarity"
)

// openNarratives shows the Narratives screen with its first page loaded.
func openNarratives(t *testing.T, b *testBundle) {
	t.Helper()
	b.run(t, b.press(t, "4"))
	if !b.m.narratives.results.loaded {
		t.Fatalf("4 did not load the narratives:\n%s", b.view())
	}
}

func TestNarrativesLoadNewestFirstAndPageLazily(t *testing.T) {
	t.Parallel()
	b := setup(t)
	openNarratives(t, b)
	calls := b.api.searchCalls()
	if len(calls) != 1 || calls[0].Limit != narrPage || calls[0].BeforeID != 0 {
		t.Fatalf("first fetch %+v, want one page of %d from the newest", calls, narrPage)
	}
	l := &b.m.narratives.results
	if len(l.entries) != narrPage || l.entries[0].ID != 600 {
		t.Fatalf("%d entries, first #%d; want %d from #600", len(l.entries), l.entries[0].ID, narrPage)
	}
	// Moving down within the first screens fetches nothing more.
	b.run(t, b.press(t, "j", "j"))
	if n := len(b.api.searchCalls()); n != 1 {
		t.Fatalf("%d fetches after j j, want 1", n)
	}
	// Going to the bottom fetches the next page, older than the last row.
	b.run(t, b.press(t, "G"))
	calls = b.api.searchCalls()
	if len(calls) < 2 || calls[1].BeforeID != l.entries[narrPage-1].ID {
		t.Fatalf("fetches %+v; want a second page before #%d", calls, 401)
	}
	for b.m.narratives.results.loading || !b.m.narratives.results.exhausted {
		b.run(t, b.press(t, "G"))
		if len(b.api.searchCalls()) > 10 {
			t.Fatal("paging does not end")
		}
	}
	if n := len(l.entries); n != 600 {
		t.Fatalf("%d entries after paging to the end, want all 600", n)
	}
	if !strings.Contains(b.view(), "600 found") {
		t.Errorf("the title does not say all were found:\n%s", b.view())
	}
	// The oldest is at the bottom, and every id is older than the one above.
	for i := 1; i < len(l.entries); i++ {
		if l.entries[i].ID >= l.entries[i-1].ID {
			t.Fatalf("entry %d (#%d) is not older than the one above (#%d)", i, l.entries[i].ID, l.entries[i-1].ID)
		}
	}
}

func TestSearchResultsDetailAndVerify(t *testing.T) {
	t.Parallel()
	b := setup(t)
	openNarratives(t, b)
	b.press(t, "/")
	if !b.m.narratives.editing {
		t.Fatal("/ did not open the search box")
	}
	b.typeText(t, "approved actor:ops since:1h")
	b.run(t, b.press(t, "<enter>"))
	q := b.api.searchCalls()[1]
	if q.Text != "approved" || q.Actor != "ops" || !q.Since.Equal(fixedNow.Add(-time.Hour)) {
		t.Fatalf("query %+v, want words approved, actor ops, since an hour ago", q)
	}
	l := &b.m.narratives.results
	if len(l.entries) == 0 {
		t.Fatal("no results")
	}
	for _, e := range l.entries {
		if e.Who != "ops" || e.What != "intent_approved" {
			t.Fatalf("result %+v does not match the search", e.Record)
		}
	}
	if v := b.view(); !strings.Contains(v, "words “approved” · actor ops · since 03-14 14:09:26 (1h00m00s ago)") &&
		!strings.Contains(v, "words “approved” · actor ops · since") {
		t.Errorf("the search is not described:\n%s", v)
	}
	b.press(t, "j", "<enter>")
	e := l.entries[1]
	v := b.view()
	for _, want := range []string{"Record #", "intent_approved → approved", "who         ops", "console",
		"operator_decision", e.IntentID, "confidence 0.95", "risk 0.10 low", "COMPLETE",
		"audit entry #" + fmtInt(e.Seq), e.Hash, "not yet · v verifies"} {
		if !strings.Contains(v, want) {
			t.Errorf("detail lacks %q:\n%s", want, v)
		}
	}
	b.run(t, b.press(t, "v"))
	if b.api.verifies != 1 {
		t.Fatalf("%d verifications, want 1", b.api.verifies)
	}
	v = b.view()
	for _, want := range []string{"✓ chain intact at 15:09:26: 1,600 entries, head #1,600", "✓ this entry is in the verified chain"} {
		if !strings.Contains(v, want) {
			t.Errorf("verified detail lacks %q:\n%s", want, v)
		}
	}
	if got := b.statusText(); got != "audit chain intact: 1,600 entries, head #1,600" {
		t.Errorf("status %q", got)
	}
	// The detail scrolls, and esc goes back to the results.
	b.press(t, "G")
	if b.m.narratives.scroll == 0 {
		t.Error("G did not scroll the detail")
	}
	b.press(t, "<esc>")
	if b.m.narratives.detail || b.m.narratives.text == "" {
		t.Fatal("esc from the detail did not return to the results")
	}
	// esc on the results clears the search.
	b.run(t, b.press(t, "<esc>"))
	if b.m.narratives.text != "" || len(b.m.narratives.results.entries) != narrPage {
		t.Fatalf("esc did not clear the search: %q, %d entries", b.m.narratives.text, len(b.m.narratives.results.entries))
	}
}

func TestVerifyReportsABrokenChain(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.api.audit = engine.AuditReport{OK: false, Entries: 1550, HeadSeq: 1600, FirstBroken: 1550, Problem: "entry 1550: hash does not match its text"}
	openNarratives(t, b)
	b.run(t, b.press(t, "<enter>", "v"))
	v := b.view()
	for _, want := range []string{"✗ chain broken at entry #1,550", "this entry is at or after the break"} {
		if !strings.Contains(v, want) {
			t.Errorf("detail lacks %q:\n%s", want, v)
		}
	}
	if b.statusLevel() != levelError || !strings.Contains(b.statusText(), "audit chain broken at entry #1,550") {
		t.Errorf("status (level %d) %q", b.statusLevel(), b.statusText())
	}
	// A verification no entry is at fault for (a damaged checkpoints
	// line) says so, naming no entry #0.
	b.api.mu.Lock()
	b.api.audit = engine.AuditReport{OK: false, Entries: 1600, HeadSeq: 1600, Problem: "audit.checkpoints line 3: malformed"}
	b.api.mu.Unlock()
	b.run(t, b.press(t, "v"))
	v = b.view()
	for _, want := range []string{"✗ chain not verified: audit.checkpoints line 3: malformed", "no entry can be vouched for"} {
		if !strings.Contains(v, want) {
			t.Errorf("detail lacks %q:\n%s", want, v)
		}
	}
	if strings.Contains(v, "#0") || !strings.Contains(b.statusText(), "audit chain not verified: audit.checkpoints line 3") {
		t.Errorf("an unverified chain is said to break at an entry: status %q\n%s", b.statusText(), v)
	}
	b.api.mu.Lock()
	b.api.auditErr = errors.New("verify audit chain: database is locked")
	b.api.mu.Unlock()
	b.run(t, b.press(t, "v"))
	if !strings.Contains(b.view(), "✗ could not verify: verify audit chain: database is locked") {
		t.Errorf("a failed verification is not shown:\n%s", b.view())
	}
}

func TestStoryFromARecordInOrder(t *testing.T) {
	t.Parallel()
	b := setup(t)
	openNarratives(t, b)
	b.run(t, b.press(t, "s")) // the newest record is storyIntent's completion
	s := b.m.narratives.story
	if s == nil || s.intentID != storyIntent {
		t.Fatalf("s did not open %s's story", storyIntent)
	}
	var whats []string
	for _, e := range s.list.entries {
		whats = append(whats, e.What)
	}
	if got := strings.Join(whats, " "); got != "intent_received intent_routed intent_approved intent_dispatched intent_completed" {
		t.Fatalf("story %s, want it from received to completed", got)
	}
	v := b.view()
	// At 80 columns the line under the search box still says how to get
	// back (the ID is in the panel's title).
	for _, want := range []string{"Story of " + storyIntent + " · 5 records", "oldest first", "deploy_production by agent:release-bot",
		"esc returns to the results"} {
		if !strings.Contains(v, want) {
			t.Errorf("story lacks %q:\n%s", want, v)
		}
	}
	// A record of the story opens in the detail; esc, esc returns to the results.
	b.press(t, "j", "j", "<enter>")
	if e, _ := b.m.narratives.list().selected(); e.What != "intent_approved" || !b.m.narratives.detail {
		t.Fatalf("enter on the third record opened %q", e.What)
	}
	b.press(t, "<esc>", "<esc>")
	if b.m.narratives.story != nil {
		t.Fatal("esc did not leave the story")
	}
	if !strings.Contains(b.view(), "loaded, more below") {
		t.Errorf("the results are not back:\n%s", b.view())
	}
}

func TestStoryFromApprovals(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.run(t, b.press(t, "2"))
	b.run(t, b.press(t, "s"))
	if b.m.screens[b.m.active].id() != screenNarratives {
		t.Fatalf("s on approvals did not open Narratives")
	}
	if s := b.m.narratives.story; s == nil || s.intentID != fixturePending()[0].ID || len(s.list.entries) != 5 {
		t.Fatalf("story %+v, want the selected pending intent's five records", s)
	}
	// :story ID does the same from anywhere.
	b.run(t, b.press(t, "1"))
	b.press(t, ":")
	b.typeText(t, "story int_01JPB600000000000000000001")
	b.run(t, b.press(t, "<enter>"))
	if s := b.m.narratives.story; s == nil || s.intentID != "int_01JPB600000000000000000001" || len(s.list.entries) != 4 {
		t.Fatalf(":story did not show the intent's four records: %+v", s)
	}
}

func TestRecordWithoutIntentHasNoStory(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.api.narratives[0].IntentID = ""
	openNarratives(t, b)
	b.run(t, b.press(t, "s"))
	if b.m.narratives.story != nil || !strings.Contains(b.statusText(), "no single intent") {
		t.Errorf("story %v, status %q", b.m.narratives.story, b.statusText())
	}
}

func TestBadSearchStaysOpenWithTheReason(t *testing.T) {
	t.Parallel()
	b := setup(t)
	openNarratives(t, b)
	b.press(t, "/")
	b.typeText(t, "since:yesterdayish")
	b.run(t, b.press(t, "<enter>"))
	if !b.m.narratives.editing {
		t.Error("a search that cannot be read closed the box")
	}
	if n := len(b.api.searchCalls()); n != 1 {
		t.Errorf("a search that cannot be read was sent (%d searches)", n)
	}
	if !strings.Contains(b.statusText(), `since: cannot read "yesterdayish"`) {
		t.Errorf("status %q", b.statusText())
	}
	b.press(t, "<esc>")
	if b.m.narratives.editing || b.m.narratives.text != "" {
		t.Error("esc did not cancel the edit")
	}
}

func TestResultsGoToTheirOwnerAndStaleOnesAreDropped(t *testing.T) {
	t.Parallel()
	b := setup(t)
	cmd := b.press(t, "4") // the first search, not yet run
	b.press(t, "1")        // the operator moves on before it lands
	b.run(t, cmd)
	if !b.m.narratives.results.loaded || b.m.screens[b.m.active].id() != screenDashboard {
		t.Fatal("a result that landed on another screen was not kept by its owner")
	}
	// A page of an abandoned search is dropped.
	old := b.m.narratives.seq
	b.m.narratives.run("charter")
	b.send(searchMsg{owner: screenNarratives, seq: old, entries: []clarity.Entry{{ID: 9999}}, limit: narrPage})
	for _, e := range b.m.narratives.results.entries {
		if e.ID == 9999 {
			t.Fatal("a page of an abandoned search was shown")
		}
	}
}

func TestSearchFailureGoesToStatusLine(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.api.searchErr = errors.New("database is locked")
	b.run(t, b.press(t, "4"))
	if !strings.Contains(b.statusText(), "search narratives: database is locked") {
		t.Errorf("status %q", b.statusText())
	}
	if !strings.Contains(b.view(), "Narratives") {
		t.Error("the failure covered the screen")
	}
	// With nothing fetched, the list says the search failed, not that
	// nothing matched, and how to retry; the retry clears it.
	v := b.view()
	if strings.Contains(v, "No narrative matches") || strings.Contains(v, "more below") ||
		!strings.Contains(v, "search failed") || !strings.Contains(v, "could not be fetched; r tries again") {
		t.Errorf("a failed search reads as an empty result:\n%s", v)
	}
	b.api.mu.Lock()
	b.api.searchErr = nil
	b.api.mu.Unlock()
	b.run(t, b.press(t, "r"))
	if v := b.view(); strings.Contains(v, "could not be fetched") || !strings.Contains(v, "loaded, more below") {
		t.Errorf("r did not fetch the narratives again:\n%s", v)
	}
}

func TestParseNarrQuery(t *testing.T) {
	t.Parallel()
	now := fixedNow
	midnight := time.Date(2025, 3, 14, 0, 0, 0, 0, time.UTC)
	cases := []struct {
		in   string
		want narrQuery
		err  string
	}{
		{in: "", want: narrQuery{}},
		{in: "charter change*", want: narrQuery{Text: "charter change*"}},
		{in: "actor:ops what:intent_denied", want: narrQuery{Actor: "ops", Action: "intent_denied"}},
		{in: "intent:int_1 since:90m", want: narrQuery{IntentID: "int_1", Since: now.Add(-90 * time.Minute)}},
		{in: "since:2d until:now", want: narrQuery{Since: now.AddDate(0, 0, -2), Until: now}},
		{in: "since:today until:15:00", want: narrQuery{Since: midnight, Until: midnight.Add(15 * time.Hour)}},
		{in: "since:2025-03-13 until:2025-03-13T12:30", want: narrQuery{Since: midnight.AddDate(0, 0, -1), Until: midnight.Add(-11*time.Hour - 30*time.Minute)}},
		{in: "at 10:30 ok", want: narrQuery{Text: "at 10:30 ok"}},
		// A phrase reaches the search as typed; a filter inside quotes is
		// part of the phrase, and quotes around a filter's value go.
		{in: `"disk   full" actor:ops -"load shed"`, want: narrQuery{Text: `"disk   full" -"load shed"`, Actor: "ops"}},
		{in: `"at actor:ops now"`, want: narrQuery{Text: `"at actor:ops now"`}},
		{in: `"open quote actor:ops`, want: narrQuery{Text: `"open quote actor:ops`}},
		{in: `actor:"operator:ada" worker_1`, want: narrQuery{Text: "worker_1", Actor: "operator:ada"}},
		{in: "since:soon", err: `since: cannot read "soon"`},
		{in: "actor:", err: "actor: needs a value"},
		{in: "since:1h until:2h", err: "since must be before until"},
	}
	for _, c := range cases {
		got, err := parseNarrQuery(c.in, now)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%q: error %v, want %q", c.in, err, c.err)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("%q: %+v, %v; want %+v", c.in, got, err, c.want)
		}
	}
}

func TestNarrativesKeepEveryLineInBounds(t *testing.T) {
	t.Parallel()
	b := setup(t)
	openNarratives(t, b)
	b.run(t, b.press(t, "<enter>", "v", "s"))
	for _, size := range [][2]int{{80, 24}, {100, 30}, {139, 40}, {140, 40}, {200, 60}, {60, 15}} {
		b.send(tea.WindowSizeMsg{Width: size[0], Height: size[1]})
		checkBounds(t, b.view(), size[0], size[1])
	}
}

// written adds n records newer than every other to the fake's record,
// newest first as the fake keeps them, and returns the newest ID.
func written(b *testBundle, n int) int64 {
	b.api.mu.Lock()
	defer b.api.mu.Unlock()
	top := b.api.narratives[0]
	fresh := make([]clarity.Entry, n)
	for i := range fresh {
		e := top
		e.ID = top.ID + int64(n-i)
		e.When = top.When.Add(time.Duration(n-i) * time.Second)
		e.What = "intent_completed"
		fresh[i] = e
	}
	b.api.narratives = append(fresh, b.api.narratives...)
	return b.api.narratives[0].ID
}

// TestNarrativesFollowTheRecord: with the cursor on the newest result the
// list follows the record, each refresh putting what was written since on
// top; moved down, it holds still; more than a page written replaces it.
func TestNarrativesFollowTheRecord(t *testing.T) {
	t.Parallel()
	b := setup(t)
	openNarratives(t, b)
	l := &b.m.narratives.results
	if !strings.Contains(b.view(), "following") {
		t.Fatalf("the search line does not say the results follow the record:\n%s", b.view())
	}
	newest := written(b, 3)
	b.run(t, b.send(tickMsg{at: fixedNow}))
	calls := b.api.searchCalls()
	if last := calls[len(calls)-1]; last.AfterID != 600 || last.BeforeID != 0 {
		t.Fatalf("the refresh asked %+v; want the matches after #600", last)
	}
	if len(l.entries) != narrPage+3 || l.entries[0].ID != newest || l.entries[3].ID != 600 || l.cursor != 0 {
		t.Fatalf("after a refresh: %d entries, top #%d, cursor %d; want %d, #%d on top, #600 fourth, cursor 0",
			len(l.entries), l.entries[0].ID, l.cursor, narrPage+3, newest)
	}

	// Moved down, the list holds still and says so.
	b.run(t, b.press(t, "j", "j"))
	before := len(b.api.searchCalls())
	written(b, 2)
	b.run(t, b.m.narratives.tick())
	if n := len(b.api.searchCalls()); n != before || len(l.entries) != narrPage+3 {
		t.Fatalf("%d fetches and %d entries after a refresh below the top; want none and %d", n-before, len(l.entries), narrPage+3)
	}
	if v := b.view(); strings.Contains(v, "following") || !strings.Contains(v, "as of") {
		t.Fatalf("below the top the search line still says following:\n%s", v)
	}
	// A fetch that lands after the cursor moved keeps its row selected.
	selected, _ := l.selected()
	b.run(t, b.send(searchMsg{owner: screenNarratives, seq: b.m.narratives.seq, newer: true, limit: narrPage,
		entries: []clarity.Entry{{ID: newest + 2}, {ID: newest + 1}}, at: fixedNow}))
	if now, _ := l.selected(); now.ID != selected.ID {
		t.Fatalf("the selection moved from #%d to #%d when newer records arrived", selected.ID, now.ID)
	}

	// Back on top, it follows again; more than a page replaces the list.
	b.run(t, b.press(t, "g"))
	newest = written(b, narrPage+50)
	b.run(t, b.m.narratives.tick())
	if len(l.entries) != narrPage || l.entries[0].ID != newest || l.exhausted {
		t.Fatalf("after %d written: %d entries, top #%d, exhausted %v; want a fresh page from #%d",
			narrPage+50, len(l.entries), l.entries[0].ID, l.exhausted, newest)
	}
}
