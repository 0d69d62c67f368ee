package store

import (
	"context"
	"errors"
	"os"
	"sync"
	"testing"

	"go.uber.org/goleak"

	"grace/engine/clarity"
	"grace/engine/intent"
)

// TestBatchFailureFailsEveryChange makes the database refuse a record
// mid-batch (a trigger, as a full disk or an I/O error would): every
// change in the batch gets the error and none of them is written; the
// writer then carries on.
func TestBatchFailureFailsEveryChange(t *testing.T) {
	t.Parallel()
	tb := setup(t)
	ctx := context.Background()
	writeRecords(t, tb.s, 2, "before")
	db := tb.rawDB(t)
	mustExec(t, db, `CREATE TRIGGER refuse BEFORE INSERT ON narratives WHEN NEW.who = 'poison'
		BEGIN SELECT RAISE(ABORT, 'disk on fire'); END`)

	release := pause(t, tb.s)
	var wg sync.WaitGroup
	errs := make([]error, 4)
	changes := []*intent.Change{
		{Create: newIntent("int_x"), Records: []clarity.Record{rec("intake", "received")}},
		{Records: []clarity.Record{rec("ok", "fine")}},
		{Records: []clarity.Record{rec("poison", "boom")}},
		{Records: []clarity.Record{rec("ok", "also fine")}},
	}
	for i, c := range changes {
		wg.Add(1)
		tb.s.ApplyAsync(c, func(_ intent.Result, err error) { errs[i] = err; wg.Done() })
	}
	release()
	wg.Wait()
	for i, err := range errs {
		if err == nil {
			t.Errorf("change %d succeeded in a failed batch", i)
		}
	}
	if _, err := tb.s.Get(ctx, "int_x"); !errors.Is(err, intent.ErrNotFound) {
		t.Errorf("the failed batch's intent was written: %v", err)
	}
	if n := count(t, db, "SELECT count(*) FROM narratives"); n != 2 {
		t.Errorf("%d narratives after the failed batch, want 2", n)
	}
	if n := count(t, db, "SELECT count(*) FROM audit"); n != 2 {
		t.Errorf("%d audit entries after the failed batch, want 2", n)
	}

	mustExec(t, db, "DROP TRIGGER refuse")
	writeRecords(t, tb.s, 1, "after")
	rep, err := tb.s.VerifyAudit(ctx)
	if err != nil || !rep.OK || rep.HeadSeq != 3 {
		t.Errorf("chain after recovery: %+v, %v", rep, err)
	}
	if st := tb.s.Stats(); st.FailedBatches != 1 {
		t.Errorf("FailedBatches = %d, want 1", st.FailedBatches)
	}
}

// TestCloseDrainsQueueAndStops checks that changes queued before Close are
// committed, later ones fail with ErrClosed, Close is idempotent and no
// goroutine is left behind.
func TestCloseDrainsQueueAndStops(t *testing.T) {
	defer goleak.VerifyNone(t)
	tb := setup(t)
	ctx := context.Background()
	const n = 300
	var wg sync.WaitGroup
	var failed sync.Map
	release := pause(t, tb.s)
	for i := range n {
		wg.Add(1)
		tb.s.ApplyAsync(&intent.Change{Records: []clarity.Record{rec("w", "queued")}}, func(_ intent.Result, err error) {
			if err != nil {
				failed.Store(i, err)
			}
			wg.Done()
		})
	}
	closed := make(chan error)
	go func() { closed <- tb.s.Close() }()
	release()
	if err := <-closed; err != nil {
		t.Fatalf("Close: %v", err)
	}
	wg.Wait()
	failed.Range(func(k, v any) bool {
		t.Errorf("queued change %v failed: %v", k, v)
		return true
	})
	if err := tb.s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, err := tb.s.Apply(ctx, &intent.Change{Records: []clarity.Record{rec("a", "b")}}); !errors.Is(err, ErrClosed) {
		t.Errorf("Apply after Close: %v, want ErrClosed", err)
	}
	var asyncErr error
	tb.s.ApplyAsync(&intent.Change{}, func(_ intent.Result, err error) { asyncErr = err })
	if !errors.Is(asyncErr, ErrClosed) {
		t.Errorf("ApplyAsync after Close: %v, want ErrClosed", asyncErr)
	}
	for name, err := range map[string]error{
		"Search":     func() error { _, err := tb.s.Search(ctx, searchAll); return err }(),
		"Get":        func() error { _, err := tb.s.Get(ctx, "x"); return err }(),
		"FlushIndex": tb.s.FlushIndex(ctx),
		"Checkpoint": tb.s.Checkpoint(ctx),
	} {
		if !errors.Is(err, ErrClosed) {
			t.Errorf("%s after Close: %v, want ErrClosed", name, err)
		}
	}
	if _, err := os.Stat(tb.path + "-wal"); err == nil {
		t.Error("Close left the WAL file behind: the database file alone is not complete")
	}

	ro, err := Open(ctx, tb.path, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	rep, err := ro.VerifyAudit(ctx)
	if err != nil || !rep.OK || rep.Entries != n || rep.Checkpoints != 1 {
		t.Errorf("after Close: %+v, %v; want %d entries and the final checkpoint", rep, err, n)
	}
}
