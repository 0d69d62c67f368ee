package engine

import (
	"maps"
	"sync"
	"time"

	"grace/engine/intent"
)

// stats are the live counters behind Snapshot, updated as the engine moves
// intents, so that a snapshot needs no store I/O.
type stats struct {
	mu         sync.Mutex
	byState    map[intent.State]int
	dispatched uint64
	completed  uint64
	failed     uint64
	rejected   uint64
	dispatches meter
	completes  meter
}

func newStats() *stats { return &stats{byState: make(map[intent.State]int)} }

// move counts one intent leaving from (empty for a new intent) for to.
func (s *stats) move(from, to intent.State) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if from != "" && s.byState[from] > 0 {
		s.byState[from]--
	}
	s.byState[to]++
}

// recovered sets the non-terminal counts found by start-up recovery.
func (s *stats) recovered(counts map[intent.State]int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for st, n := range counts {
		s.byState[st] = n
	}
}

// dispatch counts one dispatch at now.
func (s *stats) dispatch(now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.dispatched++
	s.dispatches.add(now, 1)
	if s.byState[intent.StateQueued] > 0 {
		s.byState[intent.StateQueued]--
	}
	s.byState[intent.StateRunning]++
}

// finish counts one handler run ending at now in state to (completed,
// failed or queued again for a retry).
func (s *stats) finish(now time.Time, to intent.State) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch to {
	case intent.StateCompleted:
		s.completed++
		s.completes.add(now, 1)
	case intent.StateFailed:
		s.failed++
	}
	if s.byState[intent.StateRunning] > 0 {
		s.byState[intent.StateRunning]--
	}
	s.byState[to]++
}

// reject counts one rejected submission.
func (s *stats) reject() {
	s.mu.Lock()
	s.rejected++
	s.mu.Unlock()
}

// fill copies the counters into snap.
func (s *stats) fill(now time.Time, snap *Snapshot) {
	s.mu.Lock()
	defer s.mu.Unlock()
	snap.ByState = maps.Clone(s.byState)
	snap.PendingApprovals = s.byState[intent.StatePendingApproval]
	snap.Dispatched, snap.Completed, snap.Failed, snap.Rejected = s.dispatched, s.completed, s.failed, s.rejected
	snap.DispatchRate = s.dispatches.rate(now)
	snap.CompletionRate = s.completes.rate(now)
}
