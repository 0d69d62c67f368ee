package engine

import (
	"context"
	"fmt"
	"strings"
	"time"

	"grace/engine/clarity"
	"grace/engine/intent"
)

// Cancel withdraws an intent that has not finished: one pending approval,
// queued (waiting its turn, or a retry's backoff), or running. It moves to
// cancelled, for good, on by's authority with a reason (both required),
// recorded as intent_cancelled. A running intent's attempt is fenced off
// first (its lease revoked, as for a worker declared dead) and its
// handler's context cancelled: whatever the handler returns after that is
// discarded, on the record, and the intent never runs again. A finished
// intent gets an error wrapping ErrNotCancellable. One caught between
// owners (leaving the queue for a worker, or an attempt's outcome not yet
// written) is looked for again once the store has written what was queued
// for it, and cancelled where it then is, or refused for the state it
// reached; only one that stays between owners gets ErrNotCancellable with
// "look again". One whose worker was declared dead while its handler,
// told to stop, has not yet returned is cancelled and not rerouted. It
// returns the intent masked.
//
// Who may cancel what is the caller's to decide (the HTTP API lets an
// operator cancel any intent and an agent its own).
func (e *Engine) Cancel(ctx context.Context, id, by, reason string) (intent.Intent, error) {
	id = intent.CanonicalID(id) // typed in another case
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
	for look := 1; ; look++ {
		in, err := e.store.Get(ctx, id)
		if err != nil {
			return intent.Intent{}, fmt.Errorf("cancel intent %s: %w", id, err)
		}
		out, between, err := e.cancelAsStored(ctx, in, by, reason)
		if !between || look == cancelLooks {
			return out, err
		}
		// Between owners: leaving the queue for a worker, or a worker for
		// the queue (a retry) or for good (an outcome), and the store not
		// yet told. Once what is queued for the store is written, the
		// intent is where the store says, or in hand again: look again.
		if berr := e.applyInOrder(ctx, &intent.Change{}); berr != nil {
			return out, err
		}
	}
}

// cancelLooks bounds how often Cancel looks for an intent between owners
// (see cancelAsStored): each look after the first waits for the store's queue.
const cancelLooks = 3

// cancelAsStored cancels in as the store holds it, under decideMu. between is true
// when in was in neither the queue nor a worker's hands, in passage from
// one to the other: err then wraps ErrNotCancellable, and a look after the
// store's pending writes finds it.
func (e *Engine) cancelAsStored(ctx context.Context, in intent.Intent, by, reason string) (_ intent.Intent, between bool, _ error) {
	id := in.ID
	from, orig := in.State, in
	switch {
	case from == intent.StatePendingApproval:
	case (from == intent.StateQueued || from == intent.StateRunning) && !e.accepting.Load():
		// Not started: the store is the queue, and an intent it holds
		// as running was left so by a run that ended (the next start
		// would queue it again).
	case from == intent.StateQueued && e.queue.Remove(id):
		// Taken out before any worker had it: it will not be dispatched.
	case from == intent.StateQueued, from == intent.StateRunning:
		return e.cancelRunning(ctx, in, by, reason)
	default:
		return e.guard.mask.intent(in), false, fmt.Errorf("cancel intent %s: %w (it is %s)%s", id, ErrNotCancellable, from, cancelledBy(in))
	}
	now := e.clock.Now()
	in.State, in.DecidedBy, in.DecisionReason, in.UpdatedAt = intent.StateCancelled, by, reason, now
	in.Worker = ""
	if in.Attempts > 0 { // a retry's backoff goes; a schedule stays on the record, for a retry to keep
		in.NotBefore = time.Time{}
	}
	r := cancelledRecord(now, in, from, nil)
	// Behind every update already queued for it (a retry's backoff is
	// written asynchronously), so that none of them lands after this one.
	if err := e.applyInOrder(ctx, &intent.Change{Update: &in, Records: []clarity.Record{r}}); err != nil {
		if from == intent.StateQueued && e.accepting.Load() {
			e.requeue(orig) // not cancelled after all: back in line
		}
		return intent.Intent{}, false, fmt.Errorf("cancel intent %s: store: %w", id, err)
	}
	if from == intent.StatePendingApproval {
		e.deadlines.forget(id)
	}
	e.stats.move(from, intent.StateCancelled)
	return e.guard.mask.intent(in), false, nil
}

// cancelledBy says, for a cancel refused because in is cancelled
// already, who cancelled it and why ("; alice cancelled it: wrong job"),
// so that the second of two operators cancelling at once learns whose
// cancel won; "" for any other state.
func cancelledBy(in intent.Intent) string {
	if in.State != intent.StateCancelled || in.DecidedBy == "" {
		return ""
	}
	return "; " + in.DecidedBy + " cancelled it: " + orDash(in.DecisionReason)
}

// cancelRunning cancels in, which the store holds as queued or running
// and the HTM queue no longer has: a worker holds (or is about to begin)
// an attempt of it. Under decideMu.
func (e *Engine) cancelRunning(ctx context.Context, in intent.Intent, by, reason string) (_ intent.Intent, between bool, _ error) {
	w, fl := e.pool.flightOf(in.ID)
	if fl == nil {
		if tb, ok := e.takenBack.cancel(in.ID); ok {
			return e.cancelTakenBack(ctx, in, tb, by, reason)
		}
		return e.guard.mask.intent(in), true, fmt.Errorf("cancel intent %s: %w (it is between the queue and a worker: look again)", in.ID, ErrNotCancellable)
	}
	now := e.clock.Now()
	if !e.leases.withdraw(fl, withdrawal{by: by, reason: reason, at: now}) {
		return e.guard.mask.intent(in), true, fmt.Errorf("cancel intent %s: %w (its attempt %d finished, or its worker was lost, while the cancel was being made: look again)", in.ID, ErrNotCancellable, fl.in.Attempts)
	}
	// From here the attempt's outcome can no longer be written: the
	// lease is gone. Stop the handler, or the attempt before it begins.
	started := e.pool.halt(w, fl)
	in.State, in.DecidedBy, in.DecisionReason, in.UpdatedAt = intent.StateCancelled, by, reason, now
	in.Attempts, in.Worker, in.NotBefore = fl.in.Attempts, fl.in.Worker, time.Time{}
	run := &cancelledRun{worker: w.name, attempt: fl.in.Attempts, started: started}
	// On remote workers, the one whose claim stood ran it; w is only the
	// dispatch slot. The lease is withdrawn: holder no longer changes.
	if h := fl.holder; h.Worker != "" {
		in.Worker, run.worker, run.slot = h.Worker, h.Worker, w.name
	}
	r := cancelledRecord(now, in, intent.StateRunning, run)
	// Behind the dispatch's update, which is written asynchronously.
	if err := e.applyInOrder(ctx, &intent.Change{Update: &in, Records: []clarity.Record{r}}); err != nil {
		// The attempt is fenced and stopping; the store still says it
		// runs. A restart would queue it again, as for any attempt cut
		// short; until then the operator sees the error.
		return intent.Intent{}, false, fmt.Errorf("cancel intent %s: store: %w", in.ID, err)
	}
	e.stats.move(intent.StateRunning, intent.StateCancelled)
	if !started {
		e.wake() // its worker is free
	}
	return e.guard.mask.intent(in), false, nil
}

// cancelTakenBack cancels in, whose attempt tb was taken back from a
// worker declared dead and whose handler has not yet returned: tb is
// marked cancelled, so the intent is not rerouted when it does. Under
// decideMu.
func (e *Engine) cancelTakenBack(ctx context.Context, in intent.Intent, tb takeBack, by, reason string) (_ intent.Intent, between bool, _ error) {
	now := e.clock.Now()
	in.State, in.DecidedBy, in.DecisionReason, in.UpdatedAt = intent.StateCancelled, by, reason, now
	in.Attempts, in.Worker, in.NotBefore = tb.in.Attempts, tb.worker, time.Time{}
	r := cancelledRecord(now, in, intent.StateRunning, &cancelledRun{worker: tb.worker, attempt: tb.in.Attempts, started: true, lost: true})
	if err := e.applyInOrder(ctx, &intent.Change{Update: &in, Records: []clarity.Record{r}}); err != nil {
		// Not cancelled after all: rerouted as it would have been.
		if e.takenBack.uncancel(in.ID) {
			e.reroute(tb.worker, tb.cause, tb.in)
		}
		return intent.Intent{}, false, fmt.Errorf("cancel intent %s: store: %w", in.ID, err)
	}
	e.stats.move(intent.StateRunning, intent.StateCancelled)
	return e.guard.mask.intent(in), false, nil
}

// cancelledRun is the attempt a cancel stopped.
type cancelledRun struct {
	worker  string
	slot    string // the dispatch slot, when worker is a remote worker
	attempt int
	started bool
	lost    bool // taken back from its worker, declared dead, and awaiting its handler's end
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

// cancelledWhere is where a cancel took an intent from, for its record's
// where: the approvals of one pending, the worker of the attempt it
// stopped, else the queue (a running one of an engine not started is
// queued again at start). It was approvals for every cancel.
func cancelledWhere(from intent.State, run *cancelledRun) string {
	switch {
	case from == intent.StatePendingApproval:
		return whereApprovals
	case run != nil && run.worker != "":
		return run.worker
	}
	return whereQueue
}

// cancelledRecord narrates a withdrawn intent; run is the attempt the
// cancel stopped, nil when none had been dispatched.
func cancelledRecord(now time.Time, in intent.Intent, from intent.State, run *cancelledRun) clarity.Record {
	why := []string{
		fmt.Sprintf("%s cancelled %s (Tier %d) while it was %s; it will not run", in.DecidedBy, in.Type, in.Tier, from),
		"Reason: " + in.DecisionReason,
	}
	ctx := map[string]any{"type": in.Type, "cancelled_by": in.DecidedBy, "reason": in.DecisionReason, "was": string(from)}
	if run != nil {
		what := fmt.Sprintf("Attempt %d on %s had not begun: it never will", run.attempt, run.worker)
		switch {
		case run.lost:
			what = fmt.Sprintf("Attempt %d on %s had been taken back, its worker declared dead, and its handler told to stop; the intent is not rerouted, and whatever the handler returns is discarded", run.attempt, run.worker)
			ctx["worker_lost"] = true
		case run.started:
			what = fmt.Sprintf("Attempt %d on %s was stopped: its lease is revoked and its handler told to stop; whatever it returns is discarded", run.attempt, run.worker)
		}
		why[0] = fmt.Sprintf("%s cancelled %s (Tier %d) while it was running; it will not run again", in.DecidedBy, in.Type, in.Tier)
		why = append(why, what)
		ctx["worker"], ctx["attempt"], ctx["handler_started"] = run.worker, run.attempt, run.started
		if run.slot != "" {
			ctx["slot"] = run.slot
		}
	}
	r := rec(now, in.DecidedBy, WhatCancelled, cancelledWhere(from, run), "cancel", "cancelled", in.ID, why, ctx)
	r.Risk = 0.1
	return r
}
