package engine

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// recentOutcomes is how many of a worker's latest results count as
// "recent" when choosing between idle workers.
const recentOutcomes = 5

// workerState is one worker's live state. name and the channels are set at
// creation; ctx and cancel by startWorker, before its goroutine runs. The
// other fields are guarded by pool.mu.
type workerState struct {
	name string
	// tasks carries at most one flight: the scheduler sends only to a
	// worker it has just marked busy, so the send never blocks.
	tasks chan *flight
	// ping carries the supervisor's heartbeat rounds; poke says a fault
	// changed (hang or release). Both hold one message.
	ping chan uint64
	poke chan struct{}
	// ctx ends when the worker is killed or retired, or the engine stops.
	ctx    context.Context
	cancel context.CancelCauseFunc

	busy      bool
	healthy   bool
	intentID  string
	cur       *flight // the attempt assigned to it, until released or taken back
	completed uint64
	failed    uint64
	outcomes  [recentOutcomes]bool // true = failure; a ring of the latest results
	nOutcomes int

	answered uint64    // the last heartbeat round it answered
	lastBeat time.Time // when it answered
	missed   int       // rounds in a row left unanswered, as of the last round
	hung     bool      // a fault froze its loop until release is closed
	release  chan struct{}
	dead     bool   // declared dead by the supervisor
	retiring bool   // scaled down: it stops once idle
	cause    string // why it was declared dead
}

// recentFailures counts failures among the worker's latest results.
func (w *workerState) recentFailures() int {
	n := 0
	for i := range min(w.nOutcomes, recentOutcomes) {
		if w.outcomes[i] {
			n++
		}
	}
	return n
}

// usable reports whether the scheduler may give w work.
func (w *workerState) usable() bool { return w.healthy && !w.dead && !w.retiring }

// pool is the set of workers and their load, shared by the scheduler (which
// assigns), the workers (which release), the supervisor (which adds,
// declares dead and removes) and Snapshot (which reads).
type pool struct {
	mu      sync.Mutex
	workers []*workerState // in creation order; dead ones leave once handled
	seq     int            // the number in the last worker's name
	target  int            // the size the supervisor keeps the pool at
}

func newPool(n int) *pool {
	p := &pool{target: n}
	for range n {
		p.workers = append(p.workers, p.newWorkerLocked())
	}
	return p
}

// newWorkerLocked makes the next worker_N, healthy and idle, without
// adding it.
func (p *pool) newWorkerLocked() *workerState {
	p.seq++
	return &workerState{
		name: fmt.Sprintf("worker_%d", p.seq), healthy: true,
		tasks: make(chan *flight, 1), ping: make(chan uint64, 1), poke: make(chan struct{}, 1),
	}
}

// choice is the scheduler's pick and the reasons for it, in words.
type choice struct {
	w       *workerState
	reasons []string
}

// pick returns the least-loaded healthy worker and marks it busy with the
// intent: fewest tasks in flight (a worker runs one at a time, so an idle
// one), then fewest failures among its recent results, then name order. It
// reports false when every healthy worker is busy.
func (p *pool) pick(intentID string) (choice, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	var best *workerState
	idle, healthy := 0, 0
	for _, w := range p.workers {
		if !w.usable() {
			continue
		}
		healthy++
		if w.busy {
			continue
		}
		idle++
		if best == nil || w.recentFailures() < best.recentFailures() {
			best = w
		}
	}
	if best == nil {
		return choice{}, false
	}
	best.busy, best.intentID = true, intentID
	reasons := []string{fmt.Sprintf("%s is idle (0 tasks in flight): least loaded of %d healthy workers, %d idle", best.name, healthy, idle)}
	switch n, f := min(best.nOutcomes, recentOutcomes), best.recentFailures(); {
	case n == 0:
		reasons = append(reasons, best.name+" has no task history yet")
	case f == 0 && n == 1:
		reasons = append(reasons, best.name+" completed its last task successfully")
	case f == 0:
		reasons = append(reasons, fmt.Sprintf("%s completed its last %d tasks successfully", best.name, n))
	default:
		reasons = append(reasons, fmt.Sprintf("%s had %s in its last %s, the fewest among idle workers",
			best.name, plural(f, "failure"), plural(n, "task")))
	}
	return choice{w: best, reasons: reasons}, true
}

// hasIdle reports whether some healthy worker is free.
func (p *pool) hasIdle() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, w := range p.workers {
		if w.usable() && !w.busy {
			return true
		}
	}
	return false
}

// assign records fl as w's attempt; pick has marked w busy.
func (p *pool) assign(w *workerState, fl *flight) {
	p.mu.Lock()
	w.cur = fl
	p.mu.Unlock()
}

// release frees w after fl. ran is false when the attempt was abandoned
// (engine stopping) or refused, and then counts as no outcome; failed says
// how a run ended. If the supervisor has taken fl back meanwhile, w is
// left as the supervisor set it.
func (p *pool) release(w *workerState, fl *flight, ran, failed bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if w.cur == fl {
		w.busy, w.intentID, w.cur = false, "", nil
	}
	if !ran {
		return
	}
	if failed {
		w.failed++
	} else {
		w.completed++
	}
	w.outcomes[w.nOutcomes%recentOutcomes] = failed
	w.nOutcomes++
}

// infos returns every worker's live state, in creation order.
func (p *pool) infos(now time.Time) []WorkerInfo {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]WorkerInfo, len(p.workers))
	for i, w := range p.workers {
		out[i] = WorkerInfo{Name: w.name, Busy: w.busy, IntentID: w.intentID, Completed: w.completed, Failed: w.failed,
			Healthy: w.usable(), MissedHeartbeats: w.missed}
		if !w.lastBeat.IsZero() {
			out[i].HeartbeatAgeMS = max(now.Sub(w.lastBeat), 0).Milliseconds()
		}
	}
	return out
}

// plural writes "1 task", "3 tasks".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
