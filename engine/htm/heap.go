package htm

import "grace/engine/intent"

// entry is one queued intent with its position in whichever heap holds it.
type entry struct {
	it    intent.Intent
	seq   uint64 // admission order; breaks ties between equal keys
	index int    // position in its heap, maintained by Swap
	ready bool   // which heap holds it
}

// readyHeap orders by priority (high first), then creation time (old
// first), then admission order. It implements container/heap.Interface.
type readyHeap []*entry

func (h readyHeap) Len() int { return len(h) }

func (h readyHeap) Less(i, j int) bool {
	a, b := h[i], h[j]
	if a.it.Priority != b.it.Priority {
		return a.it.Priority > b.it.Priority
	}
	if !a.it.CreatedAt.Equal(b.it.CreatedAt) {
		return a.it.CreatedAt.Before(b.it.CreatedAt)
	}
	return a.seq < b.seq
}

func (h readyHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index = i
	h[j].index = j
}

func (h *readyHeap) Push(x any) {
	e := x.(*entry)
	e.index = len(*h)
	*h = append(*h, e)
}

func (h *readyHeap) Pop() any {
	old := *h
	n := len(old)
	e := old[n-1]
	old[n-1] = nil
	*h = old[:n-1]
	e.index = -1
	return e
}

// delayedHeap orders by NotBefore (earliest first), then admission order.
type delayedHeap []*entry

func (h delayedHeap) Len() int { return len(h) }

func (h delayedHeap) Less(i, j int) bool {
	a, b := h[i], h[j]
	if !a.it.NotBefore.Equal(b.it.NotBefore) {
		return a.it.NotBefore.Before(b.it.NotBefore)
	}
	return a.seq < b.seq
}

func (h delayedHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index = i
	h[j].index = j
}

func (h *delayedHeap) Push(x any) {
	e := x.(*entry)
	e.index = len(*h)
	*h = append(*h, e)
}

func (h *delayedHeap) Pop() any {
	old := *h
	n := len(old)
	e := old[n-1]
	old[n-1] = nil
	*h = old[:n-1]
	e.index = -1
	return e
}
