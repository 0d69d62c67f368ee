package engine

import (
	"context"
	"time"

	"grace/engine/clarity"
	"grace/engine/htm"
	"grace/engine/intent"
)

// dispatchLoop is the HTM scheduler. It hands ready intents to idle workers
// until one of them runs out, then waits for new work, a freed worker, a
// resume, or the earliest retry backoff to end (a timer on the engine's
// clock: nothing polls). While the scheduler is paused it dispatches
// nothing. It returns when ctx is cancelled.
func (e *Engine) dispatchLoop(ctx context.Context) {
	var timer <-chan time.Time
	var timerAt time.Time
	for {
		e.dispatchReady(ctx)
		// Wait for the earliest delay only while a worker could take it;
		// otherwise a freed worker's kick is what matters.
		// While no remote worker is live, a joining one's kick is.
		if due, ok := e.queue.NextDue(); ok && e.pool.hasIdle() && !e.noRemoteWorker(e.clock.Now()) && (timer == nil || due.Before(timerAt)) {
			timer, timerAt = e.clock.After(due.Sub(e.clock.Now())), due
		}
		select {
		case <-ctx.Done():
			return
		case <-e.kick:
		case <-timer:
			timer = nil
		}
	}
}

// dispatchReady dispatches until no worker is idle, no intent is ready or
// the scheduler is paused.
func (e *Engine) dispatchReady(ctx context.Context) {
	for ctx.Err() == nil && e.dispatchOne() {
	}
}

// dispatchOne dispatches the next ready intent, if the scheduler is not
// paused, a worker is idle and (RemoteFleet) a remote worker is live to
// run it; it reports whether to go on. It holds the
// pause's gate throughout, so that a pause that returns is never followed
// by a dispatch that looked at the pause before it.
func (e *Engine) dispatchOne() bool {
	e.pause.gate.Lock()
	defer e.pause.gate.Unlock()
	if e.pause.paused() || !e.pool.hasIdle() {
		return false
	}
	now := e.clock.Now()
	if e.heldForWorkers(now) {
		return false
	}
	depth := e.queue.Depth() // as the seed reports it: including the intent dispatched
	in, ok := e.queue.Pop(now)
	if !ok {
		return false
	}
	if e.needsApproval(in) {
		e.block(now, in, "scheduler")
		return true
	}
	c, ok := e.pool.pick(in.ID)
	if !ok { // only the scheduler makes workers busy, so this cannot happen
		e.requeue(in)
		return false
	}
	e.dispatch(now, in, c, depth)
	return true
}

// dispatch marks in running on the chosen worker as a new attempt, gives
// the attempt the intent's lease, records why, and hands it over. The
// change is applied asynchronously: the store keeps it ahead of whatever
// the worker writes next.
func (e *Engine) dispatch(now time.Time, in intent.Intent, c choice, d htm.Depth) {
	e.observeDispatch(now, in) // before in changes: it reads when in became ready
	in.State = intent.StateRunning
	in.Worker = e.assignee(c)
	in.Attempts++
	in.NotBefore = time.Time{}
	in.UpdatedAt = now
	r := e.dispatchRecord(now, in, c, d)
	e.stats.dispatch(now)
	e.leases.grant(in.ID, in.Attempts)
	fl := newFlight(in)
	// Queued before the flight can be seen (pool.assign): a cancel that
	// finds the flight writes behind this update. The other way round, a
	// cancel in between was written first and then overwritten by this
	// "running", which a restart would have queued again.
	e.applyAsync(&intent.Change{Update: &in, Records: []clarity.Record{r}})
	e.pool.assign(c.w, fl)
	c.w.tasks <- fl
}

// needsApproval reports whether running in would break the Tier 0 rule: a
// Tier 0 intent (by its own record or by the charter as configured now)
// runs only once an operator's approval is recorded on it.
func (e *Engine) needsApproval(in intent.Intent) bool {
	if in.DecidedBy != "" && in.DecidedBy != actorHub {
		return false
	}
	tier, _ := e.router.Tier(in.Type)
	return in.Tier == 0 || tier == 0
}

// block refuses to run an unapproved Tier 0 intent: it goes back to
// pending approval, with its deadline, and a governance_violation_blocked
// record says why.
func (e *Engine) block(now time.Time, in intent.Intent, where string) {
	from := in.State
	r := blockedRecord(now, in, where)
	in.State = intent.StatePendingApproval
	in.Worker = ""
	in.NotBefore = time.Time{}
	in.UpdatedAt = now
	if in.Deadline.IsZero() || !in.Deadline.After(now) {
		in.Deadline = now.Add(e.cfg.Approvals.Timeout)
	}
	e.log.Warn("tier 0 intent without approval refused", "intent_id", in.ID, "type", in.Type, "where", where)
	e.stats.move(from, intent.StatePendingApproval)
	e.deadlines.track(in.ID, in.Deadline)
	e.applyAsync(&intent.Change{Update: &in, Records: []clarity.Record{r}})
}
