package engine

import (
	"context"
	"fmt"
	"strings"
	"time"

	"grace/engine/clarity"
	"grace/engine/clock"
	"grace/engine/intent"
)

// Approve releases a pending Tier 0 intent to the HTM queue on operator's
// authority, recording intent_approved with the reason (which may be
// empty). The store is the source of truth: the intent is read from it, and
// of two concurrent decisions on one intent exactly one wins; the other
// gets an error wrapping ErrNotPending, as does an intent in any other
// state. An approval that comes after the intent's deadline expires it
// instead (approval_expired) and returns ErrNotPending. operator is
// required (ErrOperatorRequired). It returns the updated intent.
func (e *Engine) Approve(ctx context.Context, id, operator, reason string) (intent.Intent, error) {
	id = intent.CanonicalID(id) // typed in another case
	return e.decide(ctx, id, operator, reason, true)
}

// Deny refuses a pending intent for good, recording intent_denied with the
// operator and the reason. The reason is required (ErrReasonRequired);
// otherwise it behaves like Approve.
func (e *Engine) Deny(ctx context.Context, id, operator, reason string) (intent.Intent, error) {
	id = intent.CanonicalID(id) // typed in another case
	return e.decide(ctx, id, operator, reason, false)
}

// decide applies one decision and returns the intent masked. A refusal
// that is the caller's doing (not pending, unknown, self-approval, the
// two-person rule) goes on the record as approval_refused or
// denial_refused.
func (e *Engine) decide(ctx context.Context, id, operator, reason string, approve bool) (intent.Intent, error) {
	if err := checkDecisionText(operator, "reason", reason); err != nil {
		// Refused before anything is read or recorded: the text itself
		// must not reach the record.
		verb := "deny"
		if approve {
			verb = "approve"
		}
		return intent.Intent{}, fmt.Errorf("%s intent %s: %w", verb, id, err)
	}
	in, err := e.decideOnce(ctx, id, operator, reason, approve)
	if err != nil {
		e.refusedDecision(ctx, id, operator, reason, approve, err)
	}
	return e.guard.mask.intent(in), err
}

func (e *Engine) decideOnce(ctx context.Context, id, operator, reason string, approve bool) (intent.Intent, error) {
	verb := "deny"
	if approve {
		verb = "approve"
	}
	operator, reason = strings.TrimSpace(operator), strings.TrimSpace(reason)
	switch {
	case operator == "":
		return intent.Intent{}, fmt.Errorf("%s intent %s: %w", verb, id, ErrOperatorRequired)
	case !approve && reason == "":
		return intent.Intent{}, fmt.Errorf("%s intent %s: %w", verb, id, ErrReasonRequired)
	}

	e.decideMu.Lock()
	defer e.decideMu.Unlock()
	in, err := e.store.Get(ctx, id)
	if err != nil {
		return intent.Intent{}, fmt.Errorf("%s intent %s: %w", verb, id, err)
	}
	if in.State != intent.StatePendingApproval {
		e.deadlines.forget(id)
		return in, fmt.Errorf("%s intent %s: %w (it is %s)", verb, id, ErrNotPending, in.State)
	}
	now := e.clock.Now()
	if dl := e.deadlineOf(in); !now.Before(dl) {
		if _, err := e.expireLocked(ctx, in, now); err != nil {
			return intent.Intent{}, fmt.Errorf("%s intent %s: %w", verb, id, err)
		}
		return in, fmt.Errorf("%s intent %s: %w (its approval deadline %s has passed; it expired)",
			verb, id, ErrNotPending, dl.UTC().Format(time.RFC3339))
	}

	first := "" // under the two-person rule: who approved before
	if approve {
		var handled bool
		if in, handled, first, err = e.checkApproval(ctx, in, operator, reason, now); handled {
			return in, err
		}
	}
	in.DecidedBy, in.DecisionReason, in.UpdatedAt = operator, reason, now
	var r clarity.Record
	if approve {
		in.State = intent.StateQueued
		if !in.NotBefore.After(now) { // a scheduled intent keeps its time
			in.NotBefore = time.Time{}
		}
		r = decisionRecord(now, in, WhatApproved, "approved")
		noteSecondApproval(&r, first)
	} else {
		in.State = intent.StateDenied
		r = decisionRecord(now, in, WhatDenied, "denied")
	}
	if _, err := e.apply(ctx, &intent.Change{Update: &in, Records: []clarity.Record{r}}); err != nil {
		return intent.Intent{}, fmt.Errorf("%s intent %s: store decision: %w", verb, id, err)
	}
	e.deadlines.forget(id)
	e.stats.move(intent.StatePendingApproval, in.State)
	if approve && e.accepting.Load() {
		e.requeue(in) // approved work was accepted at submission: the bound does not apply
		e.wake()
	}
	return in, nil
}

// deadlineOf is when a pending intent expires: its Deadline, or for an
// intent written without one, its creation plus approvals.timeout.
func (e *Engine) deadlineOf(in intent.Intent) time.Time {
	if !in.Deadline.IsZero() {
		return in.Deadline
	}
	return in.CreatedAt.Add(e.cfg.Approvals.Timeout)
}

// approvalTick is how often the expiry loop looks for due deadlines:
// a tenth of approvals.timeout, between 10 ms and 1 s.
func (e *Engine) approvalTick() time.Duration {
	return min(max(e.cfg.Approvals.Timeout/10, 10*time.Millisecond), time.Second)
}

// expiryLoop expires pending approvals past their deadline on every tick
// of t until ctx is cancelled; then it stops t. Start makes the ticker, so
// that it exists (and counts time) as soon as Start returns.
func (e *Engine) expiryLoop(ctx context.Context, t clock.Ticker) {
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C():
			e.expireDue(ctx)
		}
	}
}

// expireDue expires every tracked pending approval whose deadline has
// passed, reading each from the store first: one decided meanwhile (here
// or by another process) is only forgotten.
func (e *Engine) expireDue(ctx context.Context) {
	for _, id := range e.deadlines.due(e.clock.Now()) {
		if ctx.Err() != nil {
			return
		}
		e.decideMu.Lock()
		in, err := e.store.Get(ctx, id)
		switch {
		case err != nil:
			e.log.Error("read pending approval to expire", "intent_id", id, "err", err)
		case in.State != intent.StatePendingApproval:
			e.deadlines.forget(id)
		default:
			now := e.clock.Now()
			if dl := e.deadlineOf(in); now.Before(dl) {
				e.deadlines.track(id, dl)
				break
			}
			if _, err := e.expireLocked(ctx, in, now); err != nil {
				e.log.Error("expire pending approval", "intent_id", id, "err", err)
			}
		}
		e.decideMu.Unlock()
	}
}

// expireLocked moves a pending intent to expired. decideMu must be held.
func (e *Engine) expireLocked(ctx context.Context, in intent.Intent, now time.Time) (intent.Intent, error) {
	in.Deadline = e.deadlineOf(in)
	in.State = intent.StateExpired
	in.UpdatedAt = now
	r := expiredRecord(now, in, e.cfg.Approvals.Timeout)
	if _, err := e.apply(ctx, &intent.Change{Update: &in, Records: []clarity.Record{r}}); err != nil {
		return intent.Intent{}, fmt.Errorf("store expiry: %w", err)
	}
	e.deadlines.forget(in.ID)
	e.stats.move(intent.StatePendingApproval, intent.StateExpired)
	return in, nil
}
