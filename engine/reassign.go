package engine

import (
	"context"
	"errors"
	"strings"
	"sync"
	"time"

	"grace/engine/clarity"
	"grace/engine/intent"
)

// errWorkerDead cancels the handler of an attempt taken back from a worker
// declared dead.
var errWorkerDead = errors.New("worker declared dead; attempt taken back")

// workerDied declares w dead for cause (why says how that was seen) and
// records it. With worker_reassignment on, w leaves the pool (the
// supervisor then refills it) and its attempt, if it had one, is taken
// back: the lease is revoked, the handler cancelled and waited for, and
// only then is the intent rerouted, so that it never runs twice at once.
// With the safeguard off, w stays in the pool as a dead member holding its
// slot, and its intent stays running where it was.
func (e *Engine) workerDied(ctx context.Context, w *workerState, cause, why string) {
	if !e.pool.declare(w, cause) {
		return
	}
	e.l2stats.workersLost.Add(1)
	reassign := e.cfg.SafeguardEnabled(SafeguardWorkerReassignment)
	now := e.clock.Now()
	var fl *flight
	var started bool
	if reassign {
		fl, started = e.pool.take(w)
		e.pool.remove(w)
	} else {
		e.pool.mu.Lock()
		fl = w.cur
		e.pool.mu.Unlock()
	}
	e.log.Warn("worker declared dead", "worker", w.name, "cause", cause, "reassignment", reassign)
	e.note(workerDeadRecord(now, w.name, cause, why, fl, reassign))
	if !reassign || fl == nil {
		return
	}
	in := fl.in
	if !e.leases.revoke(in.ID, in.Attempts) {
		return // the attempt settled first: its outcome stands, nothing to reroute
	}
	if !started {
		fl.finish()
		e.reroute(w.name, cause, in)
		return
	}
	// Until its handler returns, the intent is in nobody's hands: a
	// cancel meanwhile (Engine.Cancel) finds it here, and then it is not
	// rerouted.
	// A handler that ignores being told to stop is abandoned after
	// workers.abandon_after: the intent then fails instead, since a
	// reroute could run it twice at once.
	e.takenBack.add(takeBack{in: in, worker: w.name, cause: cause})
	fl.cancel(errWorkerDead)
	var abandon <-chan time.Time
	if e.cfg.SafeguardEnabled(SafeguardHandlerAbandonment) {
		abandon = e.clock.After(e.cfg.Workers.AbandonAfter)
	}
	e.wg.Go(func() {
		select {
		case <-fl.done:
			if e.takenBack.end(in.ID) {
				e.reroute(w.name, cause, in)
			}
		case <-abandon:
			e.abandonTaken(ctx, fl, w.name, now, e.takenBack.end(in.ID))
		case <-ctx.Done(): // the engine stops: the intent stays running, and the next start requeues it
			e.takenBack.end(in.ID)
		}
	})
}

// takenBack holds the attempts taken back from dead workers whose handlers
// have not yet returned, by intent ID: each intent is rerouted once its
// handler returns, unless it was cancelled in the meantime.
type takenBack struct {
	mu sync.Mutex
	by map[string]*takeBack
}

// takeBack is one attempt taken back from a dead worker.
type takeBack struct {
	in        intent.Intent // as its attempt holds it
	worker    string        // the dead worker
	cause     string        // of the death
	cancelled bool
}

func (t *takenBack) add(tb takeBack) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.by == nil {
		t.by = map[string]*takeBack{}
	}
	t.by[tb.in.ID] = &tb
}

// end forgets id, its handler having returned, and reports whether it is
// to be rerouted (it was not cancelled).
func (t *takenBack) end(id string) (reroute bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	tb, ok := t.by[id]
	delete(t.by, id)
	return ok && !tb.cancelled
}

// cancel marks id, if its attempt is taken back and its handler has not
// returned, as cancelled: it will not be rerouted.
func (t *takenBack) cancel(id string) (takeBack, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	tb, ok := t.by[id]
	if !ok || tb.cancelled {
		return takeBack{}, false
	}
	tb.cancelled = true
	return *tb, true
}

// uncancel undoes cancel (the cancel could not be written) and reports
// whether the handler has returned meanwhile, so that the caller must
// reroute the intent itself.
func (t *takenBack) uncancel(id string) (ended bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	tb, ok := t.by[id]
	if ok {
		tb.cancelled = false
	}
	return !ok
}

// reroute moves in, taken back from the dead worker from, to a healthy
// worker: straight to an idle one when neither the scheduler nor the
// intent's type or actor is paused, else back into the HTM queue for the
// next free one. Either way an intent_rerouted record (the seed's
// log_reroute) says from where to where, and why.
func (e *Engine) reroute(from, cause string, in intent.Intent) {
	now := e.clock.Now()
	in.State, in.Worker, in.NotBefore, in.UpdatedAt = intent.StateQueued, "", time.Time{}, now
	e.stats.move(intent.StateRunning, intent.StateQueued)
	e.l2stats.rerouted.Add(1)
	e.pause.gate.Lock() // as the scheduler does: a pause that returned is never followed by this dispatch
	if !e.pause.paused() && !e.queue.HoldsBack(in) {
		if c, ok := e.pool.pick(in.ID); ok {
			r := rerouteRecord(now, in, from, c.w.name, cause, c.reasons)
			e.applyAsync(&intent.Change{Records: []clarity.Record{r}})
			c.reasons = append([]string{"Rerouted from " + from + " (" + strings.ReplaceAll(cause, "_", " ") + ")"}, c.reasons...)
			e.dispatch(now, in, c, e.queue.Depth())
			e.pause.gate.Unlock()
			return
		}
	}
	e.pause.gate.Unlock()
	r := rerouteRecord(now, in, from, whereQueue, cause, nil)
	e.applyAsync(&intent.Change{Update: &in, Records: []clarity.Record{r}})
	e.requeue(in)
	e.wake()
}
