package engine

import (
	"fmt"
	"sync"
)

// recentOutcomes is how many of a worker's latest results count as
// "recent" when choosing between idle workers.
const recentOutcomes = 5

// workerState is one worker's live state. Its fields other than name and
// tasks are guarded by pool.mu.
type workerState struct {
	name  string
	index int
	// tasks carries at most one task: the scheduler sends only to a worker
	// it has just marked busy, so the send never blocks.
	tasks chan task

	busy      bool
	healthy   bool
	intentID  string
	completed uint64
	failed    uint64
	outcomes  [recentOutcomes]bool // true = failure; a ring of the latest results
	nOutcomes int
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

// pool is the set of workers and their load, shared by the scheduler (which
// assigns), the workers (which release) and Snapshot (which reads).
type pool struct {
	mu      sync.Mutex
	workers []*workerState
}

func newPool(n int) *pool {
	p := &pool{workers: make([]*workerState, n)}
	for i := range p.workers {
		p.workers[i] = &workerState{name: fmt.Sprintf("worker_%d", i+1), index: i, tasks: make(chan task, 1), healthy: true}
	}
	return p
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
		if !w.healthy {
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
		if w.healthy && !w.busy {
			return true
		}
	}
	return false
}

// release frees w after a task. ran is false when the task was abandoned
// (engine stopping) or refused, and then counts as no outcome; failed says
// how a run ended.
func (p *pool) release(w *workerState, ran, failed bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	w.busy, w.intentID = false, ""
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

// infos returns every worker's live state, in name order.
func (p *pool) infos() []WorkerInfo {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]WorkerInfo, len(p.workers))
	for i, w := range p.workers {
		out[i] = WorkerInfo{Name: w.name, Busy: w.busy, IntentID: w.intentID, Completed: w.completed, Failed: w.failed}
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
