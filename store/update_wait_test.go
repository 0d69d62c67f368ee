package store

import (
	"context"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"grace/engine/clarity"
	"grace/engine/intent"
)

// TestUpdatesWaitToShareACommit: with UpdateWait set, a change nobody
// waits on (a worker's update) is not committed alone at once: it waits
// for company, and shares one commit with the updates and the change a
// caller waits on that come next, which ends the wait at once (the wait
// here is an hour: a submission held by it would time the test out).
// Close ends the wait too, committing what waited.
func TestUpdatesWaitToShareACommit(t *testing.T) {
	defer goleak.VerifyNone(t)
	tb := setup(t, func(o *Options) { o.UpdateWait = time.Hour })
	ctx := context.Background()
	var gathering sync.WaitGroup
	gathering.Add(1)
	var once sync.Once
	tb.s.w.onGather = func() { once.Do(gathering.Done) }
	gathered := make(chan struct{})
	go func() { gathering.Wait(); close(gathered) }()

	// A submission first: once it is answered the writer has nothing
	// queued, so the update below comes to an idle writer.
	if _, err := tb.s.Apply(ctx, &intent.Change{Records: []clarity.Record{rec("agent.a", "intent_received")}}); err != nil {
		t.Fatal(err)
	}
	before := tb.s.Stats().Batches
	first := make(chan error, 1)
	tb.s.ApplyAsync(&intent.Change{Records: []clarity.Record{rec("worker_1", "intent_dispatched")}}, func(_ intent.Result, err error) { first <- err })
	select {
	case <-gathered:
	case err := <-first:
		t.Fatalf("a lone update was committed at once (%v), not held for company", err)
	}
	second := make(chan error, 1)
	tb.s.ApplyAsync(&intent.Change{Records: []clarity.Record{rec("worker_1", "intent_completed")}}, func(_ intent.Result, err error) { second <- err })
	if _, err := tb.s.Apply(ctx, &intent.Change{Records: []clarity.Record{rec("agent.a", "intent_received")}}); err != nil {
		t.Fatal(err)
	}
	if err1, err2 := <-first, <-second; err1 != nil || err2 != nil {
		t.Fatalf("updates failed: %v, %v", err1, err2)
	}
	if got := tb.s.Stats().Batches - before; got != 1 {
		t.Errorf("two updates and a submission took %d commits, want 1", got)
	}

	// An update waiting alone is committed when the store closes.
	done := make(chan error, 1)
	tb.s.ApplyAsync(&intent.Change{Records: []clarity.Record{rec("worker_2", "intent_completed")}}, func(_ intent.Result, err error) { done <- err })
	if err := tb.s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("the waiting update failed at Close: %v", err)
	}
	ro, err := Open(ctx, tb.path, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	es, err := ro.Search(ctx, clarity.Query{Action: "intent_completed"})
	if err != nil || len(es) != 2 {
		t.Fatalf("after Close: %d intent_completed records, %v; want 2", len(es), err)
	}
}

// TestBusyWriterHoldsNoUpdate: after a large batch (a busy writer, whose
// company is on its way) an update alone is committed at once.
func TestBusyWriterHoldsNoUpdate(t *testing.T) {
	t.Parallel()
	tb := setup(t, func(o *Options) { o.UpdateWait = time.Hour })
	held := make(chan struct{}, 1)
	tb.s.w.onGather = func() {
		select {
		case held <- struct{}{}:
		default:
		}
	}
	release := pause(t, tb.s)
	var wg sync.WaitGroup
	for range gatherBelow + 8 {
		wg.Add(1)
		tb.s.ApplyAsync(&intent.Change{Records: []clarity.Record{rec("worker_1", "intent_dispatched")}}, func(intent.Result, error) { wg.Done() })
	}
	release()
	wg.Wait() // one batch of them all, committed at once: not updates alone after a small batch
	done := make(chan error, 1)
	tb.s.ApplyAsync(&intent.Change{Records: []clarity.Record{rec("worker_1", "intent_completed")}}, func(_ intent.Result, err error) { done <- err })
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-held:
		t.Fatal("an update after a large batch was held for company")
	}
}

// TestUpdateWaitMustNotBeNegative: a negative UpdateWait is refused.
func TestUpdateWaitMustNotBeNegative(t *testing.T) {
	t.Parallel()
	if _, err := (Options{UpdateWait: -time.Millisecond}).withDefaults(); err == nil {
		t.Error("UpdateWait -1ms accepted")
	}
}
