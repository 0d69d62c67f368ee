package engine

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"grace/engine/intent"
	"grace/engine/worker"
)

func TestSnapshotIsLiveWithoutTheStore(t *testing.T) {
	t.Parallel()
	b := setup(t)
	if s := b.e.Snapshot(); s.Ready || len(s.Workers) != 2 || s.QueueWarn != 10 || s.QueueCritical != 50 {
		t.Fatalf("before start: %+v", s)
	}
	b.start(t)
	var last intent.Intent
	for range 5 {
		last = b.submit(t, intent.Submission{Type: "query_knowledge"})
		b.waitState(t, last.ID, intent.StateCompleted)
	}
	b.submit(t, intent.Submission{Type: "change_charter"})
	b.store.Fail(context.DeadlineExceeded) // a snapshot must not need the store

	s := b.e.Snapshot()
	if !s.Ready || s.Dispatched != 5 || s.Completed != 5 || s.ByState[intent.StateCompleted] != 5 || s.PendingApprovals != 1 {
		t.Fatalf("snapshot = %+v", s)
	}
	if s.DispatchRate != 0.5 || s.CompletionRate != 0.5 {
		t.Fatalf("rates = %v dispatch, %v completion; want 5 in 10 s = 0.5/s", s.DispatchRate, s.CompletionRate)
	}
	if s.WorkersIdle != 2 || s.WorkersBusy != 0 {
		t.Fatalf("workers = %+v", s.Workers)
	}
	if len(s.Recent) == 0 || s.Recent[0].What != WhatApprovalRequested {
		t.Fatalf("newest record = %+v, want the approval request", s.Recent[0])
	}
	b.clock.Advance(11 * time.Second)
	if s := b.e.Snapshot(); s.DispatchRate != 0 || s.CompletionRate != 0 {
		t.Fatalf("rates 11 s later = %v, %v; want 0", s.DispatchRate, s.CompletionRate)
	}
	b.store.Fail(nil)
}

func TestRecentKeepsTheNewest50(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for range 30 {
		b.submit(t, intent.Submission{Type: "query_knowledge"})
	}
	recent := b.e.Snapshot().Recent
	all := b.store.Records()
	if len(recent) != 50 || recent[0].IntentID != all[len(all)-1].IntentID || recent[0].What != all[len(all)-1].What {
		t.Fatalf("recent holds %d, newest %+v", len(recent), recent[0])
	}
}

func TestSlowSubscriberDoesNotSlowTheEngine(t *testing.T) {
	t.Parallel()
	b := setup(t, func(c *Config) { c.HTM.Capacity = 1000 })
	ctx, cancel := context.WithCancel(t.Context())
	slow := b.e.Subscribe(ctx) // never read
	for range subscriberBuffer + 50 {
		b.submit(t, intent.Submission{Type: "query_knowledge"})
	}
	if n := len(slow); n != subscriberBuffer {
		t.Fatalf("slow subscriber holds %d events, want a full buffer of %d", n, subscriberBuffer)
	}
	cancel()
	for range slow { // drains, then ends: the channel is closed on cancel
	}
}

// TestSnapshotBreaksFiguresDownByType: queued, completed and failed per
// intent type; the types the charter does not list count together as
// OtherTypes, however many an agent makes up.
func TestSnapshotBreaksFiguresDownByType(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.handlers.set("schedule_task", func(context.Context, intent.Intent) error { return worker.Permanent(errors.New("bad cron")) })
	b.start(t)
	for _, typ := range []string{"query_knowledge", "query_knowledge", "schedule_task"} {
		in := b.submit(t, intent.Submission{Type: typ})
		b.waitEvent(t, func(x intent.Intent) bool { return x.ID == in.ID && x.State.Terminal() }, in.ID+" finished")
	}
	if err := b.e.PauseScheduler(t.Context(), "ops", "hold the queue"); err != nil {
		t.Fatal(err)
	}
	b.submit(t, intent.Submission{Type: "query_knowledge"})
	for _, made := range []string{"brew_coffee", "walk_dog"} { // Tier 0 (unknown): queued once approved
		in := b.submit(t, intent.Submission{Type: made})
		if _, err := b.e.Approve(t.Context(), in.ID, "ops", "fine"); err != nil {
			t.Fatal(err)
		}
	}
	want := []TypeFigures{
		{Type: OtherTypes, Queued: 2},
		{Type: "query_knowledge", Queued: 1, Completed: 2},
		{Type: "schedule_task", Failed: 1},
	}
	if got := b.e.Snapshot().ByType; !slices.Equal(got, want) {
		t.Fatalf("by type = %+v\nwant       %+v", got, want)
	}
}
