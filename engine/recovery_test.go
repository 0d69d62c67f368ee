package engine

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"go.uber.org/goleak"

	"grace/engine/intent"
)

func TestRecoveryRequeuesRunningAndKeepsPending(t *testing.T) {
	t.Parallel()
	b := setup(t)
	put := func(id, typ string, st intent.State, tier int, mod func(*intent.Intent)) {
		in := intent.Intent{ID: id, Type: typ, Actor: "agent", Payload: []byte(`{}`), State: st, Tier: tier,
			CreatedAt: epoch.Add(-time.Minute), UpdatedAt: epoch.Add(-time.Minute)}
		if mod != nil {
			mod(&in)
		}
		b.store.Put(in)
	}
	put("int_pending", "change_charter", intent.StatePendingApproval, 0, func(in *intent.Intent) { in.Deadline = epoch.Add(30 * time.Minute) })
	put("int_queued", "query_knowledge", intent.StateQueued, 2, nil)
	put("int_running", "generate_summary", intent.StateRunning, 2, func(in *intent.Intent) { in.Worker = "worker_3"; in.Attempts = 1 })
	put("int_done", "query_knowledge", intent.StateCompleted, 2, nil)

	b.start(t)
	b.waitState(t, "int_queued", intent.StateCompleted)
	ran := b.waitState(t, "int_running", intent.StateCompleted)
	if ran.Attempts != 2 {
		t.Fatalf("requeued intent attempts = %d, want 2 (one before the restart)", ran.Attempts)
	}
	want := []string{WhatRequeuedAfterStart, WhatDispatched, WhatCompleted}
	if w := b.whats("int_running"); !slices.Equal(w, want) {
		t.Fatalf("requeued intent records = %v, want %v", w, want)
	}
	r := recordOf(t, b.store.RecordsFor("int_running"), WhatRequeuedAfterStart)
	if r.Context["previous_worker"] != "worker_3" {
		t.Fatalf("requeue record = %+v", r)
	}
	if b.store.Count(WhatRecovered) != 1 || b.handlers.callsFor("int_done") != 0 {
		t.Fatal("recovery summary missing, or a finished intent ran again")
	}
	if got := b.stored(t, "int_pending"); got.State != intent.StatePendingApproval {
		t.Fatalf("pending approval became %s", got.State)
	}
	if s := b.e.Snapshot(); s.PendingApprovals != 1 {
		t.Fatalf("snapshot pending = %d", s.PendingApprovals)
	}
	b.clock.Advance(30 * time.Minute) // its deadline still applies
	b.waitState(t, "int_pending", intent.StateExpired)
	checkRecords(t, b.store.Records())
}

// Not parallel: it checks for leaked goroutines.
func TestStopCancelsHandlersAndTheNextStartRequeues(t *testing.T) {
	ignore := goleak.IgnoreCurrent()
	b := setup(t)
	started := make(chan struct{}, 1)
	b.handlers.set("schedule_task", func(ctx context.Context, _ intent.Intent) error {
		started <- struct{}{}
		<-ctx.Done()
		return ctx.Err()
	})
	b.start(t)
	in := b.submit(t, intent.Submission{Type: "schedule_task"})
	<-started
	b.e.Stop()
	b.store.Flush()
	if got := b.stored(t, in.ID); got.State != intent.StateRunning {
		t.Fatalf("after Stop the in-flight intent is %s, want running", got.State)
	}
	if b.store.Count(WhatFailed)+b.store.Count(WhatRetryScheduled) != 0 {
		t.Fatal("a cancelled handler was recorded as a failure")
	}
	goleak.VerifyNone(t, ignore, goleak.IgnoreTopFunction("grace/engine/enginetest.(*Store).writer"))
	if err := b.e.Start(t.Context()); !errors.Is(err, ErrStopped) {
		t.Fatalf("Start after Stop = %v, want ErrStopped", err)
	}

	next := setupOn(t, b.store, b.clock)
	next.start(t)
	done := next.waitState(t, in.ID, intent.StateCompleted)
	if done.Attempts != 2 || next.handlers.callsFor(in.ID) != 1 {
		t.Fatalf("after restart: %+v, %d calls", done, next.handlers.callsFor(in.ID))
	}
	next.e.Stop()
	_ = b.store.Close()
	goleak.VerifyNone(t, ignore)
}

func TestSubmitOnAnEngineNotStartedWaitsForStart(t *testing.T) {
	t.Parallel()
	b := setup(t)
	in := b.submit(t, intent.Submission{Type: "query_knowledge"})
	if got := b.stored(t, in.ID); got.State != intent.StateQueued || b.e.Snapshot().QueueDepth != 0 {
		t.Fatalf("direct-mode submit: stored %s, in-memory depth %d", got.State, b.e.Snapshot().QueueDepth)
	}
	got, err := b.e.Get(t.Context(), in.ID)
	if err != nil || got.ID != in.ID {
		t.Fatalf("Get = %+v, %v", got, err)
	}
	if _, err := b.e.Get(t.Context(), "int_nope"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get unknown = %v", err)
	}
	b.start(t)
	b.waitState(t, in.ID, intent.StateCompleted)
	if err := b.e.Start(t.Context()); err == nil {
		t.Fatal("second Start succeeded")
	}
}

// Intents written while no engine ran (grace intent submit offline, or
// left by the engine before) waited for no scheduler: their dispatch on the
// next start is no breach of the dispatch-latency objective, which would
// otherwise fire a critical alert on a quiet engine.
func TestDispatchLatencyCountsFromTheEngineStart(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for _, id := range []string{"int_offline_1", "int_offline_2", "int_offline_3"} {
		b.store.Put(intent.Intent{ID: id, Type: "query_knowledge", Actor: "agent", Payload: []byte(`{}`), State: intent.StateQueued,
			Tier: 2, CreatedAt: epoch.Add(-time.Hour), UpdatedAt: epoch.Add(-time.Hour)})
	}
	b.start(t)
	for _, id := range []string{"int_offline_1", "int_offline_2", "int_offline_3"} {
		b.waitState(t, id, intent.StateCompleted)
	}
	m := b.e.Metrics()
	if m.DispatchLatency.Count != 3 || m.DispatchLatency.Sum > 1 {
		t.Fatalf("dispatch latency of intents queued an hour before the start: %d dispatches, %.1f s in all; want 3 within the start's moment",
			m.DispatchLatency.Count, m.DispatchLatency.Sum)
	}
	if st := b.e.watch.dispatchSLO.Status(b.clock.Now()); st.Bad != 0 || st.Good != 3 {
		t.Fatalf("dispatch latency objective: %d good, %d bad, want 3 good", st.Good, st.Bad)
	}
	// Nor is the dispatch rate judged before it covers its window.
	if f := b.e.schedulerFigures(); !f.RateWarmup {
		t.Fatal("the dispatch rate is judged at the engine's start")
	}
	b.clock.Advance(meterWindow)
	if f := b.e.schedulerFigures(); f.RateWarmup {
		t.Fatalf("the dispatch rate is not judged %v after the start", meterWindow)
	}
}
