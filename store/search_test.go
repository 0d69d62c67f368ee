package store

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"grace/engine"
	"grace/engine/clarity"
	"grace/engine/intent"
)

// searchRecords are the narratives the search tests look through; their
// IDs are their positions plus one.
var searchRecords = []clarity.Record{
	{Who: "governance_router", What: "intent_routed", Where: "router", Why: []string{"Tier 2 type", "alignment high"}, How: "charter weights", IntentID: "int_1"},
	{Who: "scheduler", What: "intent_dispatched", Where: "htm_queue", Why: []string{"least loaded worker w-2"}, How: "dispatch loop", IntentID: "int_1"},
	{Who: "worker-2", What: "intent_completed", Where: "worker pool", Why: []string{"handler returned ok"}, How: "simulated work", IntentID: "int_1"},
	{Who: "operator:ada", What: "intent_denied", Where: "approvals", Why: []string{"Budget exceeded at the café"}, How: "console", IntentID: "int_2"},
	{Who: "htm_orchestrator", What: "load_shed", Where: "htm_queue", Why: []string{"queue past critical", "priority<5 and age>10m"}, How: "shedding criteria", IntentID: "int_01JPB9AAAAAAAAAAAAAAAAAAA7"},
	{Who: "scheduler", What: "intent_dispatched", Where: "htm_queue", Why: []string{"least loaded worker w-1", "AND( NEAR \"quoted\""}, How: "dispatch loop", IntentID: "int_3"},
}

// searchBundle writes searchRecords one minute apart, starting at t0.
func searchBundle(t *testing.T) *testBundle {
	t.Helper()
	tb := setup(t)
	recs := make([]clarity.Record, len(searchRecords))
	for i, r := range searchRecords {
		r.When = t0.Add(time.Duration(i) * time.Minute)
		r.Result, r.Confidence, r.Transparency = "ok", 1, clarity.TransparencyComplete
		recs[i] = r
	}
	if err := tb.s.Record(context.Background(), recs...); err != nil {
		t.Fatal(err)
	}
	return tb
}

// TestSearch runs each query twice, before the full-text index has caught
// up (the scan path) and after (the index path): both must give the same,
// newest-first answer.
func TestSearch(t *testing.T) {
	t.Parallel()
	tb := searchBundle(t)
	ctx := context.Background()
	cases := []struct {
		name string
		q    clarity.Query
		want []int64
	}{
		{"everything", clarity.Query{}, []int64{6, 5, 4, 3, 2, 1}},
		{"one word", clarity.Query{Text: "dispatch"}, []int64{6, 2}},
		{"case folded", clarity.Query{Text: "LOADED"}, []int64{6, 2}},
		{"two words ANDed", clarity.Query{Text: "least w-1"}, []int64{6}},
		{"word in who", clarity.Query{Text: "ada"}, []int64{4}},
		{"word in where", clarity.Query{Text: "approvals"}, []int64{4}},
		{"word in how", clarity.Query{Text: "charter"}, []int64{1}},
		{"diacritics folded", clarity.Query{Text: "cafe"}, []int64{4}},
		{"accented query", clarity.Query{Text: "CAFÉ"}, []int64{4}},
		{"prefix", clarity.Query{Text: "disp*"}, []int64{6, 2}},
		{"no match", clarity.Query{Text: "kangaroo"}, nil},
		{"words must all match", clarity.Query{Text: "dispatch kangaroo"}, nil},
		{"blank text is no text", clarity.Query{Text: " \t\u00a0 "}, []int64{6, 5, 4, 3, 2, 1}},
		{"FTS syntax is just words", clarity.Query{Text: `AND(`}, []int64{6, 5}},
		{"NEAR and quotes", clarity.Query{Text: `NEAR("quoted"`}, []int64{6}},
		{"column filter syntax is words", clarity.Query{Text: "who:scheduler"}, nil},
		{"colon joins nothing", clarity.Query{Text: "router:scheduler"}, nil},
		{"colon joins words into a phrase", clarity.Query{Text: "htm_queue:scheduler"}, nil},
		{"colon separated words", clarity.Query{Text: "htm_queue: scheduler"}, []int64{6, 2}},
		{"OR is a word", clarity.Query{Text: "shed OR dispatch"}, nil},
		{"newer script", clarity.Query{Text: "𞤀𞤁 dispatch"}, nil},
		{"actor", clarity.Query{Actor: "scheduler"}, []int64{6, 2}},
		{"action", clarity.Query{Action: "intent_denied"}, []int64{4}},
		{"intent", clarity.Query{IntentID: "int_1"}, []int64{3, 2, 1}},
		{"since", clarity.Query{Since: t0.Add(4 * time.Minute)}, []int64{6, 5}},
		{"until", clarity.Query{Until: t0.Add(2 * time.Minute)}, []int64{2, 1}},
		{"since and until", clarity.Query{Since: t0.Add(time.Minute), Until: t0.Add(3 * time.Minute)}, []int64{3, 2}},
		{"since past int64 nanoseconds", clarity.Query{Since: time.Date(2999, 1, 1, 0, 0, 0, 0, time.UTC)}, nil},
		{"until before int64 nanoseconds", clarity.Query{Until: time.Date(1500, 1, 1, 0, 0, 0, 0, time.UTC)}, nil},
		{"since before int64 nanoseconds", clarity.Query{Since: time.Date(1500, 1, 1, 0, 0, 0, 0, time.UTC)}, []int64{6, 5, 4, 3, 2, 1}},
		{"until past int64 nanoseconds", clarity.Query{Until: time.Date(2999, 1, 1, 0, 0, 0, 0, time.UTC)}, []int64{6, 5, 4, 3, 2, 1}},
		{"before id", clarity.Query{BeforeID: 4}, []int64{3, 2, 1}},
		{"after id", clarity.Query{AfterID: 4}, []int64{6, 5}},
		{"after the newest", clarity.Query{AfterID: 6}, nil},
		{"after and before", clarity.Query{AfterID: 2, BeforeID: 5}, []int64{4, 3}},
		{"text after id", clarity.Query{Text: "dispatch", AfterID: 2}, []int64{6}},
		{"actor after id", clarity.Query{Actor: "scheduler", AfterID: 1}, []int64{6, 2}},
		{"limit", clarity.Query{Limit: 2}, []int64{6, 5}},
		{"text and actor", clarity.Query{Text: "worker", Actor: "scheduler"}, []int64{6, 2}},
		{"text and intent", clarity.Query{Text: "ok", IntentID: "int_1"}, []int64{3}},
		{"text and since", clarity.Query{Text: "dispatch", Since: t0.Add(time.Minute)}, []int64{6, 2}},
		{"text paged", clarity.Query{Text: "htm", BeforeID: 6}, []int64{5, 2}},
		{"text limited", clarity.Query{Text: "queue", Limit: 1}, []int64{6}},
		{"excluded word of two tokens", clarity.Query{Text: "dispatch -w-1"}, []int64{2}},
		{"excluded word found nowhere", clarity.Query{Text: "dispatch -kangaroo"}, []int64{6, 2}},
		{"excluded prefix", clarity.Query{Text: "queue -shed*"}, []int64{6, 2}},
		{"exclusions alone", clarity.Query{Text: "-htm_queue -charter"}, []int64{4, 3}},
		{"exclusion and actor", clarity.Query{Text: "-w-2", Actor: "scheduler"}, []int64{6}},
		{"exclusion limited", clarity.Query{Text: "-denied", Limit: 2}, []int64{6, 5}},
		{"exclusion paged", clarity.Query{Text: "-denied", BeforeID: 5}, []int64{3, 2, 1}},
		{"a lone dash excludes nothing", clarity.Query{Text: "dispatch -"}, []int64{6, 2}},
		{"an intent ID as the query", clarity.Query{Text: " int_01JPB9AAAAAAAAAAAAAAAAAAA7 "}, []int64{5}},
		{"an intent ID in lower case", clarity.Query{Text: "INT_01jpb9aaaaaaaaaaaaaaaaaaa7"}, []int64{5}},
		{"an intent filter in lower case", clarity.Query{IntentID: "int_01jpb9aaaaaaaaaaaaaaaaaaa7"}, []int64{5}},
		{"an intent ID among words is words", clarity.Query{Text: "int_01JPB9AAAAAAAAAAAAAAAAAAA7 shed"}, nil},
	}
	for _, phase := range []string{"unindexed", "indexed"} {
		if phase == "indexed" {
			if err := tb.s.FlushIndex(ctx); err != nil {
				t.Fatal(err)
			}
		}
		if lag, want := tb.s.IndexLag(), map[string]int64{"unindexed": 6, "indexed": 0}[phase]; lag != want {
			t.Fatalf("%s: IndexLag = %d, want %d", phase, lag, want)
		}
		for _, tc := range cases {
			t.Run(phase+"/"+tc.name, func(t *testing.T) {
				es, err := tb.s.Search(ctx, tc.q)
				if err != nil {
					t.Fatalf("Search(%+v): %v", tc.q, err)
				}
				if got := ids(es); !reflect.DeepEqual(got, tc.want) {
					t.Errorf("Search(%+v) = %v, want %v", tc.q, got, tc.want)
				}
			})
		}
	}
}

// TestSearchRefusesTextWithoutWords: a query that is not blank but has no
// letter or digit is refused, naming the field and the text, rather than
// answered with every record as if nothing had been typed; with a filter
// beside it too, before and after the index catches up. Blank text is no
// query (TestSearch), and a text with a word beside the punctuation is
// searched for that word.
func TestSearchRefusesTextWithoutWords(t *testing.T) {
	t.Parallel()
	tb := searchBundle(t)
	ctx := context.Background()
	for _, phase := range []string{"unindexed", "indexed"} {
		if phase == "indexed" {
			if err := tb.s.FlushIndex(ctx); err != nil {
				t.Fatal(err)
			}
		}
		for _, q := range []clarity.Query{
			{Text: "!!!"}, {Text: "--"}, {Text: "*"}, {Text: `"`}, {Text: `" ( ) * : ^ -`}, {Text: " - "},
			{Text: "\u200b"}, {Text: "\x00\x1b[;"}, {Text: "-*", Actor: "scheduler"}, {Text: "?", BeforeID: 5},
		} {
			_, err := tb.s.Search(ctx, q)
			var te *engine.TextError
			if !errors.Is(err, clarity.ErrNoWords) || !errors.As(err, &te) || te.Field != "q" {
				t.Fatalf("%s: Search(%+v): %v; want ErrNoWords, a TextError on q", phase, q, err)
			}
			if want := strconv.Quote(q.Text) + " has no letters or digits to search for"; !strings.Contains(err.Error(), want) {
				t.Errorf("%s: Search(%+v) says %q; want it to say %s", phase, q, err, want)
			}
			if _, err := tb.s.SearchPage(ctx, q); !errors.Is(err, clarity.ErrNoWords) {
				t.Errorf("%s: SearchPage(%+v): %v; want ErrNoWords", phase, q, err)
			}
		}
		long := strings.Repeat("!", 10_000)
		if _, err := tb.s.Search(ctx, clarity.Query{Text: long}); !errors.Is(err, clarity.ErrNoWords) || len(err.Error()) > 300 {
			t.Errorf("%s: 10,000 '!': %d bytes of error %.80q…; want ErrNoWords, the text clipped", phase, len(err.Error()), err)
		}
		if es, err := tb.s.Search(ctx, clarity.Query{Text: "!!! denied ?"}); err != nil || !reflect.DeepEqual(ids(es), []int64{4}) {
			t.Errorf("%s: a word among punctuation: %v, %v; want [4]", phase, ids(es), err)
		}
	}
}

// TestSearchAcrossIndexMark checks results that straddle the index mark:
// newest first, no gap and no duplicate at the boundary, limit honoured.
func TestSearchAcrossIndexMark(t *testing.T) {
	t.Parallel()
	tb := setup(t)
	ctx := context.Background()
	writeRecords(t, tb.s, 10, "alice") // ids 1..10, what "step0".."step9", why "reason i"
	if err := tb.s.FlushIndex(ctx); err != nil {
		t.Fatal(err)
	}
	writeRecords(t, tb.s, 10, "alice") // ids 11..20, not indexed
	if lag := tb.s.IndexLag(); lag != 10 {
		t.Fatalf("IndexLag = %d, want 10", lag)
	}
	for _, tc := range []struct {
		q    clarity.Query
		want []int64
	}{
		{clarity.Query{Text: "reason"}, []int64{20, 19, 18, 17, 16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1}},
		{clarity.Query{Text: "reason", Limit: 12}, []int64{20, 19, 18, 17, 16, 15, 14, 13, 12, 11, 10, 9}},
		{clarity.Query{Text: "reason 3"}, []int64{14, 4}},
		{clarity.Query{Text: "reason", BeforeID: 12, Limit: 3}, []int64{11, 10, 9}},
		{clarity.Query{Text: "reason", AfterID: 8, Limit: 4}, []int64{20, 19, 18, 17}},
		{clarity.Query{Text: "reason", AfterID: 8, BeforeID: 13}, []int64{12, 11, 10, 9}},
	} {
		es, err := tb.s.Search(ctx, tc.q)
		if err != nil {
			t.Fatal(err)
		}
		if got := ids(es); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("Search(%+v) = %v, want %v", tc.q, got, tc.want)
		}
	}
}

// TestSearchWhileIndexing searches while the index catches up: every
// answer is complete, whichever side of the mark each row is on.
func TestSearchWhileIndexing(t *testing.T) {
	t.Parallel()
	tb := setup(t)
	ctx := context.Background()
	const n = 3000
	c := &intent.Change{}
	for i := range n {
		r := rec("w", "step", fmt.Sprintf("item %d", i))
		if i%3 == 0 {
			r.How = "needle"
		}
		c.Records = append(c.Records, r)
	}
	if _, err := tb.s.Apply(ctx, c); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		if err := tb.s.FlushIndex(ctx); err != nil {
			t.Error(err)
		}
	}()
	for tb.s.IndexLag() > 0 || !waitDone(&wg) {
		es, err := tb.s.Search(ctx, clarity.Query{Text: "needle", Limit: maxSearchLimit})
		if err != nil {
			t.Fatal(err)
		}
		if len(es) != n/3 {
			t.Fatalf("found %d, want %d (lag %d)", len(es), n/3, tb.s.IndexLag())
		}
		for i := 1; i < len(es); i++ {
			if es[i].ID != es[i-1].ID-3 {
				t.Fatalf("entry %d has id %d after %d", i, es[i].ID, es[i-1].ID)
			}
		}
	}
}

// waitDone reports whether wg is done, without blocking.
func waitDone(wg *sync.WaitGroup) bool {
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
		return true
	case <-time.After(time.Millisecond):
		return false
	}
}

func TestSearchEntriesCarryTheirAuditEntry(t *testing.T) {
	t.Parallel()
	tb := searchBundle(t)
	es, err := tb.s.Search(context.Background(), clarity.Query{})
	if err != nil {
		t.Fatal(err)
	}
	db := tb.rawDB(t)
	for _, e := range es {
		var hash string
		if err := db.QueryRow("SELECT hash FROM audit WHERE seq = ?", e.Seq).Scan(&hash); err != nil {
			t.Fatal(err)
		}
		if e.Seq != e.ID || e.Hash != hash {
			t.Errorf("entry %d: seq %d hash %.8s…, audit has %.8s…", e.ID, e.Seq, e.Hash, hash)
		}
	}
}

// TestIndexCatchesUpOnItsOwn checks that the index catches up on the
// IndexInterval tick, a backlog of many steps as well as a small one.
func TestIndexCatchesUpOnItsOwn(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		records int
	}{
		{"small backlog", 5},
		{"backlog of several steps", 2*indexStepRows + 500},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tb := setup(t, func(o *Options) { o.IndexInterval = time.Second })
			c := &intent.Change{}
			for range tc.records {
				c.Records = append(c.Records, rec("w", "x"))
			}
			if _, err := tb.s.Apply(context.Background(), c); err != nil {
				t.Fatal(err)
			}
			if lag := tb.s.IndexLag(); lag != int64(tc.records) {
				t.Fatalf("IndexLag = %d before any time passed, want %d", lag, tc.records)
			}
			eventually(t, "the index to catch up", func() bool {
				tb.clock.Advance(time.Second)
				return tb.s.IndexLag() == 0
			})
			if st := tb.s.Stats(); st.IndexedRows != int64(tc.records) {
				t.Errorf("IndexedRows = %d, want %d", st.IndexedRows, tc.records)
			}
		})
	}
}

func ids(es []clarity.Entry) []int64 {
	var out []int64
	for _, e := range es {
		out = append(out, e.ID)
	}
	return out
}
