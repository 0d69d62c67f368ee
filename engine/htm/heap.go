package htm

import "grace/engine/intent"

// entry is one queued intent with its position in whichever heap holds it.
type entry struct {
	it    intent.Intent
	seq   uint64 // admission order; breaks ties between equal keys
	index int    // position in its heap (maintained by Swap) or in the held list
	ready bool   // which heap holds it
	held  bool   // in neither heap but the held list: a hold in force matches it (Queue.Hold)
}

// entryHeap is a container/heap of entries ordered by less, keeping each
// entry's index current so that heap.Remove can take it from the middle.
type entryHeap struct {
	es   []*entry
	less func(a, b *entry) bool
}

// readyFirst orders by priority (high first), then creation time (old
// first), then admission order: the dispatch order.
func readyFirst(a, b *entry) bool {
	if a.it.Priority != b.it.Priority {
		return a.it.Priority > b.it.Priority
	}
	if !a.it.CreatedAt.Equal(b.it.CreatedAt) {
		return a.it.CreatedAt.Before(b.it.CreatedAt)
	}
	return a.seq < b.seq
}

// dueFirst orders by NotBefore (earliest first), then admission order: the
// order in which delayed entries become ready.
func dueFirst(a, b *entry) bool {
	if !a.it.NotBefore.Equal(b.it.NotBefore) {
		return a.it.NotBefore.Before(b.it.NotBefore)
	}
	return a.seq < b.seq
}

func (h *entryHeap) Len() int           { return len(h.es) }
func (h *entryHeap) Less(i, j int) bool { return h.less(h.es[i], h.es[j]) }

func (h *entryHeap) Swap(i, j int) {
	h.es[i], h.es[j] = h.es[j], h.es[i]
	h.es[i].index = i
	h.es[j].index = j
}

func (h *entryHeap) Push(x any) {
	e := x.(*entry)
	e.index = len(h.es)
	h.es = append(h.es, e)
}

func (h *entryHeap) Pop() any {
	n := len(h.es)
	e := h.es[n-1]
	h.es[n-1] = nil
	h.es = h.es[:n-1]
	e.index = -1
	return e
}
