package engine

import (
	"errors"
	"slices"
	"testing"

	"grace/engine/intent"
)

// TestCancelWithdrawsPendingAndQueuedIntents: a pending or queued intent
// is cancelled for good, on the record, and never runs; a running or
// finished one cannot be.
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
	if _, err := b.e.Approve(ctx, pending.ID, "bob", ""); !errors.Is(err, ErrNotPending) {
		t.Fatalf("approve after cancel: %v, want ErrNotPending", err)
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
	if err := b.e.ResumeScheduler(ctx, "alice", "go"); err != nil {
		t.Fatal(err)
	}
	b.waitState(t, other.ID, intent.StateCompleted)
	if n := b.handlers.callsFor(queued.ID); n != 0 || b.stored(t, queued.ID).State != intent.StateCancelled {
		t.Fatalf("the cancelled intent ran %d times and is %s", n, b.stored(t, queued.ID).State)
	}

	// Finished, and running: refused, nothing changed.
	if _, err := b.e.Cancel(ctx, other.ID, "alice", "too late"); !errors.Is(err, ErrNotCancellable) {
		t.Fatalf("cancel a completed intent: %v, want ErrNotCancellable", err)
	}
	g := newGate(b, "query_knowledge")
	running := b.submit(t, intent.Submission{Type: "query_knowledge"})
	b.waitState(t, running.ID, intent.StateRunning)
	if _, err := b.e.Cancel(ctx, running.ID, "alice", "stop it"); !errors.Is(err, ErrNotCancellable) {
		t.Fatalf("cancel a running intent: %v, want ErrNotCancellable", err)
	}
	g.open()
	b.waitState(t, running.ID, intent.StateCompleted)

	for _, tc := range []struct{ by, reason string }{{"", "r"}, {"alice", " "}} {
		if _, err := b.e.Cancel(ctx, running.ID, tc.by, tc.reason); !errors.Is(err, ErrOperatorRequired) && !errors.Is(err, ErrReasonRequired) {
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
