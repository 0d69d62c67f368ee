package chaos

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"grace/engine"
	"grace/engine/clarity"
	"grace/engine/intent"
)

// pageSize is the store's largest search page.
const pageSize = 1000

// recordExists reports whether a record matching d is on the store.
func (r *run) recordExists(ctx context.Context, d detector) (bool, error) {
	found := false
	err := r.eachRecord(ctx, clarity.Query{Action: d.What}, func(e clarity.Entry) bool {
		found = d.matches(e)
		return !found
	})
	return found, err
}

// eachRecord calls fn with every entry matching q, newest first, until fn
// returns false.
func (r *run) eachRecord(ctx context.Context, q clarity.Query, fn func(clarity.Entry) bool) error {
	q.Limit = pageSize
	if q.Since.IsZero() {
		// A live run reads only what was written since it started.
		q.Since = r.since
	}
	for {
		page, err := r.rec.Search(ctx, q)
		if err != nil {
			return fmt.Errorf("read the record (%s): %w", q.Action, err)
		}
		for _, e := range page {
			if !fn(e) {
				return nil
			}
		}
		if len(page) < pageSize {
			return nil
		}
		q.BeforeID = page[len(page)-1].ID
	}
}

// checkInvariants checks the five invariants on the stopped engine's store
// and names each violation as a failure.
func (r *run) checkInvariants(ctx context.Context, deadline time.Duration) (InvariantResult, error) {
	var inv InvariantResult
	var err error
	if inv.Lost, err = r.lost(ctx, deadline); err != nil {
		return inv, err
	}
	if inv.Duplicated, err = r.duplicated(ctx); err != nil {
		return inv, err
	}
	if inv.UnauthorizedExecutions, err = r.unauthorized(ctx); err != nil {
		return inv, err
	}
	if err = r.checkProbe(ctx); err != nil {
		return inv, err
	}
	if inv.CancelledRevived, err = r.revived(ctx); err != nil {
		return inv, err
	}
	rep, err := r.rec.VerifyAudit(ctx)
	if err != nil {
		return inv, fmt.Errorf("verify audit: %w", err)
	}
	inv.AuditIntact = rep.OK
	if inv.Duplicated > 0 {
		r.failf("invariant %s: %d intents completed twice or run by two workers at once", InvariantNoDuplicate, inv.Duplicated)
	}
	if inv.UnauthorizedExecutions > 0 {
		r.failf("invariant %s: %d Tier 0 intents dispatched without an approval", InvariantNoUnauthorized, inv.UnauthorizedExecutions)
	}
	if inv.CancelledRevived > 0 {
		r.failf("invariant %s: %d cancelled intents ran again or did not end cancelled", InvariantCancelledStay, inv.CancelledRevived)
	}
	if !inv.AuditIntact {
		r.failf("invariant %s: %s (first broken entry %d)", InvariantAuditIntact, rep.Problem, rep.FirstBroken)
	}
	if r.jepsen != nil { // a Jepsen scenario: its history goes to porcupine
		if inv.Linearizable, err = r.checkJepsen(ctx); err != nil {
			return inv, err
		}
	}
	return inv, nil
}

// lost counts the acknowledged intents lost: those the store does not
// have, and those stranded, that never reached a final state by the end
// of the run (still queued or running: never completed). An intent that
// waits for a human approval the run never gave is not stranded: it waits
// as it should. The acknowledged intents are each ID the runner's own
// submissions got back, and for each flood, the intents stored from its
// actors (accepted submissions beyond what the store holds are missing).
// The store follows the engine by a few writes (the workers' updates are
// written behind): an isolated run's stopped engine is waited for until
// the store holds no more unfinished intents than the engine left (up to
// the scenario's deadline); a live run's engine goes on, and there the
// stranded are looked for until none is left or the deadline passes.
func (r *run) lost(ctx context.Context, deadline time.Duration) (int, error) {
	if !r.live {
		var lerr error
		_ = r.waitFor(ctx, deadline, func() bool {
			var n int
			n, lerr = r.storeUnfinished(ctx)
			s := r.eng.Snapshot().ByState
			return lerr != nil || n <= s[intent.StateQueued]+s[intent.StateRunning]
		})
		if lerr != nil {
			return 0, lerr
		}
		if ctx.Err() != nil {
			return 0, ctx.Err()
		}
	}
	missing, stranded, err := r.unfinished(ctx)
	if err != nil {
		return 0, err
	}
	if r.live && len(stranded) > 0 {
		_ = r.waitFor(ctx, deadline, func() bool {
			var werr error
			missing, stranded, werr = r.unfinished(ctx)
			return werr != nil || len(stranded) == 0
		})
		if ctx.Err() != nil {
			return 0, ctx.Err()
		}
	}
	if missing > 0 {
		r.failf("invariant %s: %d acknowledged intents missing from the store", InvariantNoLost, missing)
	}
	n := missing
	if len(stranded) > 0 {
		var parts []string
		total := 0
		for _, st := range sortedKeys(stranded) {
			parts = append(parts, fmt.Sprintf("%d still %s", stranded[st], st))
			total += stranded[st]
		}
		r.failf("invariant %s: %d acknowledged intents never finished: %s at the end of the run (never completed)",
			InvariantNoLost, total, strings.Join(parts, ", "))
		n += total
	}
	return n, nil
}

// storeUnfinished counts the intents queued or running on the store.
func (r *run) storeUnfinished(ctx context.Context) (int, error) {
	n := 0
	for _, st := range []intent.State{intent.StateQueued, intent.StateRunning} {
		list, err := r.rec.List(ctx, intent.Filter{State: st, Since: r.since, Limit: 1 << 30})
		if err != nil {
			return 0, fmt.Errorf("list %s intents: %w", st, err)
		}
		n += len(list)
	}
	return n, nil
}

// unfinished returns how many acknowledged intents the store does not
// have, and how many of those it has are stranded, by state (see lost).
func (r *run) unfinished(ctx context.Context) (missing int, stranded map[string]int, err error) {
	stranded = map[string]int{}
	seen := map[string]bool{}
	note := func(in intent.Intent) {
		if seen[in.ID] {
			return
		}
		seen[in.ID] = true
		if !in.State.Terminal() && in.State != intent.StatePendingApproval {
			stranded[string(in.State)]++
		}
	}
	for _, id := range append(r.probeIDs(), r.submitted...) {
		in, err := r.rec.Get(ctx, id)
		switch {
		case errors.Is(err, intent.ErrNotFound):
			if !seen[id] {
				seen[id] = true
				missing++
			}
		case err != nil:
			return 0, nil, fmt.Errorf("check intent %s: %w", id, err)
		default:
			note(in)
		}
	}
	for _, f := range r.floods {
		stored := 0
		for a := 1; a <= f.actors; a++ {
			list, err := r.rec.List(ctx, intent.Filter{Actor: fmt.Sprintf("flood.agent_%d", a), Since: r.since, Limit: 1 << 30})
			if err != nil {
				return 0, nil, fmt.Errorf("list flood intents: %w", err)
			}
			stored += len(list)
			for _, in := range list {
				note(in)
			}
		}
		// Earlier floods from the same actors are in stored too.
		missing += max(f.accepted-stored, 0)
	}
	return missing, stranded, nil
}

// attemptRecords are the records that open (intent_dispatched) or close an
// attempt of an intent.
var attemptRecords = []string{engine.WhatDispatched, engine.WhatCompleted, engine.WhatFailed,
	engine.WhatRetryScheduled, engine.WhatRerouted, engine.WhatRequeuedAfterStart}

// duplicated counts intents completed more than once, or dispatched again
// while an earlier attempt was neither completed, failed, retried nor
// rerouted on the record.
func (r *run) duplicated(ctx context.Context) (int, error) {
	by := map[string][]clarity.Entry{}
	for _, what := range attemptRecords {
		err := r.eachRecord(ctx, clarity.Query{Action: what}, func(e clarity.Entry) bool {
			if e.IntentID != "" {
				by[e.IntentID] = append(by[e.IntentID], e)
			}
			return true
		})
		if err != nil {
			return 0, err
		}
	}
	n := 0
	for _, es := range by {
		sort.Slice(es, func(i, j int) bool { return es[i].ID < es[j].ID })
		open, completed, dup := false, 0, false
		for _, e := range es {
			switch e.What {
			case engine.WhatDispatched:
				if open {
					dup = true
				}
				open = true
			case engine.WhatCompleted:
				completed++
				open = false
			default:
				open = false
			}
		}
		if dup || completed > 1 {
			n++
		}
	}
	return n, nil
}

// NoteTier0NotExercised is the note of a run with no Tier 0 intent in
// it (a live run): its count of unauthorized executions proves nothing.
const NoteTier0NotExercised = "invariant " + InvariantNoUnauthorized + " not exercised: no Tier 0 intent in this run"

// unauthorized counts Tier 0 intents with an intent_dispatched record and
// no intent_approved record before it.
func (r *run) unauthorized(ctx context.Context) (int, error) {
	tier0, err := r.rec.List(ctx, intent.Filter{Tier: 0, HasTier: true, Since: r.since, Limit: 1 << 30})
	if err != nil {
		return 0, fmt.Errorf("list Tier 0 intents: %w", err)
	}
	if len(tier0) == 0 {
		r.notes = append(r.notes, NoteTier0NotExercised)
	}
	n := 0
	for _, in := range tier0 {
		var es []clarity.Entry
		if err := r.eachRecord(ctx, clarity.Query{IntentID: in.ID}, func(e clarity.Entry) bool {
			es = append(es, e)
			return true
		}); err != nil {
			return 0, err
		}
		sort.Slice(es, func(i, j int) bool { return es[i].ID < es[j].ID })
		approved := false
		for _, e := range es {
			if e.What == engine.WhatApproved {
				approved = true
			}
			if e.What == engine.WhatDispatched && !approved {
				n++
				break
			}
		}
	}
	return n, nil
}

// revived counts the intents the run cancelled that are not cancelled in
// the store, or that have an intent_dispatched or intent_completed record
// after their intent_cancelled record.
func (r *run) revived(ctx context.Context) (int, error) {
	n := 0
	for _, id := range r.cancelled {
		in, err := r.rec.Get(ctx, id)
		if err != nil {
			return 0, fmt.Errorf("check cancelled intent %s: %w", id, err)
		}
		var es []clarity.Entry
		if err := r.eachRecord(ctx, clarity.Query{IntentID: id}, func(e clarity.Entry) bool {
			es = append(es, e)
			return true
		}); err != nil {
			return 0, err
		}
		if in.State != intent.StateCancelled || ranAfterCancel(es) {
			n++
		}
	}
	return n, nil
}

// ranAfterCancel reports whether es (one intent's records, in any order)
// has an intent_dispatched or intent_completed record after its
// intent_cancelled one.
func ranAfterCancel(es []clarity.Entry) bool {
	sort.Slice(es, func(i, j int) bool { return es[i].ID < es[j].ID })
	cancelled := false
	for _, e := range es {
		switch e.What {
		case engine.WhatCancelled:
			cancelled = true
		case engine.WhatDispatched, engine.WhatCompleted:
			if cancelled {
				return true
			}
		}
	}
	return false
}

// countRecords counts the records of the run by What: every record of an
// isolated run's database, or a live run's records written since it
// started (the live engine's other work in that time included).
func (r *run) countRecords(ctx context.Context) (map[string]int, error) {
	out := map[string]int{}
	err := r.eachRecord(ctx, clarity.Query{}, func(e clarity.Entry) bool {
		out[e.What]++
		return true
	})
	return out, err
}
