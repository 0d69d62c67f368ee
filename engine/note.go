package engine

import (
	"grace/engine/clarity"
	"grace/engine/intent"
)

// note writes records that go with no intent change (a worker declared
// dead, a shedding decision, a scaling decision) behind every change
// queued before them, without waiting for durability; once durable they
// join Snapshot.Recent. A write that fails is logged by applyAsync.
func (e *Engine) note(recs ...clarity.Record) {
	if len(recs) == 0 {
		return
	}
	e.applyAsync(&intent.Change{Records: recs})
}
