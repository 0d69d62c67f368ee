package engine

import (
	"sync"

	"grace/engine/clarity"
)

// recentSize is how many records Snapshot.Recent holds.
const recentSize = 50

// ring keeps the newest records written, for Snapshot.Recent.
type ring struct {
	mu   sync.Mutex
	recs []clarity.Record
	next int // where the next record goes
	full bool
}

func newRing(n int) *ring { return &ring{recs: make([]clarity.Record, n)} }

// add keeps recs, dropping the oldest beyond the ring's size.
func (r *ring) add(recs ...clarity.Record) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, rec := range recs {
		r.recs[r.next] = rec
		r.next++
		if r.next == len(r.recs) {
			r.next, r.full = 0, true
		}
	}
}

// newest returns the records held, newest first.
func (r *ring) newest() []clarity.Record {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := r.next
	if r.full {
		n = len(r.recs)
	}
	out := make([]clarity.Record, 0, n)
	for i := 1; i <= n; i++ {
		out = append(out, r.recs[(r.next-i+len(r.recs))%len(r.recs)])
	}
	return out
}
