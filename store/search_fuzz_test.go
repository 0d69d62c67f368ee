package store

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"grace/engine"
	"grace/engine/clarity"
	"grace/engine/clock"
)

// searchFuzzSeeds are queries an operator might type, real and nasty:
// FTS5's own syntax (quotes, NEAR, *, ^, AND/OR/NOT, column filters,
// parentheses), control bytes, invalid UTF-8, scripts FTS5's tables file
// differently from Go's, and long runs.
var searchFuzzSeeds = []string{
	"dispatch", "disp*", `"disk full"`, "worker_1", "10.0.0.1", "-denied", "dispatch -w-1",
	"who:scheduler", "actor:ada action:intent_denied type:deploy", `NEAR("quoted" w-1, 2)`,
	"AND(", "a OR b NOT c", "^start", "{who what}: x", "(((a)))", `"unclosed phrase`, `""`,
	"*", "-*", "-", "--", `"*"`, `a"b"c`, "\x00", "\xff\xfe", "caf\u00e9 CAF\u0045\u0301",
	"\u19b0\u19c8", "a\u1cf2b", "\U0001e900\U0001e901", "\u0345", "ǅ", "ß", "İstanbul", "ﬁle",
	"\u200b\u200d", "\t\n\r\v\f", strings.Repeat("a ", 300), strings.Repeat(`"`, 101),
	strings.Repeat("-x ", 300), strings.Repeat("(", 1000), "int_01JPB9AAAAAAAAAAAAAAAAAAA7",
	"１２３", "٣", "ⅷ", "²", "a\u00adb", "x\uFE0Fy", "\U000F0000", "\uE000",
}

// fuzzStores opens two stores holding searchRecords: one whose index has
// caught up and one whose index has not (Search scans its rows), so that
// each query is answered both by FTS5 and by Go alone.
func fuzzStores(f *testing.F) (indexed, unindexed *Store) {
	var out [2]*Store
	for i := range out {
		s, err := Open(context.Background(), f.TempDir()+"/grace.db", Options{Clock: clock.NewFake(t0), Synchronous: "NORMAL"})
		if err != nil {
			f.Fatal(err)
		}
		f.Cleanup(func() { _ = s.Close() })
		recs := make([]clarity.Record, len(searchRecords))
		for j, r := range searchRecords {
			r.When = t0.Add(time.Duration(j) * time.Minute)
			r.Result, r.Confidence, r.Transparency = "ok", 1, clarity.TransparencyComplete
			recs[j] = r
		}
		if err := s.Record(context.Background(), recs...); err != nil {
			f.Fatal(err)
		}
		out[i] = s
	}
	if err := out[0].FlushIndex(context.Background()); err != nil {
		f.Fatal(err)
	}
	if lag := out[1].IndexLag(); lag != int64(len(searchRecords)) {
		f.Fatalf("IndexLag of the unindexed store = %d, want %d", lag, len(searchRecords))
	}
	return out[0], out[1]
}

// checkSearchAnswer fails t unless the answer to q is of the shape a user
// expects: an error only as a TextError on q (never SQLite's words), and
// entries newest first, distinct, at most the limit.
func checkSearchAnswer(t *testing.T, where string, q clarity.Query, p clarity.Page, err error) {
	t.Helper()
	if err != nil {
		var te *engine.TextError
		if !errors.As(err, &te) || te.Field != "q" {
			t.Fatalf("%s: Search(%q): %v; want results, or a TextError naming q", where, q.Text, err)
		}
		if strings.Contains(strings.ToLower(err.Error()), "sql") || strings.Contains(err.Error(), "fts5") {
			t.Fatalf("%s: Search(%q): the database's words leak: %v", where, q.Text, err)
		}
		return
	}
	limit := q.Limit
	if limit <= 0 {
		limit = defaultSearchLimit
	}
	if len(p.Entries) > limit {
		t.Fatalf("%s: Search(%q): %d entries, limit %d", where, q.Text, len(p.Entries), limit)
	}
	for i := 1; i < len(p.Entries); i++ {
		if p.Entries[i].ID >= p.Entries[i-1].ID {
			t.Fatalf("%s: Search(%q): ids %v not newest first and distinct", where, q.Text, ids(p.Entries))
		}
	}
}

// FuzzSearch runs the operator's query text against a real store, by the
// index and by a scan: no panic, no SQLite error, the same answer both
// ways (the FTS5 index and Go's reading of the words agree), and a query
// without words refused as having none.
func FuzzSearch(f *testing.F) {
	for _, s := range searchFuzzSeeds {
		f.Add(s)
	}
	for _, r := range searchRecords {
		f.Add(r.Who + " " + r.Why[0])
	}
	indexed, unindexed := fuzzStores(f)
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, text string) {
		q := clarity.Query{Text: text}
		pi, erri := indexed.SearchPage(ctx, q)
		checkSearchAnswer(t, "indexed", q, pi, erri)
		pu, erru := unindexed.SearchPage(ctx, q)
		checkSearchAnswer(t, "unindexed", q, pu, erru)
		if fmt.Sprint(erri) != fmt.Sprint(erru) || !reflect.DeepEqual(ids(pi.Entries), ids(pu.Entries)) {
			t.Fatalf("Search(%q): by the index %v, %v; by a scan %v, %v", text, ids(pi.Entries), erri, ids(pu.Entries), erru)
		}
		if len(parseQuery(text)) == 0 && strings.TrimSpace(text) != "" && !errors.Is(erri, clarity.ErrNoWords) {
			t.Fatalf("Search(%q) has no words: %v; want ErrNoWords", text, erri)
		}
	})
}

// FuzzSearchFindsRecord stores a record whose reason is the fuzzed text
// and searches for it: each of its words, and all of them as a phrase,
// find it, before the index catches up and after; and the fuzzed query
// gets the same answer both ways.
func FuzzSearchFindsRecord(f *testing.F) {
	for _, s := range searchFuzzSeeds {
		f.Add(s, s)
	}
	for _, r := range searchRecords {
		f.Add(strings.Join(r.Why, " "), r.Where)
	}
	s, err := Open(context.Background(), f.TempDir()+"/grace.db", Options{Clock: clock.NewFake(t0), Synchronous: "NORMAL"})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { _ = s.Close() })
	ctx := context.Background()
	n := 0
	f.Fuzz(func(t *testing.T, why, query string) {
		if engine.CheckText("why", why, 4096, true) != nil {
			return // not text a record holds
		}
		n++
		id := fmt.Sprintf("int_fuzz_%d", n)
		if err := s.Record(ctx, clarity.Record{Who: "fuzz", What: "fuzzed", Why: []string{why}, IntentID: id,
			When: t0, Result: "ok", Confidence: 1, Transparency: clarity.TransparencyComplete}); err != nil {
			t.Fatalf("Record(why %q): %v", why, err)
		}
		words := tokens(why, nil)
		var finds []string
		for i, w := range words {
			if i == 8 {
				break
			}
			finds = append(finds, w)
		}
		if len(words) > 0 {
			finds = append(finds, `"`+strings.Join(words, " ")+`"`, words[len(words)-1]+"*")
		}
		var before []clarity.Page
		var beforeErr []error
		for phase := range 2 {
			if phase == 1 {
				if err := s.FlushIndex(ctx); err != nil {
					t.Fatal(err)
				}
			}
			where := [2]string{"unindexed", "indexed"}[phase]
			for _, find := range finds {
				q := clarity.Query{Text: find, IntentID: id}
				p, err := s.SearchPage(ctx, q)
				checkSearchAnswer(t, where, q, p, err)
				if err != nil || len(p.Entries) != 1 {
					t.Fatalf("%s: Search(%q) for a record whose reason is %q: %v, %v; want that record", where, find, why, ids(p.Entries), err)
				}
			}
			q := clarity.Query{Text: query, IntentID: id}
			p, err := s.SearchPage(ctx, q)
			checkSearchAnswer(t, where, q, p, err)
			before, beforeErr = append(before, p), append(beforeErr, err)
		}
		if fmt.Sprint(beforeErr[0]) != fmt.Sprint(beforeErr[1]) || !reflect.DeepEqual(ids(before[0].Entries), ids(before[1].Entries)) {
			t.Fatalf("Search(%q) of a record whose reason is %q: by a scan %v, %v; by the index %v, %v",
				query, why, ids(before[0].Entries), beforeErr[0], ids(before[1].Entries), beforeErr[1])
		}
	})
}
