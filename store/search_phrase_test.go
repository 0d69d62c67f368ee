package store

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"testing"
	"time"

	"grace/engine"
	"grace/engine/clarity"
)

// phraseRecords hold the words of each phrase the tests ask for, once
// side by side and elsewhere apart, reversed or split across fields; their
// IDs are their positions plus one.
var phraseRecords = []clarity.Record{
	{Who: "disk_monitor", What: "alert_raised", Where: "node-7", Why: []string{"disk full on /var"}, How: "df"},
	{Who: "worker_1", What: "intent_completed", Where: "pool", Why: []string{"the disk is almost full"}, How: "simulated work"},
	{Who: "worker_2", What: "load_shed", Where: "htm_queue", Why: []string{"shed by load 1"}, How: "criteria"},
	{Who: "scheduler", What: "intent_dispatched", Where: "htm", Why: []string{"least loaded worker is 2", "retry 1 of 3"}, How: "shed queue under load"},
	{Who: "operator:ada", What: "api_key_rotated", Where: "10.0.0.1", Why: []string{"key for api rotated"}, How: "console"},
	{Who: "router", What: "intent_routed", Where: "10.0.1.0", Why: []string{"api rotated key"}, How: "full disk check"},
	{Who: "disk", What: "full", Where: "rack", Why: []string{"words apart in two fields"}, How: "x"},
}

// stamped returns recs one minute apart, starting at t0, with a result.
func stamped(recs []clarity.Record) []clarity.Record {
	out := make([]clarity.Record, len(recs))
	for i, r := range recs {
		r.When = t0.Add(time.Duration(i) * time.Minute)
		r.Result, r.Confidence, r.Transparency = "ok", 1, clarity.TransparencyComplete
		out[i] = r
	}
	return out
}

// phraseBundle opens a store and writes recs (stamped) to it.
func phraseBundle(t *testing.T, recs []clarity.Record) *testBundle {
	t.Helper()
	tb := setup(t)
	if err := tb.s.Record(context.Background(), stamped(recs)...); err != nil {
		t.Fatal(err)
	}
	return tb
}

// TestSearchPhrases asks for phrases before the index has caught up (the
// scan of unindexed rows) and after (index candidates checked in Go): the
// words of a quoted phrase, or of one word that splits into several, must
// stand side by side, in order, within one field; records holding them
// apart are not matches, nor left out by an excluded phrase.
func TestSearchPhrases(t *testing.T) {
	t.Parallel()
	tb := phraseBundle(t, phraseRecords)
	ctx := context.Background()
	cases := []struct {
		name string
		q    clarity.Query
		want []int64
	}{
		{"quoted phrase", clarity.Query{Text: `"disk full"`}, []int64{1}},
		{"the same words unquoted", clarity.Query{Text: "disk full"}, []int64{7, 6, 2, 1}},
		{"phrase in another case and spacing", clarity.Query{Text: `"DISK    Full"`}, []int64{1}},
		{"reversed phrase", clarity.Query{Text: `"full disk"`}, []int64{6}},
		{"underscore word", clarity.Query{Text: "worker_1"}, []int64{2}},
		{"underscore word excluded", clarity.Query{Text: "-worker_1"}, []int64{7, 6, 5, 4, 3, 1}},
		{"underscore word excluded from a word", clarity.Query{Text: "load -load_shed"}, []int64{4}},
		{"underscore word required", clarity.Query{Text: "load_shed"}, []int64{3}},
		{"address", clarity.Query{Text: "10.0.0.1"}, []int64{5}},
		{"dashed word", clarity.Query{Text: "api-key"}, []int64{5}},
		{"excluded phrase", clarity.Query{Text: `-"disk full"`}, []int64{7, 6, 5, 4, 3, 2}},
		{"excluded phrase with a word", clarity.Query{Text: `disk -"disk full"`}, []int64{7, 6, 2}},
		{"phrase without its reverse", clarity.Query{Text: `"disk full" -"full disk"`}, []int64{1}},
		{"prefix on a phrase", clarity.Query{Text: `"disk fu*"`}, []int64{1}},
		{"prefix after the quotes", clarity.Query{Text: `"full d"*`}, []int64{6}},
		{"prefix on a dashed word", clarity.Query{Text: "api-k*"}, []int64{5}},
		{"prefix on a phrase's first word is no prefix", clarity.Query{Text: `"dis* full"`}, nil},
		{"unterminated quote", clarity.Query{Text: `"disk full`}, []int64{1}},
		{"unterminated quote after a phrase", clarity.Query{Text: `"disk full" "on /var`}, []int64{1}},
		{"unterminated quote of one word", clarity.Query{Text: `full "disk`}, []int64{7, 6, 2, 1}},
		{"unterminated excluded phrase", clarity.Query{Text: `-"disk full`}, []int64{7, 6, 5, 4, 3, 2}},
		{"phrase across fields", clarity.Query{Text: `"disk full"`, Actor: "disk"}, nil},
		{"phrase and actor", clarity.Query{Text: "api-key", Actor: "operator:ada"}, []int64{5}},
		{"phrase paged", clarity.Query{Text: `"disk full"`, BeforeID: 2}, []int64{1}},
		{"phrase paged past it", clarity.Query{Text: `"disk full"`, BeforeID: 1}, nil},
		{"two phrases", clarity.Query{Text: `"disk full" "full disk"`}, nil},
		{"OR is a word", clarity.Query{Text: `"disk full" OR "full disk"`}, nil},
		{"an open quote inside a word", clarity.Query{Text: `disk NEAR("full`}, nil},
		// Typographic quotes (the console shows phrases in them; a chat or
		// an editor turns "" into them) quote as "" does.
		{"curly quoted phrase", clarity.Query{Text: `“disk full”`}, []int64{1}},
		{"curly quoted phrase excluded", clarity.Query{Text: `disk -“disk full”`}, []int64{7, 6, 2}},
		{"curly quoted prefix", clarity.Query{Text: `“disk fu*”`}, []int64{1}},
		{"low-high quoted phrase", clarity.Query{Text: `„full disk“`}, []int64{6}},
	}
	for _, phase := range []string{"unindexed", "indexed"} {
		if phase == "indexed" {
			if err := tb.s.FlushIndex(ctx); err != nil {
				t.Fatal(err)
			}
		}
		if lag, want := tb.s.IndexLag(), map[string]int64{"unindexed": int64(len(phraseRecords)), "indexed": 0}[phase]; lag != want {
			t.Fatalf("%s: IndexLag = %d, want %d", phase, lag, want)
		}
		for _, tc := range cases {
			t.Run(phase+"/"+tc.name, func(t *testing.T) {
				es, err := tb.s.Search(ctx, tc.q)
				if err != nil {
					t.Fatal(err)
				}
				if got := ids(es); !reflect.DeepEqual(got, tc.want) {
					t.Errorf("Search(%q) = %v, want %v", tc.q.Text, got, tc.want)
				}
			})
		}
	}
}

// TestSearchPhrasePagesAreFull writes many records holding a phrase's
// words apart and a few holding the phrase: every page must be full (not
// cut short by the candidates that fail) and the pages together must be
// exactly the matches, newest first, whether the rows are indexed, not
// yet indexed, or on both sides of the index mark.
func TestSearchPhrasePagesAreFull(t *testing.T) {
	t.Parallel()
	const n, every, page = 400, 13, 4
	var recs []clarity.Record
	var want []int64
	for i := range n {
		why := "the disk is full again"
		if i%every == 0 {
			why = "disk full again"
			want = append(want, int64(i+1))
		}
		recs = append(recs, clarity.Record{Who: "monitor", What: "alert_raised", Where: "node", Why: []string{why}, How: fmt.Sprintf("check %d", i)})
	}
	slices.Reverse(want)
	recs = stamped(recs)
	for _, indexed := range []int{0, n / 2, n} {
		t.Run(fmt.Sprintf("indexed %d of %d", indexed, n), func(t *testing.T) {
			t.Parallel()
			tb := setup(t)
			ctx := context.Background()
			if indexed > 0 {
				if err := tb.s.Record(ctx, recs[:indexed]...); err != nil {
					t.Fatal(err)
				}
			}
			if err := tb.s.FlushIndex(ctx); err != nil {
				t.Fatal(err)
			}
			if indexed < n {
				if err := tb.s.Record(ctx, recs[indexed:]...); err != nil {
					t.Fatal(err)
				}
			}
			if lag := tb.s.IndexLag(); lag != int64(n-indexed) {
				t.Fatalf("IndexLag = %d, want %d", lag, n-indexed)
			}
			var got []int64
			q := clarity.Query{Text: `"disk full"`, Limit: page}
			for {
				es, err := tb.s.Search(ctx, q)
				if err != nil {
					t.Fatal(err)
				}
				if rest := len(want) - len(got); len(es) != min(page, rest) {
					t.Fatalf("page before %d: %d entries, want %d", q.BeforeID, len(es), min(page, rest))
				}
				got = append(got, ids(es)...)
				if len(es) < page {
					break
				}
				q.BeforeID = es[len(es)-1].ID
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("pages = %v, want %v", got, want)
			}
		})
	}
}

// TestSearchPhraseStopsAtItsBudget lowers the number of candidates a page
// may read: a phrase whose words many records hold apart ends early with
// the matches found, or, with none, says so (a TextError on "q", as the
// API answers 422) rather than reading on; a search without a phrase, or
// one that fills its page first, is not affected. Not parallel: it sets
// the package's budget.
func TestSearchPhraseStopsAtItsBudget(t *testing.T) {
	defer func(n int) { maxPhraseCandidates = n }(maxPhraseCandidates)
	maxPhraseCandidates = 10
	var recs []clarity.Record
	for i := range 30 {
		why := "the disk is full"
		if i == 25 || i == 1 {
			why = "disk full"
		}
		recs = append(recs, clarity.Record{Who: "monitor", What: "alert_raised", Where: "node", Why: []string{why}, How: "check"})
	}
	tb := phraseBundle(t, recs)
	ctx := context.Background()
	if err := tb.s.FlushIndex(ctx); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		q       clarity.Query
		want    []int64
		refused bool
		resume  int64 // where the page says it stopped
	}{
		{clarity.Query{Text: `"disk full"`}, []int64{26}, false, 21},            // found within the 10 newest, then cut
		{clarity.Query{Text: `"full disk"`}, nil, true, 0},                      // the first page: 10 candidates, none adjacent
		{clarity.Query{Text: `"disk full"`, BeforeID: 26}, nil, false, 16},      // a later page: empty, and where to read on
		{clarity.Query{Text: `"disk full"`, BeforeID: 5}, []int64{2}, false, 0}, // 4 candidates: not cut
		{clarity.Query{Text: `"disk full"`, Limit: 1}, []int64{26}, false, 0},   // the page is full first
		{clarity.Query{Text: "disk full", BeforeID: 26, Limit: 20}, []int64{25, 24, 23, 22, 21, 20, 19, 18, 17, 16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6}, false, 0},
		// Only words to leave out: the rows read to judge them are bounded
		// the same way.
		{clarity.Query{Text: "-disk"}, nil, true, 0},                    // the 10 newest all hold it
		{clarity.Query{Text: "-disk", BeforeID: 26}, nil, false, 16},    // a later page: empty, and where to read on
		{clarity.Query{Text: "-is"}, []int64{26}, false, 21},            // one of the 10 newest lacks it, then cut
		{clarity.Query{Text: "-is", BeforeID: 5}, []int64{2}, false, 0}, // 4 rows: not cut
		{clarity.Query{Text: "-is", Limit: 1}, []int64{26}, false, 0},   // the page is full first
	} {
		p, err := tb.s.SearchPage(ctx, tc.q)
		var te *engine.TextError
		if refused := errors.As(err, &te) && te.Field == "q"; refused != tc.refused || (err != nil && !refused) {
			t.Fatalf("Search(%+v): err = %v, want refused %v", tc.q, err, tc.refused)
		}
		if got := ids(p.Entries); !reflect.DeepEqual(got, tc.want) || p.ResumeBefore != tc.resume {
			t.Errorf("Search(%q before %d) = %v, resume before %d; want %v, resume before %d",
				tc.q.Text, tc.q.BeforeID, got, p.ResumeBefore, tc.want, tc.resume)
		}
		if es, _ := tb.s.Search(ctx, tc.q); !reflect.DeepEqual(ids(es), ids(p.Entries)) {
			t.Errorf("Search(%q) = %v, SearchPage's entries %v", tc.q.Text, ids(es), ids(p.Entries))
		}
	}
	// A client that reads on from where each page stopped finds every
	// match, as an unbounded search would.
	for _, text := range []string{`"disk full"`, "-is"} {
		var got []int64
		q := clarity.Query{Text: text}
		for range 10 {
			p, err := tb.s.SearchPage(ctx, q)
			if err != nil {
				t.Fatalf("%s before %d: %v", text, q.BeforeID, err)
			}
			got = append(got, ids(p.Entries)...)
			if p.ResumeBefore == 0 {
				break
			}
			q.BeforeID = p.ResumeBefore
		}
		if want := []int64{26, 2}; !reflect.DeepEqual(got, want) {
			t.Errorf("paging %s by resume_before found %v, want %v", text, got, want)
		}
	}
}

// TestSearchManyExclusions asks with hundreds of excluded words and
// phrases (a pasted list): FTS5 refuses an expression nested deeper than
// 256, and each NOT nests one level, so the index must get them in one
// group; the answer is the records without any of them, indexed or not.
func TestSearchManyExclusions(t *testing.T) {
	t.Parallel()
	tb := phraseBundle(t, phraseRecords)
	ctx := context.Background()
	text := "disk"
	for i := range 1000 {
		text += fmt.Sprintf(" -w%d -\"x%d y\"", i, i)
	}
	for _, phase := range []string{"unindexed", "indexed"} {
		if phase == "indexed" {
			if err := tb.s.FlushIndex(ctx); err != nil {
				t.Fatal(err)
			}
		}
		for q, want := range map[string][]int64{text: {7, 6, 2, 1}, text + " -full": nil, text + " -on*": {7, 6, 2}} {
			es, err := tb.s.Search(ctx, clarity.Query{Text: q})
			if err != nil {
				t.Fatalf("%s: %d excluded terms: %v", phase, 2000, err)
			}
			if got := ids(es); !reflect.DeepEqual(got, want) {
				t.Errorf("%s: Search(disk -w0 … %s) = %v, want %v", phase, q[len(q)-6:], got, want)
			}
		}
	}
}
