package engine

import (
	"errors"
	"strings"
	"testing"
	"time"

	"grace/engine/intent"
)

func TestInjectedHandlerFaultsFailAndDelay(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.start(t)
	if err := b.e.InjectHandlerFault(t.Context(), "schedule_task", HandlerFault{ErrorRate: 1, Permanent: true}); err != nil {
		t.Fatal(err)
	}
	failed := b.waitState(t, b.submit(t, intent.Submission{Type: "schedule_task"}).ID, intent.StateFailed)
	if !strings.Contains(failed.LastError, ErrInjectedFault.Error()) || b.handlers.callsFor(failed.ID) != 0 {
		t.Fatalf("failed = %+v", failed)
	}
	// Other types are untouched; "*" reaches every type without its own.
	b.waitState(t, b.submit(t, intent.Submission{Type: "query_knowledge"}).ID, intent.StateCompleted)
	if err := b.e.InjectHandlerFault(t.Context(), "*", HandlerFault{Latency: 5 * time.Second}); err != nil {
		t.Fatal(err)
	}
	slow := b.submit(t, intent.Submission{Type: "query_knowledge"})
	// The injected latency is waiting (counting every waiter instead let
	// another loop's timer stand in for it under load).
	eventually(t, "the injected latency to start", func() bool { return b.clock.TimersAt(5*time.Second) >= 1 })
	b.advance(t, 4*time.Second)
	if b.handlers.callsFor(slow.ID) != 0 {
		t.Fatal("the handler ran before the injected latency passed")
	}
	b.advance(t, time.Second)
	b.waitState(t, slow.ID, intent.StateCompleted)

	if err := b.e.ClearHandlerFaults(t.Context()); err != nil {
		t.Fatal(err)
	}
	b.waitState(t, b.submit(t, intent.Submission{Type: "schedule_task"}).ID, intent.StateCompleted)
	if n := b.store.Count(WhatFaultInjected); n != 3 {
		t.Fatalf("%d fault records, want 3", n)
	}
	for _, f := range []HandlerFault{{ErrorRate: 2}, {Latency: -time.Second}} {
		if err := b.e.InjectHandlerFault(t.Context(), "x", f); err == nil {
			t.Fatalf("fault %+v accepted", f)
		}
	}
	if err := b.e.InjectHandlerFault(t.Context(), " ", HandlerFault{}); err == nil {
		t.Fatal("a fault without a type was accepted")
	}
}

func TestFloodIntakeMeetsTheRateLimit(t *testing.T) {
	t.Parallel()
	b := setup(t, rateLimited, func(c *Config) { c.HTM.RateLimit.GlobalBurst = 1000 })
	b.start(t)
	res, err := b.e.FloodIntake(t.Context(), FloodSpec{Count: 100, InvalidShare: 0.5, Actors: 2, Concurrency: 4})
	if err != nil {
		t.Fatal(err)
	}
	// Two actors with a burst of 5 each and a clock that stands still: 10
	// get through the limit (valid or not), 90 are refused.
	if res.Submitted != 100 || res.RateLimited != 90 || res.Accepted+res.Invalid != 10 || res.OtherErrors != 0 || res.QueueFull != 0 {
		t.Fatalf("flood result = %+v", res)
	}
	b.protectTick(t)
	b.protectTick(t)
	r := b.waitRecord(t, WhatRateLimited, nil)
	if r.Context["refused"] != uint64(90) || r.Context["actors"] != 2 {
		t.Fatalf("rate limit record = %+v", r)
	}
	if s := b.e.Snapshot(); s.Layer2.RateLimited != 90 || s.Rejected != uint64(res.Invalid) {
		t.Fatalf("snapshot: %d rate limited, %d rejected", s.Layer2.RateLimited, s.Rejected)
	}

	// Without the limit, the same flood is let in: half rejected as
	// invalid, half queued.
	b2 := setup(t)
	b2.start(t)
	res, err = b2.e.FloodIntake(t.Context(), FloodSpec{Count: 100, InvalidShare: 0.5, Actors: 2})
	if err != nil || res.Accepted != 50 || res.Invalid != 50 || res.RateLimited != 0 {
		t.Fatalf("unlimited flood = %+v, %v", res, err)
	}
	if _, err := b2.e.FloodIntake(t.Context(), FloodSpec{Count: 0}); err == nil {
		t.Fatal("a flood of 0 was accepted")
	}
}

func TestFaultHooksNeedARunningEngine(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for name, err := range map[string]error{
		"kill":  b.e.KillWorker(t.Context(), "worker_1", ""),
		"hang":  b.e.HangWorker(t.Context(), "worker_1", ""),
		"pause": b.e.InjectSchedulerPause(t.Context(), ""),
	} {
		if !errors.Is(err, ErrStopped) {
			t.Errorf("%s on an engine not started: %v, want ErrStopped", name, err)
		}
	}
	b.start(t)
	if err := b.e.ReleaseWorker(t.Context(), "worker_1"); !errors.Is(err, ErrUnknownWorker) {
		t.Fatalf("release of a worker not hung: %v", err)
	}
	if err := b.e.HangWorker(t.Context(), "worker_9", ""); !errors.Is(err, ErrUnknownWorker) {
		t.Fatalf("hang of an unknown worker: %v", err)
	}
}
