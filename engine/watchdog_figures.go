package engine

import (
	"time"

	"grace/engine/watchdog"
)

// The live figures the watchdog's checks read: in-memory, no I/O.

// htmFigures reads the HTM queue and the worker pool.
func (e *Engine) htmFigures() watchdog.HTMFigures {
	d := e.queue.Depth()
	members, usable, busy := e.pool.watchCounts()
	f := watchdog.HTMFigures{
		Accepting: e.accepting.Load(), QueueDepth: d.Len, Delayed: d.Delayed,
		Capacity: d.Capacity, Warn: d.Warn, Critical: d.Critical,
		Workers: max(members, e.pool.size()), Healthy: usable, Busy: busy,
		Refused: e.watch.refused.Load(), Runaways: e.runawayFigures(),
	}
	if fl, ok := e.fleet(); ok {
		f.Backend, f.RemoteLive = orDefault(e.cfg.Backend.Kind, "remote"), fl.LiveWorkers(e.clock.Now())
	}
	return f
}

// runawayFigures lists the abandoned handlers still running.
func (e *Engine) runawayFigures() []watchdog.Runaway {
	rs := e.runaways.list()
	if len(rs) == 0 {
		return nil
	}
	out := make([]watchdog.Runaway, len(rs))
	for i, h := range rs {
		out[i] = watchdog.Runaway{Type: h.Type, IntentID: h.IntentID, Since: h.AbandonedAt}
	}
	return out
}

// schedulerFigures reads the dispatch loop's state, its pause and rate.
func (e *Engine) schedulerFigures() watchdog.SchedulerFigures {
	now := e.clock.Now()
	d := e.queue.Depth()
	_, usable, busy := e.pool.watchCounts()
	dispatched, rate := e.stats.dispatchFigures(now)
	f := watchdog.SchedulerFigures{
		Running: e.ready.Load(), Waiting: max(d.Len-d.Delayed-d.Held, 0), Idle: max(usable-busy, 0),
		DispatchRate: rate, Dispatched: dispatched,
		RateWarmup: now.Sub(time.Unix(0, e.watch.startedAt.Load())) < meterWindow,
	}
	if e.noRemoteWorker(now) { // the slots are idle, but nobody would run what they take
		f.Idle = 0
	}
	if p, on := e.pause.current(); on {
		f.Paused, f.PausedSince, f.PauseReason = true, p.Since, "by "+p.By+": "+p.Reason
	}
	for _, t := range e.PausedTypes() {
		f.PausedTypes = append(f.PausedTypes, watchdog.PausedType{Type: t.Type, Since: t.Since, Reason: "by " + t.By + ": " + t.Reason, Waiting: t.Waiting})
	}
	for _, a := range e.PausedActors() {
		f.PausedActors = append(f.PausedActors, watchdog.PausedActor{Actor: a.Actor, Since: a.Since, Reason: "by " + a.By + ": " + a.Reason, Waiting: a.Waiting})
	}
	return f
}

// watchCounts returns how many workers are members of the pool (not
// retiring), how many of those can take work, and how many of those are
// busy.
func (p *pool) watchCounts() (members, usable, busy int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, w := range p.workers {
		if w.retiring {
			continue
		}
		members++
		if w.usable() {
			usable++
			if w.busy {
				busy++
			}
		}
	}
	return members, usable, busy
}

// dispatchFigures returns the dispatches since start and their rate per
// second over the last 10 s.
func (s *stats) dispatchFigures(now time.Time) (dispatched uint64, rate float64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.dispatched, s.dispatches.rate(now)
}
