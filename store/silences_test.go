package store

import (
	"context"
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
