package engine

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"grace/engine/clarity"
	"grace/engine/intent"
	"grace/engine/worker"
)

// records of one kind for one intent, oldest first.
func (b *testBundle) recordsOf(id, what string) []clarity.Record {
	var out []clarity.Record
	for _, r := range b.store.RecordsFor(id) {
		if r.What == what {
			out = append(out, r)
		}
	}
	return out
}

func TestRetryWithBackoffThenSuccess(t *testing.T) {
	t.Parallel()
	b := setup(t)
	var calls atomic.Int32
	b.handlers.set("schedule_task", func(context.Context, intent.Intent) error {
		if calls.Add(1) < 3 {
			return errors.New("upstream busy")
		}
		return nil
	})
	b.start(t)
	in := b.submit(t, intent.Submission{Type: "schedule_task"})

	// Rand is 0, so each wait is half the exponential backoff: 0.5 s, then 1 s.
	waits := []time.Duration{500 * time.Millisecond, time.Second}
	for attempt, wait := range waits {
		r := b.waitEvent(t, func(x intent.Intent) bool {
			return x.ID == in.ID && x.State == intent.StateQueued && x.Attempts == attempt+1
		}, "retry")
		if want := b.clock.Now().Add(wait); !r.NotBefore.Equal(want) || r.LastError != "upstream busy" {
			t.Fatalf("retry %d: not before %v (want %v), last error %q", attempt+1, r.NotBefore, want, r.LastError)
		}
		b.clock.Advance(wait)
	}
	done := b.waitState(t, in.ID, intent.StateCompleted)
	if done.Attempts != 3 || done.LastError != "" || calls.Load() != 3 {
		t.Fatalf("completed = %+v after %d calls", done, calls.Load())
	}

	// Every dispatch happened at or after the NotBefore set by the retry
	// before it: nothing ran early.
	dispatches := b.recordsOf(in.ID, WhatDispatched)
	retries := b.recordsOf(in.ID, WhatRetryScheduled)
	if len(dispatches) != 3 || len(retries) != 2 {
		t.Fatalf("%d dispatches and %d retries recorded, want 3 and 2", len(dispatches), len(retries))
	}
	for i, r := range retries {
		notBefore, _ := time.Parse(time.RFC3339Nano, r.Context["not_before"].(string))
		if next := dispatches[i+1].When; next.Before(notBefore) {
			t.Fatalf("dispatch %d at %v, before the retry's not-before %v", i+2, next, notBefore)
		}
		if r.How != "exponential_backoff_retry" || !strings.Contains(r.Why[0], "upstream busy") {
			t.Fatalf("retry record = %+v", r)
		}
	}
	checkRecords(t, b.store.RecordsFor(in.ID))
}

func TestRetriesExhaustedFails(t *testing.T) {
	t.Parallel()
	b := setup(t, func(c *Config) { c.Workers.MaxAttempts = 2 })
	b.handlers.set("schedule_task", func(context.Context, intent.Intent) error { return errors.New("disk on fire") })
	b.start(t)
	in := b.submit(t, intent.Submission{Type: "schedule_task"})
	b.waitEvent(t, func(x intent.Intent) bool { return x.ID == in.ID && x.State == intent.StateQueued && x.Attempts == 1 }, "retry")
	b.clock.Advance(b.e.cfg.Workers.BackoffMax)
	failed := b.waitState(t, in.ID, intent.StateFailed)
	if failed.Attempts != 2 || failed.LastError != "disk on fire" {
		t.Fatalf("failed = %+v", failed)
	}
	r := recordOf(t, b.store.RecordsFor(in.ID), WhatFailed)
	if r.How != "retries_exhausted" || !strings.Contains(strings.Join(r.Why, " "), "2 of 2") {
		t.Fatalf("failure record = %+v", r)
	}
	if s := b.e.Snapshot(); s.Failed != 1 || s.ByState[intent.StateFailed] != 1 || s.ByState[intent.StateRunning] != 0 {
		t.Fatalf("snapshot = %+v", s)
	}
}

func TestPermanentFailureIsNotRetried(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.handlers.set("schedule_task", func(context.Context, intent.Intent) error {
		return worker.Permanent(errors.New("webhook answered 400"))
	})
	b.handlers.set("generate_summary", func(context.Context, intent.Intent) error { panic("nil map") })
	b.start(t)
	for _, typ := range []string{"schedule_task", "generate_summary"} {
		in := b.submit(t, intent.Submission{Type: typ})
		failed := b.waitState(t, in.ID, intent.StateFailed)
		if failed.Attempts != 1 {
			t.Fatalf("%s: attempts = %d, want 1", typ, failed.Attempts)
		}
		if r := recordOf(t, b.store.RecordsFor(in.ID), WhatFailed); r.How != "permanent_failure" {
			t.Fatalf("%s: failure record = %+v", typ, r)
		}
	}
}

func TestHandlerTimeoutRunsOnTheEngineClock(t *testing.T) {
	t.Parallel()
	b := setup(t)
	started := make(chan struct{}, 1)
	b.handlers.set("schedule_task", func(ctx context.Context, _ intent.Intent) error {
		started <- struct{}{}
		<-ctx.Done()
		return ctx.Err()
	})
	b.handlers.timeouts["schedule_task"] = 5 * time.Second
	b.start(t)
	in := b.submit(t, intent.Submission{Type: "schedule_task"})
	<-started // the timeout timer exists once the handler runs
	b.clock.Advance(5 * time.Second)
	retry := b.waitEvent(t, func(x intent.Intent) bool { return x.ID == in.ID && x.State == intent.StateQueued && x.Attempts == 1 }, "retry")
	if !strings.Contains(retry.LastError, "timed out after 5s") {
		t.Fatalf("last error = %q, want a timeout", retry.LastError)
	}
}

func TestDispatchGoesToTheLeastLoadedWorker(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.handlers.set("schedule_task", func(context.Context, intent.Intent) error {
		return worker.Permanent(errors.New("bad input"))
	})
	b.start(t)
	first := b.submit(t, intent.Submission{Type: "schedule_task"})
	b.waitState(t, first.ID, intent.StateFailed)
	second := b.submit(t, intent.Submission{Type: "query_knowledge"})
	b.waitState(t, second.ID, intent.StateCompleted)

	d1 := recordOf(t, b.store.RecordsFor(first.ID), WhatDispatched)
	d2 := recordOf(t, b.store.RecordsFor(second.ID), WhatDispatched)
	if d1.Where != "worker_1" || d2.Where != "worker_2" {
		t.Fatalf("dispatched to %s then %s, want worker_1 (name order) then worker_2 (fewer recent failures)", d1.Where, d2.Where)
	}
	if d2.Who != "htm_orchestrator" || d2.How != "least_loaded_worker_selection" ||
		d2.Context["worker"] != "worker_2" || d2.Context["queue_depth"] != 1 || d2.Context["intent_id"] != second.ID {
		t.Fatalf("dispatch record = %+v", d2)
	}
	why := strings.Join(d2.Why, " | ")
	for _, want := range []string{"worker_2 is idle", "Queue depth 1/10 (within limits)", "Highest priority ready"} {
		if !strings.Contains(why, want) {
			t.Fatalf("dispatch reasons %q lack %q", why, want)
		}
	}
}

func TestPickPrefersFewestRecentFailuresThenName(t *testing.T) {
	t.Parallel()
	p := newPool(3)
	p.release(p.workers[0], nil, true, true) // worker_1 failed recently
	c, ok := p.pick("a")
	if !ok || c.w.name != "worker_2" {
		t.Fatalf("pick = %v, want worker_2", c.w.name)
	}
	c, _ = p.pick("b")
	if c.w.name != "worker_3" {
		t.Fatalf("second pick = %s, want worker_3 (worker_2 is busy)", c.w.name)
	}
	c, _ = p.pick("c")
	if c.w.name != "worker_1" || !strings.Contains(strings.Join(c.reasons, " "), "1 failure in its last 1 task") {
		t.Fatalf("third pick = %s %v", c.w.name, c.reasons)
	}
	if _, ok := p.pick("d"); ok {
		t.Fatal("picked a worker while all are busy")
	}
	p.workers[1].healthy = false
	p.release(p.workers[1], nil, true, false)
	if _, ok := p.pick("e"); ok {
		t.Fatal("picked an unhealthy worker")
	}
}

func TestHigherPriorityRunsFirst(t *testing.T) {
	t.Parallel()
	b := setup(t, func(c *Config) { c.Workers.Count = 1 })
	release := make(chan struct{})
	b.handlers.set("schedule_task", func(ctx context.Context, _ intent.Intent) error {
		select {
		case <-release:
		case <-ctx.Done():
		}
		return nil
	})
	b.start(t)
	blocker := b.submit(t, intent.Submission{Type: "schedule_task"})
	b.waitState(t, blocker.ID, intent.StateRunning)
	low := b.submit(t, intent.Submission{Type: "query_knowledge", Priority: 1})
	high := b.submit(t, intent.Submission{Type: "query_knowledge", Priority: 8})
	close(release)
	b.waitState(t, low.ID, intent.StateCompleted)
	b.waitState(t, high.ID, intent.StateCompleted)
	var order []string
	for _, r := range b.store.Records() {
		if r.What == WhatDispatched {
			order = append(order, r.IntentID)
		}
	}
	if !slices.Equal(order, []string{blocker.ID, high.ID, low.ID}) {
		t.Fatalf("dispatch order = %v, want blocker, high, low", order)
	}
}

func TestTier0NeverReachesAWorkerWithoutApproval(t *testing.T) {
	t.Parallel()
	b := setup(t)
	queuedTier0 := func(id, typ string, tier int, decidedBy string) intent.Intent {
		in := intent.Intent{ID: id, Type: typ, Actor: "intruder", Payload: []byte(`{}`), State: intent.StateQueued,
			Tier: tier, DecidedBy: decidedBy, CreatedAt: epoch, UpdatedAt: epoch}
		b.store.Put(in)
		return in
	}
	// Forged states a tampered or buggy store could hold: queued without an
	// approval, a Tier 0 type filed under Tier 2, a "decision" by the hub.
	forged := []intent.Intent{
		queuedTier0("int_forged_1", "change_charter", 0, ""),
		queuedTier0("int_forged_2", "grant_permissions", 2, ""),
		queuedTier0("int_forged_3", "modify_governance", 0, "unified_logic_hub"),
	}
	b.start(t) // recovery queues them; the scheduler must refuse them
	// And straight into the live queue, past intake.
	late := queuedTier0("int_forged_4", "no_such_type", 0, "")
	b.e.queue.Requeue(late)
	b.e.wake()
	forged = append(forged, late)

	for _, in := range forged {
		got := b.waitState(t, in.ID, intent.StatePendingApproval)
		if got.Deadline.IsZero() {
			t.Fatalf("%s blocked without a deadline", in.ID)
		}
		r := recordOf(t, b.store.RecordsFor(in.ID), WhatGovernanceBlocked)
		if r.Risk != 1 || r.How != "tier0_dispatch_guard" {
			t.Fatalf("block record = %+v", r)
		}
	}
	// The worker's own guard, should a Tier 0 task ever be handed to it.
	direct := queuedTier0("int_forged_5", "change_charter", 0, "")
	spare := &workerState{name: "worker_spare", tasks: make(chan *flight, 1), healthy: true, busy: true}
	spare.ctx, spare.cancel = context.WithCancelCause(t.Context())
	fl := newFlight(direct)
	spare.cur = fl
	b.e.execute(t.Context(), spare, fl)
	b.waitState(t, direct.ID, intent.StatePendingApproval)

	for _, in := range append(forged, direct) {
		if n := b.handlers.callsFor(in.ID); n != 0 {
			t.Fatalf("%s reached a handler %d times without approval", in.ID, n)
		}
	}
	// Once approved, it runs exactly once.
	if _, err := b.e.Approve(t.Context(), forged[0].ID, "alice", "checked"); err != nil {
		t.Fatal(err)
	}
	b.waitState(t, forged[0].ID, intent.StateCompleted)
	if n := b.handlers.callsFor(forged[0].ID); n != 1 {
		t.Fatalf("approved intent ran %d times", n)
	}
}
