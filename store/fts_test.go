package store

import (
	"context"
	"database/sql"
	"os"
	"testing"
	"time"

	"grace/engine/clarity"
	"grace/engine/intent"
)

// TestIntakeNeverWaitsOnTheIndex locks the index file the way another
// process could, so that every catch-up step is stuck: changes must still
// commit and be found (by scan), and once the lock goes the index catches
// up with all of them.
func TestIntakeNeverWaitsOnTheIndex(t *testing.T) {
	t.Parallel()
	tb := setup(t, func(o *Options) { o.IndexInterval = time.Second })
	ctx := context.Background()
	writeRecords(t, tb.s, 10, "alice")

	lock, err := sql.Open("sqlite", searchPath(tb.path))
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Close()
	conn, err := lock.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	mustExecConn(t, conn, "BEGIN IMMEDIATE")
	tb.clock.Advance(time.Second) // the indexer now waits for the lock

	writeRecords(t, tb.s, 50, "bob")
	if _, err := tb.s.Apply(ctx, &intent.Change{Create: newIntent("in-1")}); err != nil {
		t.Fatalf("Apply with the index locked: %v", err)
	}
	es, err := tb.s.Search(ctx, clarity.Query{Text: "bob", Limit: maxSearchLimit})
	if err != nil || len(es) != 50 {
		t.Fatalf("Search with the index locked: %d entries, %v; want 50", len(es), err)
	}
	if lag := tb.s.IndexLag(); lag != 60 {
		t.Fatalf("IndexLag with the index locked = %d, want 60", lag)
	}

	mustExecConn(t, conn, "ROLLBACK")
	eventually(t, "the index to catch up once unlocked", func() bool {
		tb.clock.Advance(time.Second)
		return tb.s.IndexLag() == 0
	})
	es, err = tb.s.Search(ctx, clarity.Query{Text: "bob", Limit: maxSearchLimit})
	if err != nil || len(es) != 50 {
		t.Fatalf("Search from the index: %d entries, %v; want 50", len(es), err)
	}
}

// TestIndexIsRebuilt removes the index file, then puts another record's
// index and then garbage in its place: each time the store reopens, finds
// everything, and rebuilds an index of its own records only.
func TestIndexIsRebuilt(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	other := setup(t)
	writeRecords(t, other.s, 30, "mallory")
	if err := other.s.FlushIndex(ctx); err != nil {
		t.Fatal(err)
	}
	if err := other.s.Close(); err != nil {
		t.Fatal(err)
	}

	tb := setup(t)
	writeRecords(t, tb.s, 20, "alice")
	if err := tb.s.FlushIndex(ctx); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		replace func(path string) error
	}{
		{"missing", func(path string) error { return os.Remove(path) }},
		{"another record's", func(path string) error {
			return os.WriteFile(path, fileBytes(t, searchPath(other.path)), 0o600)
		}},
		{"garbage", func(path string) error { return os.WriteFile(path, []byte("not an index at all"), 0o600) }},
	} {
		if err := tb.s.Close(); err != nil {
			t.Fatal(err)
		}
		if err := tc.replace(searchPath(tb.path)); err != nil {
			t.Fatal(err)
		}
		tb.reopen(t)
		if lag := tb.s.IndexLag(); lag != 20 {
			t.Errorf("%s index: IndexLag = %d after reopening, want 20 (rebuilt from nothing)", tc.name, lag)
		}
		check := func(when string) {
			es, err := tb.s.Search(ctx, clarity.Query{Text: "alice", Limit: maxSearchLimit})
			if err != nil || len(es) != 20 {
				t.Errorf("%s index, %s: Search alice: %d entries, %v; want 20", tc.name, when, len(es), err)
			}
			es, err = tb.s.Search(ctx, clarity.Query{Text: "mallory", Limit: maxSearchLimit})
			if err != nil || len(es) != 0 {
				t.Errorf("%s index, %s: Search mallory: %d entries, %v; want none", tc.name, when, len(es), err)
			}
		}
		check("before catching up")
		if err := tb.s.FlushIndex(ctx); err != nil {
			t.Fatalf("%s index: FlushIndex: %v", tc.name, err)
		}
		if lag := tb.s.IndexLag(); lag != 0 {
			t.Errorf("%s index: IndexLag = %d after FlushIndex", tc.name, lag)
		}
		check("indexed")
	}
}

// TestReadOnlyWithoutIndex opens a record whose index file is gone read-
// only: it cannot rebuild it, but finds everything by scan.
func TestReadOnlyWithoutIndex(t *testing.T) {
	t.Parallel()
	tb := setup(t)
	ctx := context.Background()
	writeRecords(t, tb.s, 7, "alice")
	if err := tb.s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(searchPath(tb.path)); err != nil {
		t.Fatal(err)
	}
	ro, err := Open(ctx, tb.path, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	es, err := ro.Search(ctx, clarity.Query{Text: "alice"})
	if err != nil || len(es) != 7 {
		t.Errorf("read-only Search without an index: %d entries, %v; want 7", len(es), err)
	}
	if lag := ro.IndexLag(); lag != 7 {
		t.Errorf("read-only IndexLag without an index = %d, want 7", lag)
	}
	if _, err := os.Stat(searchPath(tb.path)); !os.IsNotExist(err) {
		t.Errorf("a read-only open created the index file: %v", err)
	}
}

// TestIndexerRestsWhileIntakeIsBusy checks the indexer's share of the
// CPU: after a step it rests three times the step's length while the
// writer has just committed, and not at all once the writer is idle.
func TestIndexerRestsWhileIntakeIsBusy(t *testing.T) {
	t.Parallel()
	tb := setup(t)
	ix := tb.s.ix
	ix.lastCommit.Store(time.Now().UnixNano())
	if got := ix.rest(2 * time.Millisecond); got != 6*time.Millisecond {
		t.Errorf("rest with the writer busy = %v, want 6ms", got)
	}
	ix.lastCommit.Store(time.Now().Add(-time.Second).UnixNano())
	if got := ix.rest(2 * time.Millisecond); got != 0 {
		t.Errorf("rest with the writer idle = %v, want 0", got)
	}
	writeRecords(t, tb.s, 1, "alice")
	if got := ix.rest(time.Millisecond); got == 0 {
		t.Errorf("rest right after a commit = 0, want 3ms")
	}
}

func mustExecConn(t testing.TB, conn *sql.Conn, q string) {
	t.Helper()
	if _, err := conn.ExecContext(context.Background(), q); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

// TestIndexedSearchAcrossScripts searches indexed records in several
// scripts: every word the search splits out must be a single token to the
// index too (it stores no positions, so a word the index split in two
// would be a phrase it cannot answer).
func TestIndexedSearchAcrossScripts(t *testing.T) {
	t.Parallel()
	tb := setup(t)
	ctx := context.Background()
	words := []string{"naïve", "Ünïcödé", "हिंदी", "東京", "Ελληνικά", "مرحبا", "x²", "e\u0301clair", "ǅungla"}
	for _, w := range words {
		r := rec("w", "step")
		r.How = "about " + w + " today"
		if err := tb.s.Record(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	if err := tb.s.FlushIndex(ctx); err != nil {
		t.Fatal(err)
	}
	for _, w := range words {
		es, err := tb.s.Search(ctx, clarity.Query{Text: w})
		if err != nil {
			t.Errorf("Search %q: %v", w, err)
			continue
		}
		if len(es) == 0 {
			t.Errorf("Search %q found nothing", w)
		}
	}
}

// TestIndexerBacksOffAfterFailures checks how many intervals the indexer
// lets pass after failed catch-ups in a row: doubling, then capped.
func TestIndexerBacksOffAfterFailures(t *testing.T) {
	t.Parallel()
	for failures, want := range map[int]int{1: 1, 2: 3, 3: 7, 8: 255, 9: maxIndexSkip, 60: maxIndexSkip} {
		if got := skipAfter(failures); got != want {
			t.Errorf("skipAfter(%d) = %d, want %d", failures, got, want)
		}
	}
}
