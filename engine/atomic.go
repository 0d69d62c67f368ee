package engine

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"grace/engine/governance"
	"grace/engine/intent"
)

// BatchRefusedError is an atomic batch (SubmitAtomic) refused whole:
// nothing in it was stored. Items are the submissions at fault, in order,
// each with the error it would have got on its own (a *ValidationError, a
// *RateLimitError, an *IdempotencyConflictError, ErrQueueFull); errors.Is
// and errors.As reach them.
type BatchRefusedError struct {
	Size  int
	Items []BatchItemError
}

// BatchItemError is one refused submission of an atomic batch.
type BatchItemError struct {
	Index int // from 0
	Err   error
}

// Error names the first submission at fault and how many more there are.
func (e *BatchRefusedError) Error() string {
	more := ""
	if n := len(e.Items) - 1; n > 0 {
		more = fmt.Sprintf(" (and %d more)", n)
	}
	first := e.Items[0]
	return fmt.Sprintf("atomic batch of %d refused: submission %d: %v%s; nothing in the batch was stored",
		e.Size, first.Index, first.Err, more)
}

// Unwrap returns each refused submission's error.
func (e *BatchRefusedError) Unwrap() []error {
	out := make([]error, len(e.Items))
	for i, it := range e.Items {
		out[i] = it.Err
	}
	return out
}

var _ AtomicSubmitter = (*Engine)(nil)

// SubmitAtomic submits subs all or none: each is governed as Submit
// governs one (rate limits, validation, routing, idempotency, queue room,
// its records), and then either every new intent is written, with its
// records, in one durable change, or none is and a *BatchRefusedError
// names every submission at fault (an invalid one is on the record as
// intent_rejected, a key conflict as idempotency_conflict, as alone).
//
// The batch's rate-limit share is taken whole or not at all. A submission
// whose actor already holds its idempotency key (stored, or earlier in
// the batch) with the same submission is answered with the holder,
// Existing set, and stores nothing; with a different one it refuses the
// batch. Queue room is claimed for every intent that would be queued.
func (e *Engine) SubmitAtomic(ctx context.Context, subs []intent.Submission) (_ []SubmitResult, err error) {
	defer func() {
		if !errors.Is(err, ErrIdempotencyConflict) {
			e.observeSubmit(err)
		}
	}()
	gs, ok := e.store.(intent.GroupStore)
	if !ok {
		return nil, errors.New("submit atomically: this store cannot write several changes at once")
	}
	if len(subs) == 0 {
		return nil, nil
	}
	now := e.clock.Now()
	refused := func(items ...BatchItemError) error { return &BatchRefusedError{Size: len(subs), Items: items} }
	if i, err := e.admitBatch(now, subs); err != nil {
		return nil, refused(BatchItemError{Index: i, Err: err})
	}
	cleans := make([]intent.Submission, len(subs))
	var bad []BatchItemError
	for i, sub := range subs {
		clean, probs := e.checkSubmission(sub)
		if len(probs) > 0 {
			bad = append(bad, BatchItemError{Index: i, Err: e.reject(ctx, sub, probs)})
			continue
		}
		cleans[i] = clean
	}
	if len(bad) > 0 {
		return nil, refused(bad...)
	}
	// A key another submission took between the look and the write:
	// look again, and answer that one as the key's holder. Each look
	// finds at least one more key held, and a held key stays held, so
	// there are at most as many looks as keys.
	keys := 0
	for _, c := range cleans {
		if c.IdempotencyKey != "" {
			keys++
		}
	}
	for look := 0; ; look++ {
		res, err := e.submitGroup(ctx, gs, now, cleans)
		if errors.Is(err, intent.ErrKeyTaken) && look < keys {
			continue
		}
		return res, err
	}
}

// admitBatch takes the rate-limit share of subs whole, as admitSubmission
// takes one submission's, and on a refusal returns the index of the
// first submission of the actor (or of the batch) that was short.
func (e *Engine) admitBatch(now time.Time, subs []intent.Submission) (int, error) {
	if !e.accepting.Load() || !e.cfg.SafeguardEnabled(SafeguardRateLimit) {
		return 0, nil
	}
	want, first, global := map[string]int{}, map[string]int{}, 0
	for i, sub := range subs {
		actor := clip(strings.TrimSpace(sub.Actor), maxActorLen)
		if actor == "" {
			actor = actorUnknown
		}
		if _, ok := first[actor]; !ok {
			first[actor] = i
		}
		want[actor]++
		if tier, _ := e.router.Tier(strings.TrimSpace(sub.Type)); tier != 4 {
			global++
		}
	}
	if err := e.limits.admitAll(now, want, global); err != nil {
		e.l2stats.rateLimited.Add(uint64(len(subs)))
		if err.Scope == scopeActor {
			return first[err.Actor], err
		}
		return 0, err
	}
	return 0, nil
}

// planned is what one submission of an atomic batch comes to.
type planned struct {
	in       intent.Intent  // the new intent, when it is to be stored
	held     *intent.Intent // the intent that already holds its key (same submission)
	alias    int            // the earlier submission in the batch under the same key, or -1
	reserved bool           // queue room is reserved for in
}

// submitGroup routes the validated cleans, answers those whose key is
// held, claims queue room and writes the rest in one group.
func (e *Engine) submitGroup(ctx context.Context, gs intent.GroupStore, now time.Time, cleans []intent.Submission) ([]SubmitResult, error) {
	plans := make([]planned, len(cleans))
	primary := map[[2]string]int{}
	hubs := map[string]governance.HubState{}
	var bad []BatchItemError
	for i, clean := range cleans {
		p := &plans[i]
		p.alias = -1
		if clean.IdempotencyKey != "" {
			k := [2]string{clean.Actor, clean.IdempotencyKey}
			if first, ok := primary[k]; ok {
				p.alias = first
				continue
			}
			primary[k] = i
			if held, ok := e.byIdempotencyKey(ctx, clean.Actor, clean.IdempotencyKey); ok {
				if _, err := e.resubmitted(ctx, clean, held); err != nil {
					bad = append(bad, BatchItemError{Index: i, Err: err}) // a different submission: on the record
					continue
				}
				p.held = &held
				continue
			}
		}
		hub, ok := hubs[clean.Type]
		if !ok {
			var err error
			if hub, err = e.hubState(ctx, clean.Type); err != nil {
				return nil, fmt.Errorf("submit %s: %w", clean.Type, err)
			}
			hubs[clean.Type] = hub
		}
		p.in = e.newIntent(now, clean, e.router.Route(clean, hub))
	}
	for i := range plans {
		a := plans[i].alias
		if a < 0 {
			continue
		}
		holder := plans[a].in
		if plans[a].held != nil {
			holder = *plans[a].held
		}
		if holder.ID == "" { // its first submission is refused already
			continue
		}
		if fields := differingFields(cleans[i], holder); len(fields) > 0 {
			c := &IdempotencyConflictError{Key: cleans[i].IdempotencyKey, Actor: cleans[i].Actor, ExistingID: holder.ID, Fields: fields}
			if plans[a].held == nil { // the holder is the batch's own, never stored: it has no ID to name
				c.ExistingID, c.InBatch, c.HolderIndex = "", true, a
			}
			e.recordConflict(ctx, cleans[i], c) // a different submission: on the record, as alone
			bad = append(bad, BatchItemError{Index: i, Err: c})
		}
	}
	if len(bad) > 0 {
		return nil, &BatchRefusedError{Size: len(cleans), Items: bad}
	}
	if err := e.claimBatchRoom(ctx, plans); err != nil {
		return nil, err
	}
	var changes []*intent.Change
	for i := range plans {
		if p := &plans[i]; p.alias < 0 && p.held == nil {
			changes = append(changes, &intent.Change{Create: &p.in, Records: e.intakeRecords(p.in)})
		}
	}
	if len(changes) > 0 {
		if err := ctx.Err(); err != nil {
			e.releaseBatchRoom(plans)
			return nil, err
		}
		// Once the write has begun it is not abandoned: see apply.
		if _, err := gs.ApplyAll(context.WithoutCancel(ctx), changes); err != nil {
			e.releaseBatchRoom(plans)
			return nil, fmt.Errorf("submit atomically: store %d intents: %w", len(changes), err)
		}
		for _, c := range changes {
			e.committed(c)
		}
	}
	out := make([]SubmitResult, len(plans))
	for i := range plans {
		p := &plans[i]
		switch {
		case p.alias >= 0:
			out[i] = out[p.alias]
			out[i].Existing = true
		case p.held != nil:
			out[i] = SubmitResult{Intent: e.guard.mask.intent(*p.held), Existing: true}
		default:
			e.admitted(now, p.in, p.reserved)
			out[i] = SubmitResult{Intent: e.guard.mask.intent(p.in)}
		}
	}
	return out, nil
}

// claimBatchRoom claims queue room for every planned intent that would be
// queued, all or none; on a refusal it names the first that found none.
func (e *Engine) claimBatchRoom(ctx context.Context, plans []planned) error {
	queued := func(p *planned) bool { return p.alias < 0 && p.held == nil && p.in.State == intent.StateQueued }
	if e.accepting.Load() {
		for i := range plans {
			if p := &plans[i]; queued(p) {
				if err := e.queue.Reserve(); err != nil {
					e.releaseBatchRoom(plans)
					return &BatchRefusedError{Size: len(plans), Items: []BatchItemError{{Index: i,
						Err: fmt.Errorf("%w: %v; nothing was stored, resubmit later", ErrQueueFull, err)}}}
				}
				p.reserved = true
			}
		}
		return nil
	}
	n, first := 0, -1
	for i := range plans {
		if queued(&plans[i]) {
			if first < 0 {
				first = i
			}
			n++
		}
	}
	if n == 0 {
		return nil
	}
	counts, err := e.store.CountByState(ctx)
	if err != nil {
		return fmt.Errorf("count queued intents: %w", err)
	}
	if q := counts[intent.StateQueued]; q+n > e.cfg.HTM.Capacity {
		return &BatchRefusedError{Size: len(plans), Items: []BatchItemError{{Index: first,
			Err: fmt.Errorf("%w: %d intents queued in the store and %d more in the batch, capacity %d (htm.capacity); nothing was stored, resubmit later",
				ErrQueueFull, q, n, e.cfg.HTM.Capacity)}}}
	}
	return nil
}

// releaseBatchRoom gives back the queue room reserved for plans.
func (e *Engine) releaseBatchRoom(plans []planned) {
	for i := range plans {
		if plans[i].reserved {
			e.queue.Release()
			plans[i].reserved = false
		}
	}
}
