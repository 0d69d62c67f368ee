package engine

import (
	"cmp"
	"maps"
	"slices"
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
	// outcomes counts completions and failures by intent type (its
	// typeLabel, so that the map stays as small as the charter).
	outcomes map[string]*typeOutcomes
}

// typeOutcomes are one intent type's finished runs.
type typeOutcomes struct{ completed, failed uint64 }

func newStats() *stats {
	return &stats{byState: make(map[intent.State]int), outcomes: make(map[string]*typeOutcomes)}
}

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

// finish counts one handler run of an intent of type label (typeLabel)
// ending at now in state to (completed, failed or queued again for a
// retry).
func (s *stats) finish(now time.Time, label string, to intent.State) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.outcomes[label]
	if o == nil && (to == intent.StateCompleted || to == intent.StateFailed) {
		o = &typeOutcomes{}
		s.outcomes[label] = o
	}
	switch to {
	case intent.StateCompleted:
		s.completed++
		o.completed++
		s.completes.add(now, 1)
	case intent.StateFailed:
		s.failed++
		o.failed++
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

// byType merges the queued counts (by type label) with the finished
// runs into one figure per type, sorted by type.
func (s *stats) byType(queued map[string]int) []TypeFigures {
	s.mu.Lock()
	figs := make(map[string]*TypeFigures, max(len(queued), len(s.outcomes)))
	get := func(label string) *TypeFigures {
		f := figs[label]
		if f == nil {
			f = &TypeFigures{Type: label}
			figs[label] = f
		}
		return f
	}
	for label, o := range s.outcomes {
		f := get(label)
		f.Completed, f.Failed = o.completed, o.failed
	}
	s.mu.Unlock()
	for label, n := range queued {
		get(label).Queued += n
	}
	out := make([]TypeFigures, 0, len(figs))
	for _, f := range figs {
		out = append(out, *f)
	}
	slices.SortFunc(out, func(a, b TypeFigures) int { return cmp.Compare(a.Type, b.Type) })
	return out
}
