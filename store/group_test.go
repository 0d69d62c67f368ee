package store

import (
	"context"
	"errors"
	"sync"
	"testing"

	"grace/engine/clarity"
	"grace/engine/intent"
)

// TestApplyAllIsAllOrNothing: a group whose one change cannot apply writes
// none of its changes, records or chain entries, while changes around it
// in the same batch are written; a group with a create under a taken
// idempotency key is not written either; a group that applies is written
// whole; and the audit chain stays whole through all of it.
func TestApplyAllIsAllOrNothing(t *testing.T) {
	t.Parallel()
	tb := setup(t)
	ctx := context.Background()
	withRec := func(c *intent.Change, what string) *intent.Change {
		c.Records = []clarity.Record{rec("intake", what)}
		return c
	}
	if _, err := tb.s.Apply(ctx, withRec(&intent.Change{Create: newIntent("int_A")}, "a")); err != nil {
		t.Fatal(err)
	}

	// Changes queued around the group land in the same batch.
	release := pause(t, tb.s)
	var wg sync.WaitGroup
	var beforeErr, afterErr, groupErr error
	wg.Go(func() { _, beforeErr = tb.s.Apply(ctx, withRec(&intent.Change{Create: newIntent("int_B")}, "b")) })
	eventually(t, "the first change queued", func() bool { return len(tb.s.w.queue) == 1 })
	wg.Go(func() {
		unknown := newIntent("int_NONE")
		_, groupErr = tb.s.ApplyAll(ctx, []*intent.Change{
			withRec(&intent.Change{Create: newIntent("int_G1")}, "g1"),
			withRec(&intent.Change{Update: unknown}, "g2"),
			withRec(&intent.Change{Create: newIntent("int_G3")}, "g3"),
		})
	})
	eventually(t, "the group queued", func() bool { return len(tb.s.w.queue) == 2 })
	wg.Go(func() { _, afterErr = tb.s.Apply(ctx, withRec(&intent.Change{Create: newIntent("int_C")}, "c")) })
	eventually(t, "the last change queued", func() bool { return len(tb.s.w.queue) == 3 })
	release()
	wg.Wait()
	var ge *GroupError
	if !errors.As(groupErr, &ge) || ge.Index != 1 || !errors.Is(groupErr, intent.ErrNotFound) {
		t.Fatalf("group with an unknown update: %v, want a GroupError at 1 wrapping ErrNotFound", groupErr)
	}
	if beforeErr != nil || afterErr != nil {
		t.Fatalf("changes beside the group: %v, %v", beforeErr, afterErr)
	}
	for _, id := range []string{"int_G1", "int_G3"} {
		if _, err := tb.s.Get(ctx, id); !errors.Is(err, intent.ErrNotFound) {
			t.Errorf("%s of the failed group was stored: %v", id, err)
		}
	}
	for _, id := range []string{"int_B", "int_C"} {
		if _, err := tb.s.Get(ctx, id); err != nil {
			t.Errorf("%s beside the failed group: %v", id, err)
		}
	}
	db := tb.rawDB(t)
	if n := count(t, db, "SELECT count(*) FROM narratives WHERE what IN ('g1','g2','g3')"); n != 0 {
		t.Fatalf("the failed group left %d records", n)
	}

	// A group that applies is written whole; a taken key fails its group.
	keyed := newIntent("int_K")
	keyed.IdempotencyKey = "k-1"
	if _, err := tb.s.Apply(ctx, &intent.Change{Create: keyed}); err != nil {
		t.Fatal(err)
	}
	again := newIntent("int_K2")
	again.IdempotencyKey = "k-1"
	upd := newIntent("int_A")
	upd.State = intent.StateCompleted
	if _, err := tb.s.ApplyAll(ctx, []*intent.Change{
		withRec(&intent.Change{Create: newIntent("int_D")}, "d"),
		withRec(&intent.Change{Create: again}, "k2"),
	}); !errors.As(err, &ge) || ge.Index != 1 || !errors.Is(err, intent.ErrKeyTaken) {
		t.Fatalf("a group with a taken key: %v, want a GroupError at 1 wrapping ErrKeyTaken", err)
	}
	if _, err := tb.s.Get(ctx, "int_D"); !errors.Is(err, intent.ErrNotFound) {
		t.Fatalf("int_D of the group with a taken key was stored: %v", err)
	}
	st0 := tb.s.Stats()
	res, err := tb.s.ApplyAll(ctx, []*intent.Change{
		withRec(&intent.Change{Create: newIntent("int_D")}, "d"),
		withRec(&intent.Change{Update: upd}, "a-done"),
	})
	if err != nil || len(res) != 2 || res[0].Existing != nil || res[1].Existing != nil {
		t.Fatalf("ApplyAll: %+v, %v", res, err)
	}
	if st := tb.s.Stats(); st.Changes-st0.Changes != 2 || st.Records-st0.Records != 2 {
		t.Fatalf("a group of 2 changes with 2 records counted %d changes, %d records", st.Changes-st0.Changes, st.Records-st0.Records)
	}
	if got, err := tb.s.Get(ctx, "int_A"); err != nil || got.State != intent.StateCompleted {
		t.Fatalf("the group's update: %+v, %v", got.State, err)
	}
	if n := count(t, db, "SELECT count(*) FROM narratives WHERE what IN ('d','a-done')"); n != 2 {
		t.Fatalf("the group wrote %d of its 2 records", n)
	}
	if n := count(t, db, "SELECT count(*) FROM narratives WHERE what = 'k2'"); n != 0 {
		t.Fatal("the create under a taken key wrote its record")
	}
	if _, err := tb.s.ApplyAll(ctx, []*intent.Change{{Create: newIntent("")}}); !errors.As(err, &ge) || ge.Index != 0 {
		t.Fatalf("a change that can never apply: %v, want a GroupError before anything is queued", err)
	}
	rep, err := tb.s.VerifyAudit(ctx)
	if err != nil || !rep.OK {
		t.Fatalf("audit after the groups: %+v, %v", rep, err)
	}
}

// TestDrainCountsAGroupAsItsChanges: the writer's batch takes changes a
// caller waits on up to a third of its size counting a group as all its
// changes, so a flood of atomic batches cannot crowd the workers' updates
// out of the batch (each waited change makes room for two of them).
func TestDrainCountsAGroupAsItsChanges(t *testing.T) {
	t.Parallel()
	w := &writer{batchMax: 90, queue: make(chan request, 10), async: make(chan request, 100)}
	group := func() request { return request{group: make([]request, 20), reply: make(chan outcome, 1)} }
	for range 3 {
		w.queue <- group()
	}
	for range 100 {
		w.async <- request{}
	}
	b := w.drain(nil)
	groups, updates := 0, 0
	for _, r := range b {
		if r.group != nil {
			groups++
		} else {
			updates++
		}
	}
	// 2 groups (40 changes) pass a third of 90; updates fill the batch to 90.
	if groups != 2 || updates != 50 {
		t.Fatalf("a batch of %d groups and %d updates, want 2 and 50", groups, updates)
	}
}
