package store

import (
	"context"
	"database/sql"
	"fmt"
	"reflect"
	"testing"
	"unicode"

	"grace/engine/clarity"
)

func TestParseQuery(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		text string
		want []term
		fts  string
	}{
		{"", nil, ""},
		{"Dispatch", []term{{tok: "dispatch"}}, `("dispatch")`},
		{"worker-2 worker-2", []term{{tok: "worker 2"}}, `("worker" "2")`},
		{"disp*", []term{{tok: "disp", prefix: true}}, `("disp"*)`},
		{"foo-bar*", []term{{tok: "foo bar", prefix: true}}, `("foo" "bar"*)`},
		// An open quote runs to the end: one phrase of every token.
		{`" AND( NEAR(a b) x col:val ^y`, []term{{tok: "and near a b x col val y"}}, `("and" "near" "a" "b" "x" "col" "val" "y")`},
		{`AND( NEAR(a b) x col:val ^y`, []term{{tok: "and"}, {tok: "near a"}, {tok: "b"}, {tok: "x"}, {tok: "col val"}, {tok: "y"}}, `("and" "near" "a" "b" "x" "col" "val" "y")`},
		// Quotes group words into a phrase; '*' inside or after them is a prefix.
		{`"Disk  Full" disk`, []term{{tok: "disk full"}, {tok: "disk"}}, `("disk" "full" "disk")`},
		{`"disk ful*" "disk ful"* "disk ful* "`, []term{{tok: "disk ful", prefix: true}}, `("disk" "ful"*)`},
		{`key="disk full"`, []term{{tok: "key disk full"}}, `("key" "disk" "full")`},
		{`a"b`, []term{{tok: "a b"}}, `("a" "b")`},
		{`"open quote`, []term{{tok: "open quote"}}, `("open" "quote")`},
		{`"" "*" "-"`, nil, ""},
		{"Ça Über ŁÓDŹ naïve", []term{{tok: "ca"}, {tok: "uber"}, {tok: "łodz"}, {tok: "naive"}}, `("ca" "uber" "łodz" "naive")`},
		{"e\u0301te\u0301", []term{{tok: "ete"}}, `("ete")`},
		{"数据 日志", []term{{tok: "数据"}, {tok: "日志"}}, `("数据" "日志")`},
		// A leading '-' excludes the term; an excluded phrase is judged
		// on the candidates, not in the index query.
		{"shed -Load_Shed -x*", []term{{tok: "shed"}, {tok: "load shed", not: true}, {tok: "x", prefix: true, not: true}}, `("shed") NOT ("x"*)`},
		{`shed -"disk full" "-x"`, []term{{tok: "shed"}, {tok: "disk full", not: true}, {tok: "x"}}, `("shed" "x")`},
		{`a -"q" - -- -*`, []term{{tok: "a"}, {tok: "q", not: true}}, `("a") NOT ("q")`},
		{"*", nil, ""},
		{"\x00\x01", nil, ""},
	} {
		got := parseQuery(tc.text)
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("parseQuery(%q) = %+v, want %+v", tc.text, got, tc.want)
		}
		if !positive(got) {
			continue
		}
		if fts := ftsQuery(got); fts != tc.fts {
			t.Errorf("ftsQuery(%q) = %s, want %s", tc.text, fts, tc.fts)
		}
	}
}

func TestMatches(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		query  string
		fields []string
		want   bool
	}{
		{"queue", []string{"htm_queue"}, true},
		{"que", []string{"htm_queue"}, false},
		{"que*", []string{"htm_queue"}, true},
		{"cafe budget", []string{"Café", `["Budget exceeded"]`}, true},
		{"cafe budget", []string{"Café"}, false},
		{"queue -shed", []string{"htm_queue", "load_shed"}, false},
		{"queue -load_shed", []string{"htm_queue", "shed load"}, true},
		{"queue -load_shed", []string{"htm_queue", "load"}, true},
		{"queue -load_shed", []string{"htm_queue", "Load-Shed"}, false},
		{"queue -load_shed", []string{"htm_queue load", "shed"}, true},
		{"queue -sh*", []string{"htm_queue", "shedding"}, false},
		{"-shed", []string{"x"}, true},
		// Phrases: side by side, in order, within one field.
		{`"disk full"`, []string{"the disk is full"}, false},
		{`"disk full"`, []string{"DISK-FULL on /var"}, true},
		{`"disk full"`, []string{"full disk"}, false},
		{`"disk full"`, []string{"disk", "full"}, false},
		{`"disk full"`, []string{`["disk","full"]`}, true},
		{"worker_1", []string{"worker_10 w1"}, false},
		{"worker_1*", []string{"worker_10 w1"}, true},
		{"worker_1", []string{"worker 2 and 1"}, false},
		{`"disk fu*"`, []string{"disk fuller"}, true},
		{`"dis* full"`, []string{"disk full"}, false},
		{`-"disk full"`, []string{"disk is full"}, true},
		{`-"disk full" x`, []string{"x disk full"}, false},
		{`"a a b"`, []string{"a a a b"}, true},
		{`"a b a b c"`, []string{"a b a b a b c"}, true},
	} {
		if got := newMatcher(parseQuery(tc.query)).match(tc.fields...); got != tc.want {
			t.Errorf("match(%q, %q) = %v, want %v", tc.query, tc.fields, got, tc.want)
		}
	}
}

// Every character the query tokenizer keeps inside a word is one FTS5's
// unicode61 keeps inside a word too: a word that FTS5 split would be sent
// as a phrase, which the index (detail=none) refuses, failing the search
// (the New Tai Lue vowel signs U+19B0…, letters in Go's Unicode tables and
// separators in SQLite's, did).
func TestTokenCharactersAreFTSTokenCharacters(t *testing.T) {
	t.Parallel()
	db, err := sql.Open("sqlite", ":memory:")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	ctx := context.Background()
	if _, err := db.ExecContext(ctx, `CREATE VIRTUAL TABLE t USING fts5(a, detail=none);
		CREATE VIRTUAL TABLE v USING fts5vocab(t, 'instance')`); err != nil {
		t.Fatal(err)
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	ins, err := tx.PrepareContext(ctx, "INSERT INTO t(rowid, a) VALUES (?, ?)")
	if err != nil {
		t.Fatal(err)
	}
	kept := 0
	for r := rune(0x80); r <= unicode.MaxRune; r++ {
		if r >= 0xF0000 { // the private use planes: private, as FTS5 keeps them
			break
		}
		if toks := tokens("q"+string(r)+"z", nil); len(toks) != 1 || toks[0] == "qz" {
			continue // a separator, or removed (a combining mark)
		}
		if inFTS5Range(r) {
			continue // FTS5's own reading, checked at the range's ends (TestFTS5Runes)
		}
		kept++
		if _, err := ins.ExecContext(ctx, int64(r), "q"+string(r)+"z"); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	rows, err := db.QueryContext(ctx, "SELECT doc FROM v GROUP BY doc HAVING count(*) > 1 ORDER BY doc")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var split []string
	for rows.Next() {
		var r int64
		if err := rows.Scan(&r); err != nil {
			t.Fatal(err)
		}
		split = append(split, fmt.Sprintf("U+%04X", r))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if kept < 100000 || len(split) > 0 {
		t.Fatalf("of %d characters the query tokenizer keeps in a word, FTS5 splits words at %d: %v", kept, len(split), split)
	}
	// And such a word is searched for, not refused.
	tb := setup(t)
	if _, err := tb.s.Search(ctx, clarity.Query{Text: "a\u19b0b -c\u1cf2d"}); err != nil {
		t.Fatalf("Search: %v", err)
	}
}
