package store

import (
	"context"
	"testing"
	"time"

	"grace/engine"
	"grace/engine/clarity"
	"grace/engine/intent"
)

// TestMigrationFromVersion1 opens a database as version 1 left it (no
// narrative_blocks) and checks that migration 2 fills the time spans in,
// so that time-bounded searches find the old records.
func TestMigrationFromVersion1(t *testing.T) {
	t.Parallel()
	tb := setup(t)
	ctx := context.Background()
	for i := range 3 {
		r := rec("alice", "step")
		r.When = t0.Add(time.Duration(i) * time.Hour)
		if err := tb.s.Record(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	if err := tb.s.Close(); err != nil {
		t.Fatal(err)
	}
	db := tb.rawDB(t)
	mustExec(t, db, "DROP TABLE narrative_blocks")
	mustExec(t, db, "PRAGMA user_version = 1")
	db.Close()

	tb.reopen(t)
	db = tb.rawDB(t)
	if v := count(t, db, "PRAGMA user_version"); v != int64(schemaVersion) {
		t.Fatalf("user_version = %d after reopening, want %d", v, schemaVersion)
	}
	var lo, hi int64
	if err := db.QueryRow("SELECT min_ts, max_ts FROM narrative_blocks WHERE block = 0").Scan(&lo, &hi); err != nil {
		t.Fatal(err)
	}
	if lo != t0.UnixNano() || hi != t0.Add(2*time.Hour).UnixNano() {
		t.Errorf("block 0 spans %v..%v", time.Unix(0, lo).UTC(), time.Unix(0, hi).UTC())
	}
	es, err := tb.s.Search(ctx, clarity.Query{Since: t0.Add(time.Hour)})
	if err != nil || len(es) != 2 {
		t.Errorf("Search since the second record: %d entries, %v; want 2", len(es), err)
	}
}

// TestTimeSpansBoundSearch writes records whose times run backwards across
// block boundaries: the spans must still cover every one of them.
func TestTimeSpansBoundSearch(t *testing.T) {
	t.Parallel()
	tb := setup(t)
	ctx := context.Background()
	const n = 3*(1<<blockShift) + 10
	c := make([]clarity.Record, n)
	for i := range c {
		c[i] = rec("w", "tick")
		c[i].When = t0.Add(time.Duration(n-i) * time.Second) // newest id, oldest time
	}
	if err := tb.s.Record(ctx, c...); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		q    clarity.Query
		want []int64
	}{
		{clarity.Query{Until: t0.Add(3 * time.Second)}, []int64{n, n - 1}},
		{clarity.Query{Since: t0.Add((n - 1) * time.Second)}, []int64{2, 1}},
		{clarity.Query{Since: t0.Add(5000 * time.Second), Until: t0.Add(5002 * time.Second)}, []int64{n - 4999, n - 5000}},
		{clarity.Query{Since: t0.Add(2 * n * time.Second)}, nil},
		{clarity.Query{Until: t0}, nil},
	} {
		es, err := tb.s.Search(ctx, tc.q)
		if err != nil {
			t.Fatal(err)
		}
		if got := ids(es); !equalIDs(got, tc.want) {
			t.Errorf("Search(since %v, until %v) = %v, want %v", tc.q.Since.Sub(t0), tc.q.Until.Sub(t0), got, tc.want)
		}
	}
}

func equalIDs(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// A database at version 9 (before the webhooks' acknowledgements) is
// migrated on open: its intents and records are kept, and the new table
// keeps acknowledgements and drops them as their intent is decided.
func TestMigrationFromVersion9(t *testing.T) {
	t.Parallel()
	tb := setup(t)
	ctx := context.Background()
	writeRecords(t, tb.s, 3, "alice")
	if _, err := tb.s.Apply(ctx, &intent.Change{Create: pendingIntent("p1")}); err != nil {
		t.Fatal(err)
	}
	if err := tb.s.Close(); err != nil {
		t.Fatal(err)
	}
	db := tb.rawDB(t)
	mustExec(t, db, "DROP TRIGGER approval_acks_decided")
	mustExec(t, db, "DROP TRIGGER approval_acks_deleted")
	mustExec(t, db, "DROP TABLE approval_acks")
	mustExec(t, db, "PRAGMA user_version = 9")
	db.Close()

	tb.reopen(t)
	db = tb.rawDB(t)
	if v := count(t, db, "PRAGMA user_version"); v != int64(schemaVersion) || schemaVersion != 10 {
		t.Fatalf("user_version = %d after reopening, want %d (10)", v, schemaVersion)
	}
	if es, err := tb.s.Search(ctx, searchAll); err != nil || len(es) != 3 {
		t.Fatalf("records after migrating: %d, %v", len(es), err)
	}
	if in, err := tb.s.Get(ctx, "p1"); err != nil || in.State != intent.StatePendingApproval {
		t.Fatalf("intent after migrating: %+v, %v", in, err)
	}
	if err := tb.s.SaveApprovalAcks(ctx, []engine.ApprovalAck{{Webhook: "oncall", IntentID: "p1", At: t0}}); err != nil {
		t.Fatal(err)
	}
	if c := count(t, db, "SELECT count(*) FROM approval_acks WHERE webhook = 'oncall' AND intent_id = 'p1'"); c != 1 {
		t.Fatalf("%d acknowledgements kept", c)
	}
	approved := pendingIntent("p1")
	approved.State = intent.StateQueued
	if _, err := tb.s.Apply(ctx, &intent.Change{Update: approved}); err != nil {
		t.Fatal(err)
	}
	if c := count(t, db, "SELECT count(*) FROM approval_acks"); c != 0 {
		t.Fatalf("%d acknowledgements left of an approved intent", c)
	}
}
