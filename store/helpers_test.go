package store

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"go.uber.org/goleak"

	"grace/engine/clarity"
	"grace/engine/clock"
	"grace/engine/intent"
)

func TestMain(m *testing.M) {
	code := m.Run()
	closeFixture()
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintln(os.Stderr, "goleak:", err)
			code = 1
		}
	}
	os.Exit(code)
}

// t0 is the fake clock's start.
var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// testBundle is what most tests need: an open store in a temp data folder
// driven by a fake clock.
type testBundle struct {
	s     *Store
	path  string
	dir   string
	clock *clock.Fake
	opts  Options
}

// setup opens a fresh store; opts tweak its Options. The store is closed
// when the test ends.
func setup(t testing.TB, opts ...func(*Options)) *testBundle {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "data")
	tb := &testBundle{path: filepath.Join(dir, "grace.db"), dir: dir, clock: clock.NewFake(t0)}
	tb.opts = Options{Clock: tb.clock}
	for _, f := range opts {
		f(&tb.opts)
	}
	s, err := Open(context.Background(), tb.path, tb.opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	tb.s = s
	t.Cleanup(func() { _ = s.Close() })
	return tb
}

// reopen closes the store and opens it again with the same options.
func (tb *testBundle) reopen(t testing.TB) {
	t.Helper()
	if err := tb.s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	s, err := Open(context.Background(), tb.path, tb.opts)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	tb.s = s
	t.Cleanup(func() { _ = s.Close() })
}

// rawDB opens the database with a plain database/sql connection, the way
// someone with the sqlite3 tool would reach it.
func (tb *testBundle) rawDB(t testing.TB) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", tb.path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// mustExec runs SQL through rawDB and fails the test on error.
func mustExec(t testing.TB, db *sql.DB, q string, args ...any) {
	t.Helper()
	if _, err := db.Exec(q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

// count returns a single integer from q.
func count(t testing.TB, db *sql.DB, q string, args ...any) int64 {
	t.Helper()
	var n int64
	if err := db.QueryRow(q, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

// searchAll lists every narrative (up to the search limit).
var searchAll = clarity.Query{Limit: maxSearchLimit}

// rec returns a valid record; fields can be overridden by the caller.
func rec(who, what string, why ...string) clarity.Record {
	return clarity.Record{Who: who, What: what, Where: "test", Why: why, How: "by test",
		Result: what, Confidence: 0.9, Risk: 0.1, Transparency: clarity.TransparencyComplete}
}

// newIntent returns a valid intent with the given ID.
func newIntent(id string) *intent.Intent {
	return &intent.Intent{ID: id, Type: "query_knowledge", Actor: "agent-1",
		Payload: []byte(`{"q":"status"}`), Priority: 5, State: intent.StateQueued, Tier: 2,
		Decision:  intent.Decision{Approved: true, AutonomyTier: 2, RoutedTo: "htm", Reasoning: []string{"tier 2"}},
		CreatedAt: t0, UpdatedAt: t0}
}

// writeRecords records n records, one change per record, and returns them.
func writeRecords(t testing.TB, s *Store, n int, who string) {
	t.Helper()
	for i := 0; i < n; i++ {
		if err := s.Record(context.Background(), rec(who, fmt.Sprintf("step%d", i), "reason "+fmt.Sprint(i))); err != nil {
			t.Fatalf("Record: %v", err)
		}
	}
}

// pause holds the writer between batches until the returned release is
// called, so that changes queued meanwhile land in one batch.
func pause(t testing.TB, s *Store) (release func()) {
	t.Helper()
	held, free := make(chan struct{}), make(chan struct{})
	go func() {
		_ = s.do(context.Background(), func(*writer) error {
			close(held)
			<-free
			return nil
		})
	}()
	<-held
	return func() { close(free) }
}

// eventually polls cond until it holds or a generous deadline passes.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

func fileBytes(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
