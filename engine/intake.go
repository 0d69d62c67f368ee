package engine

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"grace/engine/clarity"
	"grace/engine/governance"
	"grace/engine/htm"
	"grace/engine/intent"
)

// Submit validates sub, routes it through governance and writes the intent
// with its records (intent_received, intent_routed, a vote_cast per Tier 3
// ballot, approval_requested for Tier 0, emergency_override_logged for
// Tier 4, intent_denied when the hub votes no) in one durable change. It
// returns only once that change is durable.
//
// Invalid input returns a *ValidationError listing every problem, after one
// intent_rejected record naming them all has been written. A submission
// whose actor's idempotency key is taken returns the original intent
// (masked) with Existing set and writes nothing, when it is the same
// submission (type, payload, context and priority; see differingFields);
// a different one returns an *IdempotencyConflictError (errors.Is
// ErrIdempotencyConflict) naming the holder and the fields that differ,
// stores nothing and writes one idempotency_conflict record (throttled
// like refusals). When the intent would be queued and the HTM queue is at
// htm.capacity, Submit returns an error wrapping ErrQueueFull and writes
// nothing; a retry under a taken key gets the answer above instead.
//
// On a started engine with htm_rate_limit on, a submission past its
// actor's or the global token bucket (htm.rate_limit) is refused first,
// before validation, with a *RateLimitError (errors.Is ErrRateLimited)
// and nothing written; refusals are narrated per episode, with counts.
//
// On a started engine queued work goes straight into the HTM queue; on one
// that is not started it stays queued in the store for the next Start.
func (e *Engine) Submit(ctx context.Context, sub intent.Submission) (SubmitResult, error) {
	return e.submit(ctx, sub, nil)
}

// submit is Submit; more, when set, adds to the new intent's records (it
// may change them) in the same durable change.
func (e *Engine) submit(ctx context.Context, sub intent.Submission, more func(intent.Intent, []clarity.Record) []clarity.Record) (_ SubmitResult, err error) {
	defer func() { // the intake-error SLO; a reused key is the caller's mistake, like invalid input
		if !errors.Is(err, ErrIdempotencyConflict) {
			e.observeSubmit(err)
		}
	}()
	now := e.clock.Now()
	if err := e.admitSubmission(now, sub); err != nil {
		return SubmitResult{}, fmt.Errorf("submit %s: %w", clip(strings.TrimSpace(sub.Type), 100), err)
	}
	clean, probs := e.checkSubmission(sub)
	if len(probs) > 0 {
		return SubmitResult{}, e.reject(ctx, sub, probs)
	}
	hub, err := e.hubState(ctx, clean.Type)
	if err != nil {
		return SubmitResult{}, fmt.Errorf("submit %s: %w", clean.Type, err)
	}
	in := e.newIntent(now, clean, e.router.Route(clean, hub))

	reserved := false
	if in.State == intent.StateQueued {
		if reserved, err = e.claimQueueRoom(ctx); err != nil {
			// A retried submission whose original was accepted gets the
			// original (or the conflict), full queue or not.
			if orig, ok := e.byIdempotencyKey(ctx, in.Actor, in.IdempotencyKey); ok {
				return e.resubmitted(ctx, clean, orig)
			}
			return SubmitResult{}, fmt.Errorf("submit %s: %w", in.Type, err)
		}
	}
	recs := e.intakeRecords(in)
	if more != nil {
		recs = more(in, recs)
	}
	res, err := e.apply(ctx, &intent.Change{Create: &in, Records: recs})
	if err != nil || res.Existing != nil {
		if reserved {
			e.queue.Release()
		}
		if err != nil {
			return SubmitResult{}, fmt.Errorf("submit %s: store intent: %w", in.Type, err)
		}
		return e.resubmitted(ctx, clean, *res.Existing) // taken in the store or earlier in the same batch
	}

	e.admitted(now, in, reserved)
	return SubmitResult{Intent: e.guard.mask.intent(in)}, nil
}

// newIntent is the intent a validated submission becomes under the
// governance decision dec, at now: pending approval (with its deadline),
// denied by the hub, or queued.
func (e *Engine) newIntent(now time.Time, clean intent.Submission, dec intent.Decision) intent.Intent {
	in := intent.Intent{
		ID: e.ids.next(now), Type: clean.Type, Actor: clean.Actor, Payload: clean.Payload, Context: clean.Context,
		Priority: clean.Priority, IdempotencyKey: clean.IdempotencyKey, Tier: dec.AutonomyTier, Decision: dec,
		CreatedAt: now, UpdatedAt: now, NotBefore: clean.NotBefore,
	}
	switch {
	case dec.AutonomyTier == 0 || dec.RequiresHuman:
		in.State = intent.StatePendingApproval
		in.Deadline = now.Add(e.cfg.Approvals.Timeout)
	case !dec.Approved:
		in.State = intent.StateDenied
		in.DecidedBy = dec.RoutedTo
		if in.DecidedBy == "" || in.DecidedBy == governance.RouteDirect {
			in.DecidedBy = actorHub
		}
		in.DecisionReason = strings.Join(dec.Reasoning, "; ")
	default:
		in.State = intent.StateQueued
	}
	return in
}

// admitted takes in, just stored, into the engine's live state: counted,
// queued (in the room reserved for it, when reserved) or its approval
// deadline tracked.
func (e *Engine) admitted(now time.Time, in intent.Intent, reserved bool) {
	e.stats.move("", in.State)
	switch in.State {
	case intent.StateQueued:
		switch {
		case reserved:
			e.queue.PushReserved(in)
			e.shed.queued(in, now)
		case e.accepting.Load(): // started while this intent was being written
			e.requeue(in)
		}
		e.wake()
		if e.queue.Level() == htm.LevelCritical {
			e.shed.wake()
		}
	case intent.StatePendingApproval:
		e.deadlines.track(in.ID, in.Deadline)
	}
}

// Route returns the governance decision for sub without storing anything.
// Invalid input returns a *ValidationError (not recorded: nothing was
// submitted).
func (e *Engine) Route(ctx context.Context, sub intent.Submission) (intent.Decision, error) {
	clean, probs := e.checkSubmission(sub)
	if len(probs) > 0 {
		return intent.Decision{}, &ValidationError{Problems: probs}
	}
	hub, err := e.hubState(ctx, clean.Type)
	if err != nil {
		return intent.Decision{}, fmt.Errorf("route %s: %w", clean.Type, err)
	}
	return e.router.Route(clean, hub), nil
}

// reject records one intent_rejected record naming every problem and
// returns the *ValidationError (joined with the journal's error if the
// record could not be written).
func (e *Engine) reject(ctx context.Context, sub intent.Submission, probs []Problem) error {
	verr := &ValidationError{Problems: probs}
	e.stats.reject()
	r := rejectedRecord(e.clock.Now(), sub, probs)
	if err := e.journal.Record(ctx, r); err != nil {
		e.log.Error("record rejection", "err", err)
		return errors.Join(verr, fmt.Errorf("record the rejection: %w", err))
	}
	e.recent.add(r)
	return verr
}

// byIdempotencyKey returns the intent actor stored under key, if there is
// one.
func (e *Engine) byIdempotencyKey(ctx context.Context, actor, key string) (intent.Intent, bool) {
	if key == "" {
		return intent.Intent{}, false
	}
	ins, err := e.store.List(ctx, intent.Filter{Actor: actor, IdempotencyKey: key, Limit: 1})
	if err != nil || len(ins) == 0 {
		return intent.Intent{}, false
	}
	return ins[0], true
}

// claimQueueRoom makes sure the HTM queue can take one more intent. On a
// started engine it reserves room in the in-memory queue (reported by
// reserved); otherwise it counts the queued intents in the store.
func (e *Engine) claimQueueRoom(ctx context.Context) (reserved bool, err error) {
	if e.accepting.Load() {
		if err := e.queue.Reserve(); err != nil {
			return false, fmt.Errorf("%w: %v; nothing was stored, resubmit later", ErrQueueFull, err)
		}
		return true, nil
	}
	counts, err := e.store.CountByState(ctx)
	if err != nil {
		return false, fmt.Errorf("count queued intents: %w", err)
	}
	if n := counts[intent.StateQueued]; n >= e.cfg.HTM.Capacity {
		return false, fmt.Errorf("%w: %d intents queued in the store, capacity %d (htm.capacity); nothing was stored, resubmit later",
			ErrQueueFull, n, e.cfg.HTM.Capacity)
	}
	return false, nil
}

// intakeRecords narrates a new intent.
// The records carry the intent's creation time.
func (e *Engine) intakeRecords(in intent.Intent) []clarity.Record {
	at := in.CreatedAt
	recs := make([]clarity.Record, 0, 4+len(in.Decision.Votes))
	shown, masked := e.guard.mask.view(in) // records never hold masked values
	recs = append(recs, withMasked(receivedRecord(at, in, e.cfg.Intake.MaxPayloadBytes), masked), routedRecord(at, in))
	for i, v := range in.Decision.Votes {
		recs = append(recs, voteRecord(at, in, v, i+1, len(in.Decision.Votes)))
	}
	switch {
	case in.State == intent.StateDenied:
		recs = append(recs, hubDeniedRecord(at, in))
	case in.State == intent.StatePendingApproval:
		recs = append(recs, approvalRequestedRecord(at, in, e.cfg.Approvals.Timeout))
	case in.Tier == 4:
		recs = append(recs, emergencyRecord(at, shown, e.liveFigures()))
	}
	return recs
}
