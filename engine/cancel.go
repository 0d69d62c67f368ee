package engine

import (
	"context"
	"fmt"
	"strings"
	"time"

	"grace/engine/clarity"
	"grace/engine/intent"
)

// Cancel withdraws an intent that has not run: one pending approval, or
// queued (waiting its turn, or a retry's backoff). It moves to cancelled,
// for good, on by's authority with a reason (both required), recorded as
// intent_cancelled. A running intent has reached its handler and a
// finished one is done: both get an error wrapping ErrNotCancellable, as
// does an intent dispatched while the cancel was being made. It returns
// the intent masked.
//
// Who may cancel what is the caller's to decide (the HTTP API lets an
// operator cancel any intent and an agent its own).
func (e *Engine) Cancel(ctx context.Context, id, by, reason string) (intent.Intent, error) {
	if err := checkDecisionText(by, "reason", reason); err != nil {
		return intent.Intent{}, fmt.Errorf("cancel intent %s: %w", id, err)
	}
	by, reason = strings.TrimSpace(by), strings.TrimSpace(reason)
	switch {
	case by == "":
		return intent.Intent{}, fmt.Errorf("cancel intent %s: %w", id, ErrOperatorRequired)
	case reason == "":
		return intent.Intent{}, fmt.Errorf("cancel intent %s: %w", id, ErrReasonRequired)
	}
	e.decideMu.Lock() // against an approval, a denial or an expiry of the same intent
	defer e.decideMu.Unlock()
	in, err := e.store.Get(ctx, id)
	if err != nil {
		return intent.Intent{}, fmt.Errorf("cancel intent %s: %w", id, err)
	}
	from, orig := in.State, in
	switch {
	case from == intent.StatePendingApproval:
	case from == intent.StateQueued && !e.accepting.Load():
		// Not started: the store is the queue.
	case from == intent.StateQueued && e.queue.Remove(id):
		// Taken out before any worker had it: it will not be dispatched.
	case from == intent.StateQueued, from == intent.StateRunning:
		return e.guard.mask.intent(in), fmt.Errorf("cancel intent %s: %w (it is running: a worker has it)", id, ErrNotCancellable)
	default:
		return e.guard.mask.intent(in), fmt.Errorf("cancel intent %s: %w (it is %s)", id, ErrNotCancellable, from)
	}
	now := e.clock.Now()
	in.State, in.DecidedBy, in.DecisionReason, in.UpdatedAt = intent.StateCancelled, by, reason, now
	in.Worker, in.NotBefore = "", time.Time{}
	r := cancelledRecord(now, in, from)
	// Behind every update already queued for it (a retry's backoff is
	// written asynchronously), so that none of them lands after this one.
	if err := e.applyInOrder(ctx, &intent.Change{Update: &in, Records: []clarity.Record{r}}); err != nil {
		if from == intent.StateQueued && e.accepting.Load() {
			e.requeue(orig) // not cancelled after all: back in line
		}
		return intent.Intent{}, fmt.Errorf("cancel intent %s: store: %w", id, err)
	}
	if from == intent.StatePendingApproval {
		e.deadlines.forget(id)
	}
	e.stats.move(from, intent.StateCancelled)
	return e.guard.mask.intent(in), nil
}

// applyInOrder writes c behind every change queued before it, as
// applyAsync does, and waits until it is durable, as apply does.
func (e *Engine) applyInOrder(ctx context.Context, c *intent.Change) error {
	done := make(chan error, 1)
	e.store.ApplyAsync(c, func(_ intent.Result, err error) {
		if err == nil {
			e.committed(c)
		}
		done <- err
	})
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return fmt.Errorf("%w (the change may still be written)", ctx.Err())
	}
}

// cancelledRecord narrates a withdrawn intent.
func cancelledRecord(now time.Time, in intent.Intent, from intent.State) clarity.Record {
	r := rec(now, in.DecidedBy, WhatCancelled, whereApprovals, "cancel", "cancelled", in.ID,
		[]string{
			fmt.Sprintf("%s cancelled %s (Tier %d) while it was %s; it will not run", in.DecidedBy, in.Type, in.Tier, from),
			"Reason: " + in.DecisionReason,
		},
		map[string]any{"type": in.Type, "cancelled_by": in.DecidedBy, "reason": in.DecisionReason, "was": string(from)})
	r.Risk = 0.1
	return r
}
