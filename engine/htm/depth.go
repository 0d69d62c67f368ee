package htm

import "fmt"

// Level grades the queue depth against the warn and critical thresholds.
type Level int

// The levels, from calm to overloaded.
const (
	LevelOK       Level = iota // below the warn depth
	LevelWarn                  // at or above the warn depth
	LevelCritical              // at or above the critical depth
)

// String returns "ok", "warn" or "critical".
func (l Level) String() string {
	switch l {
	case LevelWarn:
		return "warn"
	case LevelCritical:
		return "critical"
	}
	return "ok"
}

// Depth is a consistent reading of the queue's size and bounds.
type Depth struct {
	Len      int   // queued, delayed included
	Ready    int   // queued with no delay pending (as of the last Pop)
	Delayed  int   // waiting out a NotBefore
	Held     int   // matched by a hold in force (Queue.Hold)
	Reserved int   // room claimed by Reserve, not yet pushed
	Capacity int   // the bound on new work
	Warn     int   // warn depth
	Critical int   // critical depth
	Level    Level // Len graded against Warn and Critical
}

// Describe words the depth for a narrative, e.g. "Queue depth 247/1000
// (within limits)", "Queue depth 1200/1000 (above warning threshold)" or
// "Queue depth 5100/5000 (critical)".
func (d Depth) Describe() string {
	switch d.Level {
	case LevelCritical:
		return fmt.Sprintf("Queue depth %d/%d (critical)", d.Len, d.Critical)
	case LevelWarn:
		return fmt.Sprintf("Queue depth %d/%d (above warning threshold)", d.Len, d.Warn)
	}
	return fmt.Sprintf("Queue depth %d/%d (within limits)", d.Len, d.Warn)
}

// Depth returns the queue's current figures.
func (q *Queue) Depth() Depth {
	q.mu.Lock()
	defer q.mu.Unlock()
	n := len(q.byID)
	return Depth{
		Len: n, Ready: q.ready.Len(), Delayed: q.delayed.Len(), Held: n - q.ready.Len() - q.delayed.Len(), Reserved: q.reserved,
		Capacity: q.capacity, Warn: q.warn, Critical: q.critical, Level: q.levelOf(n),
	}
}

// Level grades the current length against the thresholds.
func (q *Queue) Level() Level {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.levelOf(len(q.byID))
}

func (q *Queue) levelOf(n int) Level {
	switch {
	case n >= q.critical:
		return LevelCritical
	case n >= q.warn:
		return LevelWarn
	}
	return LevelOK
}
