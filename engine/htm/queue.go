package htm

import (
	"container/heap"
	"errors"
	"fmt"
	"maps"
	"sync"
	"time"

	"grace/engine/intent"
)

// ErrFull is returned by Reserve and Push when the queue, counting
// outstanding reservations, is at capacity.
var ErrFull = errors.New("queue is at capacity")

// Queue is the bounded priority queue of intents waiting for a worker. The
// zero value is not usable; call New.
type Queue struct {
	mu       sync.Mutex
	capacity int
	warn     int
	critical int
	ready    entryHeap
	delayed  entryHeap
	byID     map[string]*entry
	reserved int
	seq      uint64
	// holds are the holds in force (Hold), each with how many queued
	// intents it matches; an entry matching one or more waits in held, in
	// neither heap, until the last of them is lifted (Unhold).
	holds map[Hold]int
	held  []*entry
	// byType counts the queued intents of each type (held or not).
	byType map[string]int
}

// New returns an empty queue holding at most capacity new intents, with the
// warn and critical depths used by Level. It fails unless
// 0 < warn < critical <= capacity.
func New(capacity, warn, critical int) (*Queue, error) {
	switch {
	case capacity < 1:
		return nil, fmt.Errorf("new HTM queue: capacity (%d) must be at least 1", capacity)
	case warn < 1:
		return nil, fmt.Errorf("new HTM queue: warn depth (%d) must be at least 1", warn)
	case warn >= critical:
		return nil, fmt.Errorf("new HTM queue: warn depth (%d) must be below critical depth (%d)", warn, critical)
	case critical > capacity:
		return nil, fmt.Errorf("new HTM queue: critical depth (%d) must not exceed capacity (%d)", critical, capacity)
	}
	return &Queue{capacity: capacity, warn: warn, critical: critical, byID: make(map[string]*entry), byType: make(map[string]int),
		ready: entryHeap{less: readyFirst}, delayed: entryHeap{less: dueFirst}}, nil
}

// Reserve claims room for one intent that is about to be accepted, so that
// a slow durable write cannot let concurrent submissions overshoot the
// capacity. The claim is settled by PushReserved or given back by Release.
// It returns an error wrapping ErrFull, with the figures, when no room is
// left.
func (q *Queue) Reserve() error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if err := q.fullLocked(); err != nil {
		return err
	}
	q.reserved++
	return nil
}

// Release gives back a reservation that will not be pushed. Releasing
// without a reservation does nothing.
func (q *Queue) Release() {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.reserved > 0 {
		q.reserved--
	}
}

// PushReserved adds it in place of a reservation made by Reserve. It never
// fails: the room was claimed. An ID already queued is left as it is (and
// the reservation is given back).
func (q *Queue) PushReserved(it intent.Intent) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.reserved > 0 {
		q.reserved--
	}
	q.addLocked(it)
}

// Push adds a new intent unless the queue is at capacity, in which case it
// returns an error wrapping ErrFull and the queue is unchanged. An ID
// already queued is left as it is.
func (q *Queue) Push(it intent.Intent) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if _, ok := q.byID[it.ID]; ok {
		return nil
	}
	if err := q.fullLocked(); err != nil {
		return err
	}
	q.addLocked(it)
	return nil
}

// Requeue adds an intent that was already accepted (a retry, an intent
// recovered at start-up, an approved Tier 0 intent), even past capacity:
// the bound refuses new work, it never drops accepted work. An ID already
// queued is left as it is.
func (q *Queue) Requeue(it intent.Intent) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.addLocked(it)
}

// Pop removes and returns the intent to dispatch at now: the highest
// priority, then the oldest, among those whose NotBefore is not after now.
// It reports false when none is ready.
func (q *Queue) Pop(now time.Time) (intent.Intent, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for q.delayed.Len() > 0 && !q.delayed.es[0].it.NotBefore.After(now) {
		e := heap.Pop(&q.delayed).(*entry)
		e.ready = true
		heap.Push(&q.ready, e)
	}
	if q.ready.Len() == 0 {
		return intent.Intent{}, false
	}
	e := heap.Pop(&q.ready).(*entry)
	q.forgetLocked(e)
	return e.it, true
}

// NextDue returns the earliest NotBefore among the intents waiting out a
// delay, and false when none is waiting.
func (q *Queue) NextDue() (time.Time, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.delayed.Len() == 0 {
		return time.Time{}, false
	}
	return q.delayed.es[0].it.NotBefore, true
}

// Remove takes the intent with the ID out of the queue, wherever it waits,
// and reports whether it was there.
func (q *Queue) Remove(id string) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	e, ok := q.byID[id]
	if !ok {
		return false
	}
	q.unlinkLocked(e)
	q.forgetLocked(e)
	return true
}

// forgetLocked drops e, out of its heap or the held list, from the index
// and the counts.
func (q *Queue) forgetLocked(e *entry) {
	delete(q.byID, e.it.ID)
	if e.held {
		q.countHoldsLocked(e.it, -1)
	}
	if n := q.byType[e.it.Type]; n > 1 {
		q.byType[e.it.Type] = n - 1
	} else {
		delete(q.byType, e.it.Type)
	}
}

// unlinkLocked takes e out of whichever heap or held list holds it.
func (q *Queue) unlinkLocked(e *entry) {
	switch {
	case e.held:
		q.dropHeldLocked(e)
	case e.ready:
		heap.Remove(&q.ready, e.index)
	default:
		heap.Remove(&q.delayed, e.index)
	}
}

// CountOf returns how many intents of type typ are queued, held or not.
func (q *Queue) CountOf(typ string) int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.byType[typ]
}

// CountByType returns how many intents of each type are queued, held or
// not; a type with none queued is absent.
func (q *Queue) CountByType() map[string]int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return maps.Clone(q.byType)
}

// Contains reports whether the intent with the ID is queued.
func (q *Queue) Contains(id string) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	_, ok := q.byID[id]
	return ok
}

// Len returns how many intents are queued, delayed ones included
// (reservations are not counted).
func (q *Queue) Len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.byID)
}

// addLocked inserts it unless its ID is queued already.
func (q *Queue) addLocked(it intent.Intent) {
	if _, ok := q.byID[it.ID]; ok {
		return
	}
	q.seq++
	e := &entry{it: it, seq: q.seq}
	q.byID[it.ID] = e
	q.byType[it.Type]++
	if len(q.holds) > 0 && q.countHoldsLocked(it, 1) > 0 {
		q.holdLocked(e)
		return
	}
	q.linkLocked(e)
}

// linkLocked puts e into the ready heap, or the delayed one while it has a
// NotBefore.
func (q *Queue) linkLocked(e *entry) {
	if e.it.NotBefore.IsZero() {
		e.ready = true
		heap.Push(&q.ready, e)
		return
	}
	e.ready = false
	heap.Push(&q.delayed, e)
}

// fullLocked returns an error wrapping ErrFull when no room is left.
func (q *Queue) fullLocked() error {
	if n := len(q.byID) + q.reserved; n >= q.capacity {
		return fmt.Errorf("%w: %d queued and %d being accepted, capacity %d", ErrFull, len(q.byID), q.reserved, q.capacity)
	}
	return nil
}
