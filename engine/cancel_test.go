package engine

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"grace/engine/clarity"
	"grace/engine/clock"
	"grace/engine/enginetest"
	"grace/engine/intent"
)

// TestCancelWithdrawsPendingAndQueuedIntents: a pending or queued intent
// is cancelled for good, on the record, and never runs; a finished one
// cannot be.
func TestCancelWithdrawsPendingAndQueuedIntents(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.start(t)
	ctx := t.Context()

	pending := b.submit(t, intent.Submission{Type: "change_charter"})
	in, err := b.e.Cancel(ctx, pending.ID, "alice", "raised by mistake")
	if err != nil || in.State != intent.StateCancelled || in.DecidedBy != "alice" || in.DecisionReason != "raised by mistake" {
		t.Fatalf("cancel a pending intent: %+v, %v", in, err)
	}
	if got := b.stored(t, pending.ID); got.State != intent.StateCancelled {
		t.Fatalf("stored as %s", got.State)
	}
	if !slices.Contains(b.whats(pending.ID), WhatCancelled) {
		t.Fatalf("no %s record: %v", WhatCancelled, b.whats(pending.ID))
	}
	if r := recordOf(t, b.store.RecordsFor(pending.ID), WhatCancelled); r.Where != whereApprovals {
		t.Fatalf("a pending intent's cancel is recorded where %q", r.Where)
	}
	if _, err := b.e.Approve(ctx, pending.ID, "bob", ""); !errors.Is(err, ErrNotPending) {
		t.Fatalf("approve after cancel: %v, want ErrNotPending", err)
	}
	// A second cancel (another operator's, a moment late) is told whose
	// cancel came first, and why; it changes nothing.
	if _, err := b.e.Cancel(ctx, pending.ID, "bob", "me too"); !errors.Is(err, ErrNotCancellable) ||
		!strings.Contains(err.Error(), "(it is cancelled); alice cancelled it: raised by mistake") {
		t.Fatalf("cancel a cancelled intent: %v", err)
	}
	if got := b.stored(t, pending.ID); got.DecidedBy != "alice" || got.DecisionReason != "raised by mistake" {
		t.Fatalf("a refused cancel changed the intent: %+v", got)
	}

	// Queued, the scheduler paused: taken out of the queue, never run.
	if err := b.e.PauseScheduler(ctx, "alice", "hold"); err != nil {
		t.Fatal(err)
	}
	queued := b.submit(t, intent.Submission{Type: "query_knowledge"})
	other := b.submit(t, intent.Submission{Type: "query_knowledge"})
	if _, err := b.e.Cancel(ctx, queued.ID, "alice", "not needed"); err != nil {
		t.Fatalf("cancel a queued intent: %v", err)
	}
	if b.e.queue.Contains(queued.ID) {
		t.Fatal("the cancelled intent is still in the queue")
	}
	// Where it was taken from: the queue, not the approvals.
	if r := recordOf(t, b.store.RecordsFor(queued.ID), WhatCancelled); r.Where != whereQueue {
		t.Fatalf("a queued intent's cancel is recorded where %q", r.Where)
	}
	if err := b.e.ResumeScheduler(ctx, "alice", "go"); err != nil {
		t.Fatal(err)
	}
	b.waitState(t, other.ID, intent.StateCompleted)
	if n := b.handlers.callsFor(queued.ID); n != 0 || b.stored(t, queued.ID).State != intent.StateCancelled {
		t.Fatalf("the cancelled intent ran %d times and is %s", n, b.stored(t, queued.ID).State)
	}

	// Finished: refused, nothing changed.
	if _, err := b.e.Cancel(ctx, other.ID, "alice", "too late"); !errors.Is(err, ErrNotCancellable) {
		t.Fatalf("cancel a completed intent: %v, want ErrNotCancellable", err)
	}
	if got := b.stored(t, other.ID); got.State != intent.StateCompleted || got.DecidedBy != "" {
		t.Fatalf("a refused cancel changed the intent: %+v", got)
	}

	for _, tc := range []struct{ by, reason string }{{"", "r"}, {"alice", " "}} {
		if _, err := b.e.Cancel(ctx, other.ID, tc.by, tc.reason); !errors.Is(err, ErrOperatorRequired) && !errors.Is(err, ErrReasonRequired) {
			t.Errorf("Cancel(by %q, reason %q): %v", tc.by, tc.reason, err)
		}
	}
	if _, err := b.e.Cancel(ctx, "int_nope", "alice", "r"); !errors.Is(err, ErrNotFound) {
		t.Errorf("cancel an unknown intent: %v", err)
	}
}

// TestCancelBeforeStartSurvivesRecovery: on an engine not started (the CLI
// on the database) a queued intent is cancelled in the store, and the next
// start does not queue it again.
func TestCancelBeforeStartSurvivesRecovery(t *testing.T) {
	t.Parallel()
	b := setup(t)
	queued := b.submit(t, intent.Submission{Type: "query_knowledge"})
	if _, err := b.e.Cancel(t.Context(), queued.ID, "alice", "not needed"); err != nil {
		t.Fatal(err)
	}
	b.e.Stop()
	again := setupOn(t, b.store, b.clock)
	again.start(t)
	if again.e.queue.Contains(queued.ID) || again.stored(t, queued.ID).State != intent.StateCancelled {
		t.Fatalf("after a restart the cancelled intent is %s (queued: %v)", again.stored(t, queued.ID).State, again.e.queue.Contains(queued.ID))
	}
}

// TestCancelStopsARunningIntent: cancelling a running intent fences its
// attempt and cancels its handler's context; a handler that stops is
// recorded as stopped, one that finishes anyway has its result discarded,
// and either way the intent stays cancelled, never runs again, and its
// worker goes back to work.
func TestCancelStopsARunningIntent(t *testing.T) {
	t.Parallel()
	b := setup(t, func(c *Config) { c.Workers.Count = 1 })
	started := make(chan string, 4)
	stopped := make(chan error, 4)
	ignore := make(chan struct{})
	var calls atomic.Int32
	b.handlers.set("query_knowledge", func(ctx context.Context, in intent.Intent) error {
		started <- in.ID
		switch calls.Add(1) {
		case 1: // stops when told
			<-ctx.Done()
			stopped <- context.Cause(ctx)
			return ctx.Err()
		case 2: // finishes anyway, after the cancel
			<-ignore
			return nil
		}
		return nil
	})
	b.start(t)
	ctx := t.Context()
	waitStart := func(id string) {
		t.Helper()
		select {
		case got := <-started:
			if got != id {
				t.Fatalf("handler began %s, want %s", got, id)
			}
		case <-time.After(waitLimit):
			t.Fatalf("the handler of %s never began", id)
		}
	}

	first := b.submit(t, intent.Submission{Type: "query_knowledge"})
	waitStart(first.ID)
	got, err := b.e.Cancel(ctx, first.ID, "alice", "wrong target")
	if err != nil || got.State != intent.StateCancelled || got.Attempts != 1 || got.DecidedBy != "alice" {
		t.Fatalf("cancel a running intent: %+v, %v", got, err)
	}
	select {
	case cause := <-stopped:
		if !errors.Is(cause, errWithdrawn) {
			t.Fatalf("the handler was stopped with %v, want errWithdrawn", cause)
		}
	case <-time.After(waitLimit):
		t.Fatal("the handler's context was not cancelled")
	}
	cr := recordOf(t, b.store.RecordsFor(first.ID), WhatCancelled)
	if cr.Context["worker"] == nil || cr.Context["handler_started"] != true {
		t.Fatalf("the cancel record does not name the stopped attempt: %v", cr.Context)
	}
	if cr.Where != cr.Context["worker"] {
		t.Fatalf("a running intent's cancel is recorded where %q, not on its worker %v", cr.Where, cr.Context["worker"])
	}
	late := b.waitRecord(t, WhatStaleDiscarded, func(r clarity.Record) bool { return r.IntentID == first.ID })
	if late.Context["cancelled_by"] != "alice" {
		t.Fatalf("the discarded result does not say who cancelled: %v", late.Context)
	}
	if _, err := b.e.Cancel(ctx, first.ID, "alice", "again"); !errors.Is(err, ErrNotCancellable) {
		t.Fatalf("cancel a cancelled intent: %v, want ErrNotCancellable", err)
	}

	// A handler that ignores its context: its success is discarded.
	second := b.submit(t, intent.Submission{Type: "query_knowledge"})
	waitStart(second.ID)
	if _, err := b.e.Cancel(ctx, second.ID, "bob", "stop"); err != nil {
		t.Fatal(err)
	}
	close(ignore)
	late = b.waitRecord(t, WhatStaleDiscarded, func(r clarity.Record) bool { return r.IntentID == second.ID })
	if late.Context["late_outcome"] != "succeeded" {
		t.Fatalf("discarded outcome: %v", late.Context)
	}

	// The one worker is free again, and neither intent runs again.
	third := b.submit(t, intent.Submission{Type: "query_knowledge"})
	b.waitState(t, third.ID, intent.StateCompleted)
	for _, id := range []string{first.ID, second.ID} {
		if st := b.stored(t, id).State; st != intent.StateCancelled {
			t.Errorf("%s is %s, want cancelled", id, st)
		}
		if n := b.handlers.callsFor(id); n != 1 {
			t.Errorf("%s ran %d times, want 1", id, n)
		}
	}
	if s := b.e.Snapshot(); s.ByState[intent.StateRunning] != 0 || s.ByState[intent.StateCancelled] != 2 {
		t.Errorf("state counts: %v", s.ByState)
	}
}

// barrierStore tells when the engine queues a barrier (an empty change).
type barrierStore struct {
	*enginetest.Store
	barriers chan struct{}
}

func (s *barrierStore) ApplyAsync(c *intent.Change, done func(intent.Result, error)) {
	if c.Empty() {
		select {
		case s.barriers <- struct{}{}:
		default:
		}
	}
	s.Store.ApplyAsync(c, done)
}

// TestCancelBetweenOwners: a cancel that finds the intent in neither the
// queue nor a worker's hands, because the store has not yet been told
// where it went (here a failed attempt's retry, its write held back),
// waits for the store's pending writes and cancels it where it then is,
// instead of answering "look again".
func TestCancelBetweenOwners(t *testing.T) {
	t.Parallel()
	st, clk := enginetest.NewStore(64), clock.NewFake(epoch)
	cfg := testConfig()
	cfg.Workers.Count = 1
	b := &testBundle{store: st, clock: clk, handlers: newTestHandlers()}
	t.Cleanup(func() { _ = st.Close() })
	bs := &barrierStore{Store: st, barriers: make(chan struct{}, 1)}
	e, err := New(cfg, Deps{Store: bs, Clock: clk, Handlers: b.handlers, Rand: func() float64 { return 0 }})
	if err != nil {
		t.Fatal(err)
	}
	b.e = e
	t.Cleanup(e.Stop)
	started, finish := make(chan struct{}, 1), make(chan struct{})
	b.handlers.set("query_knowledge", func(context.Context, intent.Intent) error {
		started <- struct{}{}
		<-finish
		return errors.New("upstream busy") // retried after a backoff
	})
	b.start(t)
	in := b.submit(t, intent.Submission{Type: "query_knowledge"})
	select {
	case <-started:
	case <-time.After(waitLimit):
		t.Fatal("the handler never began")
	}
	st.Flush() // the dispatch is written: the store says running
	st.Hold()  // and the attempt's outcome (a retry) is queued for it, not written
	held := true
	defer func() {
		if held {
			st.Release()
		}
	}()
	close(finish)
	eventually(t, "the retry back in the queue", func() bool { return e.Snapshot().QueueDepth == 1 })
	if got := b.stored(t, in.ID).State; got != intent.StateRunning {
		t.Fatalf("the store says %s; the test needs it still running", got)
	}

	type answer struct {
		in  intent.Intent
		err error
	}
	res := make(chan answer, 1)
	go func() {
		got, err := e.Cancel(context.Background(), in.ID, "alice", "not needed")
		res <- answer{got, err}
	}()
	select {
	case <-bs.barriers: // it found the intent between owners and waits for the store
	case a := <-res:
		t.Fatalf("cancel answered before the store caught up: %+v, %v", a.in.State, a.err)
	case <-time.After(waitLimit):
		t.Fatal("cancel neither answered nor waited for the store")
	}
	st.Release()
	held = false
	var a answer
	select {
	case a = <-res:
	case <-time.After(waitLimit):
		t.Fatal("cancel did not answer once the store caught up")
	}
	if a.err != nil || a.in.State != intent.StateCancelled {
		t.Fatalf("cancel between owners: %+v, %v", a.in.State, a.err)
	}
	if r := recordOf(t, st.RecordsFor(in.ID), WhatCancelled); r.Context["was"] != string(intent.StateQueued) {
		t.Fatalf("cancelled while %v, want queued (the retry)", r.Context["was"])
	}
	// Past the retry's backoff, the one worker takes the next intent: the
	// cancelled one, due first, would have run before it.
	clk.Advance(time.Minute)
	next := b.submit(t, intent.Submission{Type: "query_knowledge"})
	b.waitRecord(t, WhatRetryScheduled, func(r clarity.Record) bool { return r.IntentID == next.ID })
	if n := b.handlers.callsFor(in.ID); n != 1 {
		t.Fatalf("the cancelled intent ran %d times, want 1", n)
	}
}

// TestCancelALostWorkersStuckAttempt: an intent whose worker was declared
// dead (it hung) while its handler, told to stop, goes on is cancelled at once, not
// answered "look again"; when the handler at last returns, its result is
// discarded and the intent is not rerouted: it never runs again.
func TestCancelALostWorkersStuckAttempt(t *testing.T) {
	t.Parallel()
	b := setup(t)
	started, release := make(chan string, 4), make(chan struct{})
	b.handlers.set("schedule_task", func(_ context.Context, in intent.Intent) error {
		started <- in.ID
		<-release // ignores its context
		return nil
	})
	var releaseOnce sync.Once
	let := func() { releaseOnce.Do(func() { close(release) }) }
	t.Cleanup(let) // before the engine stops, which waits for the handler
	b.start(t)
	ctx := t.Context()
	in := b.submit(t, intent.Submission{Type: "schedule_task"})
	select {
	case <-started:
	case <-time.After(waitLimit):
		t.Fatal("the handler never began")
	}
	// Hung, it misses its heartbeats and is declared dead; its handler,
	// told to stop, goes on.
	if err := b.e.HangWorker(ctx, "worker_1", "chaos: stuck"); err != nil {
		t.Fatal(err)
	}
	eventually(t, "worker_1 to hang", func() bool {
		b.e.pool.mu.Lock()
		defer b.e.pool.mu.Unlock()
		return b.e.pool.workers[0].hung
	})
	for range b.e.cfg.Workers.HeartbeatMisses + 1 {
		b.heartbeat(t)
	}
	b.waitRecord(t, WhatWorkerDead, nil)

	got, err := b.e.Cancel(ctx, in.ID, "alice", "the target is gone")
	if err != nil || got.State != intent.StateCancelled || got.Attempts != 1 {
		t.Fatalf("cancel an intent whose worker was lost, its handler still running: %+v, %v", got.State, err)
	}
	cr := recordOf(t, b.store.RecordsFor(in.ID), WhatCancelled)
	if cr.Context["worker_lost"] != true || cr.Context["worker"] != "worker_1" || cr.Context["attempt"] != 1 {
		t.Fatalf("the cancel record does not name the lost attempt: %v", cr.Context)
	}

	let()
	if err := b.e.ReleaseWorker(ctx, "worker_1"); err != nil {
		t.Fatal(err)
	}
	b.waitRecord(t, WhatStaleDiscarded, func(r clarity.Record) bool { return r.IntentID == in.ID })
	b.e.Stop() // waits for the supervisor's goroutines: a reroute would be done
	b.store.Flush()
	if n := b.handlers.callsFor(in.ID); n != 1 {
		t.Fatalf("the cancelled intent ran %d times, want 1", n)
	}
	if st := b.stored(t, in.ID).State; st != intent.StateCancelled {
		t.Fatalf("the cancelled intent is %s", st)
	}
	if w := b.whats(in.ID); slices.Contains(w, WhatRerouted) {
		t.Fatalf("the cancelled intent was rerouted: %v", w)
	}
}
