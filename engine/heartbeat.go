package engine

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"

	"grace/engine/clock"
)

// The causes of a worker's death, as records name them.
const (
	causeMissedHeartbeats = "missed_heartbeats"
	causeKilled           = "killed"
	causeExited           = "exited"
)

// errRetired ends a worker the pool no longer needs.
var errRetired = errors.New("worker retired: the pool was scaled down")

// killedError ends a worker killed by a fault.
type killedError struct{ reason string }

func (k killedError) Error() string { return "worker killed: " + k.reason }

// supervisor watches the workers: it pings them every
// workers.heartbeat_interval, hears when one exits, declares dead those
// that left workers.heartbeat_misses pings unanswered or exited on their
// own, has their attempts rerouted, and keeps the pool at its target size.
// Its state other than round is confined to superviseLoop.
type supervisor struct {
	// round is the current heartbeat round; a worker started now counts as
	// having answered it.
	round atomic.Uint64
	// exits receives every worker whose loop has returned.
	exits chan *workerState
	// kick asks for the pool to be brought to its target size now.
	kick chan struct{}
}

func newSupervisor() *supervisor {
	return &supervisor{exits: make(chan *workerState, 64), kick: make(chan struct{}, 1)}
}

// exited reports w's exit, unless ctx (the engine) has ended.
func (s *supervisor) exited(ctx context.Context, w *workerState) {
	select {
	case s.exits <- w:
	case <-ctx.Done():
	}
}

// wake asks the supervisor to reconcile the pool now.
func (s *supervisor) wake() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// superviseLoop runs the supervisor until ctx ends. On each tick of t
// (every workers.heartbeat_interval) it checks the answers to the previous
// ping and pings again, and checks the scheduler's pause against
// scheduler.auto_resume_after; after every event it brings the pool to its
// target size. It stops t on return.
func (e *Engine) superviseLoop(ctx context.Context, t clock.Ticker) {
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case w := <-e.super.exits:
			e.workerExited(ctx, w)
		case <-t.C():
			e.heartbeatRound(ctx)
			e.checkAutoResume(ctx)
			e.checkNamedAutoResume(ctx)
		case <-e.super.kick:
		}
		e.reconcile(ctx)
	}
}

// heartbeatRound starts the next round: members that left too many rounds
// unanswered are declared dead, dead members that answer again are
// revived, and every member is pinged. A ping still waiting in a worker's
// channel is replaced by the new one, so that a worker that comes back
// answers the current round.
func (e *Engine) heartbeatRound(ctx context.Context) {
	round := e.super.round.Add(1)
	lapsed, revived, ping := e.pool.checkRound(round, e.cfg.Workers.HeartbeatMisses)
	now := e.clock.Now()
	for _, l := range lapsed {
		why := fmt.Sprintf("%s left %d heartbeat pings in a row unanswered (every %v; workers.heartbeat_misses %d); last answer %s ago",
			l.w.name, l.missed, e.cfg.Workers.HeartbeatInterval, e.cfg.Workers.HeartbeatMisses, roundDur(now.Sub(l.lastBeat)))
		e.workerDied(ctx, l.w, causeMissedHeartbeats, why)
	}
	for _, w := range revived {
		e.pool.revive(w)
		e.note(workerRecoveredRecord(now, w.name))
		e.wake()
	}
	for _, w := range ping {
		select {
		case <-w.ping:
		default:
		}
		select {
		case w.ping <- round:
		default: // the worker took the stale ping meanwhile and answers that
		}
	}
}

// workerExited handles a worker whose loop returned: a retired one leaves
// the pool; one already declared dead (a released zombie) leaves quietly;
// any other was killed or died, and is declared dead now.
func (e *Engine) workerExited(ctx context.Context, w *workerState) {
	defer w.cancel(nil) // its goroutine is gone: release its context
	e.pool.mu.Lock()
	retiring, dead, cause := w.retiring, w.dead, w.cause
	e.pool.mu.Unlock()
	switch {
	case retiring:
		e.pool.remove(w)
		return
	case dead:
		if e.cfg.SafeguardEnabled(SafeguardWorkerReassignment) {
			e.pool.remove(w)
		}
		return
	}
	var k killedError
	switch err := context.Cause(w.ctx); {
	case errors.As(err, &k):
		e.workerDied(ctx, w, causeKilled, fmt.Sprintf("%s was killed (%s); its goroutine has ended", w.name, k.reason))
	case cause != "":
		e.workerDied(ctx, w, causeExited, fmt.Sprintf("%s stopped on its own: %s", w.name, cause))
	default:
		e.workerDied(ctx, w, causeExited, w.name+" stopped on its own")
	}
}
