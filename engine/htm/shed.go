package htm

import (
	"sort"

	"grace/engine/intent"
)

// Shed removes up to max queued intents for which match reports true and
// returns them, lowest priority first and oldest first within a priority
// (by the time each was due, see Due): the work that matters least goes
// first. Ready, delayed and held intents are all considered. An intent handed
// to Pop is no longer queued, so it is never both dispatched and shed. max < 1 removes nothing.
func (q *Queue) Shed(match func(intent.Intent) bool, max int) []intent.Intent {
	if max < 1 {
		return nil
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	var victims []*entry
	for _, e := range q.byID {
		if match(e.it) {
			victims = append(victims, e)
		}
	}
	sort.Slice(victims, func(i, j int) bool {
		a, b := victims[i], victims[j]
		if a.it.Priority != b.it.Priority {
			return a.it.Priority < b.it.Priority
		}
		if da, db := Due(a.it), Due(b.it); !da.Equal(db) {
			return da.Before(db)
		}
		return a.seq < b.seq
	})
	if len(victims) > max {
		victims = victims[:max]
	}
	out := make([]intent.Intent, len(victims))
	for i, e := range victims {
		q.unlinkLocked(e)
		q.forgetLocked(e)
		out[i] = e.it
	}
	return out
}
