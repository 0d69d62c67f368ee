package engine

import (
	"sort"
	"sync"
	"time"
)

// deadlines tracks when each pending approval known to this engine
// expires. Pending approvals are few (they wait for people), so a map
// scanned on each expiry tick is enough.
type deadlines struct {
	mu sync.Mutex
	at map[string]time.Time
}

func newDeadlines() *deadlines { return &deadlines{at: make(map[string]time.Time)} }

func (d *deadlines) track(id string, at time.Time) {
	d.mu.Lock()
	d.at[id] = at
	d.mu.Unlock()
}

func (d *deadlines) forget(id string) {
	d.mu.Lock()
	delete(d.at, id)
	d.mu.Unlock()
}

func (d *deadlines) len() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.at)
}

// due returns the IDs whose deadline is not after now, earliest first.
func (d *deadlines) due(now time.Time) []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	var ids []string
	for id, at := range d.at {
		if !at.After(now) {
			ids = append(ids, id)
		}
	}
	sort.Slice(ids, func(i, j int) bool { return d.at[ids[i]].Before(d.at[ids[j]]) })
	return ids
}
