package store

import (
	"context"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"grace/engine/watchdog"
)

func silenceAt(id string, at time.Time, match string) watchdog.Silence {
	return watchdog.Silence{ID: id, Match: match, Reason: "maintenance of " + match, By: "alice", CreatedAt: at,
		EndsAt: at.Add(2 * time.Hour), State: watchdog.SilenceActive}
}

// TestSilencesPersist: a silence is written with its record in one
// transaction, reads back as written after a reopen, is replaced as it
// ends; the active query leaves the ended out, the other gives the newest
// first, within its limit; the audit chain holds.
func TestSilencesPersist(t *testing.T) {
	t.Parallel()
	tb := setup(t)
	ctx := context.Background()
	a := silenceAt("sil_a", t0, "scheduler/*")
	b := silenceAt("sil_b", t0.Add(time.Minute), "*")
	c := silenceAt("sil_c", t0.Add(2*time.Minute), "*/queue_depth")
	for _, s := range []watchdog.Silence{a, b, c} {
		if err := tb.s.SaveSilence(ctx, s, rec("alice", "alert_silenced", "maintenance")); err != nil {
			t.Fatal(err)
		}
	}
	b.State, b.EndedAt, b.EndedBy, b.EndReason = watchdog.SilenceEnded, t0.Add(time.Hour), "bob", "done early"
	if err := tb.s.SaveSilence(ctx, b, rec("bob", "alert_silence_ended", "done early")); err != nil {
		t.Fatal(err)
	}
	tb.reopen(t)

	all, err := tb.s.StoredSilences(ctx, watchdog.SilenceQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if want := []watchdog.Silence{c, b, a}; !reflect.DeepEqual(all, want) {
		t.Fatalf("every silence, newest first:\n%+v\nwant\n%+v", all, want)
	}
	active, err := tb.s.StoredSilences(ctx, watchdog.SilenceQuery{Active: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(active) != 2 || active[0].ID != "sil_c" || active[1].ID != "sil_a" {
		t.Fatalf("active: %+v, want sil_c and sil_a", active)
	}
	if one, _ := tb.s.StoredSilences(ctx, watchdog.SilenceQuery{Limit: 1}); len(one) != 1 || one[0].ID != "sil_c" {
		t.Fatalf("limit 1: %+v", one)
	}
	db := tb.rawDB(t)
	if n := count(t, db, "SELECT count(*) FROM silences"); n != 3 {
		t.Fatalf("%d rows, want 3 (an end replaces the row)", n)
	}
	if n := count(t, db, "SELECT count(*) FROM narratives WHERE what IN ('alert_silenced', 'alert_silence_ended')"); n != 4 {
		t.Fatalf("%d records, want 4", n)
	}
	if rep, err := tb.s.VerifyAudit(ctx); err != nil || !rep.OK || rep.Entries != 4 {
		t.Fatalf("audit: %+v, %v", rep, err)
	}
}

// TestSilenceWriteFailsAlone: when the silence's row cannot be written,
// its record is not written either, and a change in the same group
// commit is written as ever.
func TestSilenceWriteFailsAlone(t *testing.T) {
	t.Parallel()
	tb := setup(t)
	ctx := context.Background()
	mustExec(t, tb.rawDB(t), "DROP TABLE silences")
	release := pause(t, tb.s)
	var wg sync.WaitGroup
	var silErr, recErr error
	wg.Go(func() {
		silErr = tb.s.SaveSilence(ctx, silenceAt("sil_x", t0, "*"), rec("alice", "alert_silenced", "x"))
	})
	wg.Go(func() { recErr = tb.s.Record(ctx, rec("bob", "other_change", "y")) })
	eventually(t, "both changes to wait for the writer", func() bool { return len(tb.s.w.queue) == 2 })
	release()
	wg.Wait()
	if silErr == nil || recErr != nil {
		t.Fatalf("silence: %v (want an error), record beside it: %v (want none)", silErr, recErr)
	}
	db := tb.rawDB(t)
	if n := count(t, db, "SELECT count(*) FROM narratives WHERE what = 'alert_silenced'"); n != 0 {
		t.Fatalf("the failed silence's record was written (%d)", n)
	}
	if n := count(t, db, "SELECT count(*) FROM narratives WHERE what = 'other_change'"); n != 1 {
		t.Fatalf("the change beside it: %d records, want 1", n)
	}
	if rep, err := tb.s.VerifyAudit(ctx); err != nil || !rep.OK {
		t.Fatalf("audit: %+v, %v", rep, err)
	}
}

// TestSilencesPrunedAfterTheyEnded: PruneSilences deletes the silences
// that ended (or were stored expired) before its cutoff, and none active
// (even one whose time has passed, not yet stored expired); the records
// stay and the audit chain holds. EndedSince leaves the ended ones out of
// a read, and a negative limit reads every one.
func TestSilencesPrunedAfterTheyEnded(t *testing.T) {
	t.Parallel()
	tb := setup(t)
	ctx := context.Background()
	old := silenceAt("sil_old", t0, "a/*")
	old.State, old.EndedAt, old.EndedBy, old.EndReason = watchdog.SilenceEnded, t0.Add(time.Hour), "bob", "done"
	expired := silenceAt("sil_expired", t0.Add(time.Minute), "b/*")
	expired.State, expired.EndedAt = watchdog.SilenceExpired, expired.EndsAt
	recent := silenceAt("sil_recent", t0.Add(2*time.Minute), "c/*")
	recent.State, recent.EndedAt, recent.EndedBy, recent.EndReason = watchdog.SilenceEnded, t0.Add(10*time.Hour), "bob", "done"
	stale := silenceAt("sil_stale", t0.Add(3*time.Minute), "d/*") // active, its time long past
	for _, s := range []watchdog.Silence{old, expired, recent, stale} {
		if err := tb.s.SaveSilence(ctx, s, rec("alice", "alert_silenced", "maintenance")); err != nil {
			t.Fatal(err)
		}
	}
	cutoff := t0.Add(5 * time.Hour)
	if got, err := tb.s.StoredSilences(ctx, watchdog.SilenceQuery{EndedSince: cutoff}); err != nil || len(got) != 2 ||
		got[0].ID != "sil_stale" || got[1].ID != "sil_recent" {
		t.Fatalf("ended since the cutoff: %+v, %v; want sil_stale and sil_recent", got, err)
	}
	n, err := tb.s.PruneSilences(ctx, cutoff)
	if err != nil || n != 2 {
		t.Fatalf("PruneSilences: %d, %v; want 2", n, err)
	}
	tb.reopen(t)
	got, err := tb.s.StoredSilences(ctx, watchdog.SilenceQuery{Limit: -1})
	if err != nil || len(got) != 2 || got[0].ID != "sil_stale" || got[1].ID != "sil_recent" {
		t.Fatalf("after the prune: %+v, %v; want sil_stale and sil_recent", got, err)
	}
	if n, err := tb.s.PruneSilences(ctx, cutoff); err != nil || n != 0 {
		t.Fatalf("a second prune: %d, %v; want 0", n, err)
	}
	db := tb.rawDB(t)
	if n := count(t, db, "SELECT count(*) FROM narratives WHERE what = 'alert_silenced'"); n != 4 {
		t.Fatalf("%d records after the prune, want 4 (they stay)", n)
	}
	if rep, err := tb.s.VerifyAudit(ctx); err != nil || !rep.OK {
		t.Fatalf("audit: %+v, %v", rep, err)
	}
	for i := range watchdog.DefaultLimit + 1 {
		if err := tb.s.SaveSilence(ctx, silenceAt(fmt.Sprintf("sil_n%03d", i), t0.Add(time.Hour), "e/*")); err != nil {
			t.Fatal(err)
		}
	}
	if got, _ := tb.s.StoredSilences(ctx, watchdog.SilenceQuery{Active: true, Limit: -1}); len(got) != watchdog.DefaultLimit+2 {
		t.Fatalf("every active silence: %d, want %d", len(got), watchdog.DefaultLimit+2)
	}
}
