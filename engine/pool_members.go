package engine

import (
	"context"
	"time"
)

// The pool's membership and liveness bookkeeping, used by the workers
// (beat, begin), the supervisor (round, declare, take, remove, spawn,
// retire) and the fault hooks (hang, release).

// begin lets w start fl unless the supervisor has taken it back: it gives
// the attempt its handler context, a child of w's, and marks it started.
func (p *pool) begin(w *workerState, fl *flight) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if w.cur != fl {
		return false
	}
	fl.ctx, fl.cancel = context.WithCancelCause(w.ctx)
	fl.started = true
	return true
}

// arm gives w its context, a child of parent, and counts it as having
// answered heartbeat round at now. The worker's goroutine starts after.
func (p *pool) arm(w *workerState, parent context.Context, round uint64, now time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	w.ctx, w.cancel = context.WithCancelCause(parent)
	w.answered, w.lastBeat = round, now
}

// beat records that w answered heartbeat round at now.
func (p *pool) beat(w *workerState, round uint64, now time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if round > w.answered {
		w.answered = round
	}
	w.lastBeat = now
}

// gone reports whether w has been declared dead and removed from the pool:
// its loop should stop.
func (p *pool) gone(w *workerState) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !w.dead {
		return false
	}
	for _, x := range p.workers {
		if x == w {
			return false
		}
	}
	return true
}

// died notes why w's loop is ending on its own (a panic).
func (p *pool) died(w *workerState, cause string) {
	p.mu.Lock()
	if w.cause == "" {
		w.cause = cause
	}
	p.mu.Unlock()
}

// hangState returns w's hang release channel and whether it is hung.
func (p *pool) hangState(w *workerState) (<-chan struct{}, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return w.release, w.hung
}

// find returns the worker called name among the pool's members.
func (p *pool) find(name string) *workerState {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, w := range p.workers {
		if w.name == name {
			return w
		}
	}
	return nil
}

// lapse is one worker that left too many heartbeat rounds unanswered.
type lapse struct {
	w        *workerState
	missed   int
	lastBeat time.Time
}

// checkRound checks every member's answer to the previous heartbeat round
// before round: a worker that left limit or more rounds in a row
// unanswered, and is not yet declared dead, is returned. Dead members that
// answer again are returned as revived. It returns the members to ping.
func (p *pool) checkRound(round uint64, limit int) (lapsed []lapse, revived, ping []*workerState) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, w := range p.workers {
		if w.retiring {
			continue
		}
		w.missed = 0
		if round > w.answered+1 {
			w.missed = int(round - 1 - w.answered)
		}
		switch {
		case w.dead && w.missed == 0 && w.cause == causeMissedHeartbeats:
			revived = append(revived, w)
		case !w.dead && w.missed >= limit:
			lapsed = append(lapsed, lapse{w: w, missed: w.missed, lastBeat: w.lastBeat})
		}
		ping = append(ping, w)
	}
	return lapsed, revived, ping
}

// declare marks w dead for cause and reports whether it was alive until
// now (false: already declared).
func (p *pool) declare(w *workerState, cause string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if w.dead {
		return false
	}
	w.dead, w.healthy, w.cause = true, false, cause
	return true
}

// revive marks a worker declared dead for missed heartbeats alive again.
func (p *pool) revive(w *workerState) {
	p.mu.Lock()
	defer p.mu.Unlock()
	w.dead, w.healthy, w.cause = false, true, ""
}

// take takes w's attempt back from it (w is dead); nil when w had none.
// started reports whether w had begun it; if not, it never will.
func (p *pool) take(w *workerState) (fl *flight, started bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	fl = w.cur
	w.cur, w.busy, w.intentID = nil, false, ""
	return fl, fl != nil && fl.started
}

// flightOf returns the attempt of intent id a worker holds, and that
// worker; nil when no worker holds one (it has not been assigned yet, or
// it has been released).
func (p *pool) flightOf(id string) (*workerState, *flight) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, w := range p.workers {
		if w.cur != nil && w.cur.in.ID == id {
			return w, w.cur
		}
	}
	return nil, nil
}

// halt stops fl, withdrawn from w: an attempt w has begun has its
// handler's context cancelled (w releases itself once the handler has
// returned); one w has not begun is taken from it, so it never runs, and
// w is free at once. It reports whether fl had begun.
func (p *pool) halt(w *workerState, fl *flight) (started bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if fl.started {
		fl.cancel(errWithdrawn)
		return true
	}
	if w.cur == fl {
		w.cur, w.busy, w.intentID = nil, false, ""
	}
	fl.finish()
	return false
}

// remove takes w out of the pool.
func (p *pool) remove(w *workerState) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i, x := range p.workers {
		if x == w {
			p.workers = append(p.workers[:i], p.workers[i+1:]...)
			return
		}
	}
}

// counts returns how many members are alive (not dead, not retiring) and
// how many of those are idle.
func (p *pool) counts() (alive, idle int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, w := range p.workers {
		if w.dead || w.retiring {
			continue
		}
		alive++
		if !w.busy {
			idle++
		}
	}
	return alive, idle
}

// occupied returns how many members hold a slot: every member but those
// retiring. A dead member left in the pool (worker_reassignment off) keeps
// its slot, so the pool is not refilled.
func (p *pool) occupied() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for _, w := range p.workers {
		if !w.retiring {
			n++
		}
	}
	return n
}

// add makes a new worker and adds it to the pool; the caller starts it.
func (p *pool) add() *workerState {
	p.mu.Lock()
	defer p.mu.Unlock()
	w := p.newWorkerLocked()
	p.workers = append(p.workers, w)
	return w
}

// retireIdle marks up to n idle, alive members retiring, newest first, and
// returns them; the caller stops them.
func (p *pool) retireIdle(n int) []*workerState {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []*workerState
	for i := len(p.workers) - 1; i >= 0 && len(out) < n; i-- {
		w := p.workers[i]
		if w.dead || w.retiring || w.busy {
			continue
		}
		w.retiring = true
		out = append(out, w)
	}
	return out
}

// setTarget sets the size the supervisor keeps the pool at and returns the
// old one.
func (p *pool) setTarget(n int) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	old := p.target
	p.target = n
	return old
}

// size returns the target size.
func (p *pool) size() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.target
}
