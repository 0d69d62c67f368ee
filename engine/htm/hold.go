package htm

import (
	"container/heap"
	"strings"

	"grace/engine/intent"
)

// HoldBy is what a Hold matches an intent by.
type HoldBy uint8

// The fields a hold matches on.
const (
	ByType  HoldBy = iota + 1 // the intent's type
	ByActor                   // the intent's actor
)

// Hold names the intents held back together: those of one intent type, or
// those of one actor. An intent may match several holds in force (its type
// and its actor); it stays held until the last of them is lifted.
type Hold struct {
	By   HoldBy
	Name string
}

// TypeHold is the hold of the intents of type typ.
func TypeHold(typ string) Hold { return Hold{By: ByType, Name: typ} }

// ActorHold is the hold of the intents actor submitted. Actors are
// named without regard to case (as the approval rules compare them, and as
// identities are told apart), so that a quarantine of "Agent.X" holds the
// intents of agent.x: its Name is actor in lower case.
func ActorHold(actor string) Hold { return Hold{By: ByActor, Name: strings.ToLower(actor)} }

// String words h as "type deploy" or "actor agent.x".
func (h Hold) String() string {
	if h.By == ByActor {
		return "actor " + h.Name
	}
	return "type " + h.Name
}

// matches reports whether h holds it back.
func (h Hold) matches(it intent.Intent) bool {
	switch h.By {
	case ByType:
		return it.Type == h.Name
	case ByActor:
		return ActorHold(it.Actor) == h
	}
	return false
}

// Hold holds back the intents h matches, queued and to come: they stay
// queued (counted in the depth, found by Remove and Shed) but Pop passes
// them over until Unhold. It returns how many queued intents h matches
// (those another hold held already included), and false when h is in
// force already. It scans the queue once.
func (q *Queue) Hold(h Hold) (int, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if n, ok := q.holds[h]; ok {
		return n, false
	}
	if q.holds == nil {
		q.holds = map[Hold]int{}
	}
	n := 0
	for _, e := range q.held { // held already by another hold
		if h.matches(e.it) {
			n++
		}
	}
	for _, hp := range []*entryHeap{&q.ready, &q.delayed} {
		all, kept := hp.es, hp.es[:0]
		for _, e := range all {
			if h.matches(e.it) {
				q.holdLocked(e)
				n++
				continue
			}
			e.index = len(kept)
			kept = append(kept, e)
		}
		clear(all[len(kept):])
		hp.es = kept
		heap.Init(hp)
	}
	q.holds[h] = n
	return n, true
}

// Unhold lifts h: the intents it held that no other hold in force matches
// can be popped again. It returns how many queued intents h matched, and
// false when h was not in force.
func (q *Queue) Unhold(h Hold) (int, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	n, ok := q.holds[h]
	if !ok {
		return 0, false
	}
	delete(q.holds, h)
	kept := q.held[:0]
	for _, e := range q.held {
		if !h.matches(e.it) || q.matchesLocked(e.it) {
			e.index = len(kept)
			kept = append(kept, e)
			continue
		}
		e.held = false
		q.linkLocked(e)
	}
	clear(q.held[len(kept):])
	q.held = kept
	return n, true
}

// Held reports whether h is in force.
func (q *Queue) Held(h Hold) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	_, ok := q.holds[h]
	return ok
}

// HoldsBack reports whether a hold in force matches it: queued, it would
// be passed over.
func (q *Queue) HoldsBack(it intent.Intent) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.matchesLocked(it)
}

// HeldCounts returns, for each hold in force, how many queued intents it
// matches (0 for one with none waiting). An intent that two holds match
// counts under both.
func (q *Queue) HeldCounts() map[Hold]int {
	q.mu.Lock()
	defer q.mu.Unlock()
	out := make(map[Hold]int, len(q.holds))
	for h, n := range q.holds {
		out[h] = n
	}
	return out
}

// matchesLocked reports whether a hold in force matches it: two map
// look-ups, one per field a hold can match.
func (q *Queue) matchesLocked(it intent.Intent) bool {
	if len(q.holds) == 0 {
		return false
	}
	_, byType := q.holds[TypeHold(it.Type)]
	_, byActor := q.holds[ActorHold(it.Actor)]
	return byType || byActor
}

// countHoldsLocked adds d to the count of each hold in force that matches
// it, and returns how many match.
func (q *Queue) countHoldsLocked(it intent.Intent, d int) int {
	matched := 0
	for _, h := range [...]Hold{TypeHold(it.Type), ActorHold(it.Actor)} {
		if n, ok := q.holds[h]; ok {
			q.holds[h] = n + d
			matched++
		}
	}
	return matched
}

// holdLocked puts e, in no heap, into the held list.
func (q *Queue) holdLocked(e *entry) {
	e.held = true
	e.index = len(q.held)
	q.held = append(q.held, e)
}

// dropHeldLocked takes e out of the held list (it stays marked held until
// forgotten).
func (q *Queue) dropHeldLocked(e *entry) {
	last := len(q.held) - 1
	if i := e.index; i != last {
		q.held[i] = q.held[last]
		q.held[i].index = i
	}
	q.held[last] = nil
	q.held = q.held[:last]
	e.index = -1
}

// Matching returns how many queued intents h matches, whether h is in
// force or not, and how many of those another hold in force matches (they
// stay held when h is lifted). It scans the queue.
func (q *Queue) Matching(h Hold) (n, heldElsewhere int) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for _, e := range q.byID {
		if !h.matches(e.it) {
			continue
		}
		n++
		for _, o := range [...]Hold{TypeHold(e.it.Type), ActorHold(e.it.Actor)} {
			if _, ok := q.holds[o]; ok && o != h {
				heldElsewhere++
				break
			}
		}
	}
	return n, heldElsewhere
}
