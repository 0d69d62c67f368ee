package engine

import (
	"fmt"
	"sync"
	"time"
)

// RemoteFleet is a RemoteWorkers that knows which of its workers are live
// (the nats backend's Dispatcher). When Deps.Remote implements it, the
// pool's slots only hand attempts to whichever remote worker claims them,
// so the engine consults it: the scheduler dispatches nothing while no
// remote worker is live (the intents stay queued, and dispatch resumes
// when one joins), the watchdog's htm_orchestrator is critical meanwhile,
// and Layer2's workers_lost and rerouted count the remote workers lost and
// the attempts redelivered to another worker.
type RemoteFleet interface {
	RemoteWorkers
	// LiveWorkers returns how many remote workers are live at now (heard
	// from recently, not leaving).
	LiveWorkers(now time.Time) int
	// RemoteCounts returns how many remote workers were declared lost, and
	// how many attempts moved from a lost holder to another worker, since
	// start.
	RemoteCounts() (lost, redelivered uint64)
	// OnLiveChange sets f, called (without the fleet's locks held) when a
	// remote worker joins, leaves or is lost.
	OnLiveChange(f func())
}

// The record names (What) of dispatch holding for lack of remote workers.
const (
	WhatDispatchHeld    = "dispatch_held_no_workers"
	WhatDispatchResumed = "dispatch_resumed_workers_joined"
)

// remoteHold is the scheduler's hold for lack of live remote workers: on
// since a hold was recorded, until the resume is.
type remoteHold struct {
	mu    sync.Mutex
	on    bool
	since time.Time
}

// fleet returns Deps.Remote as a RemoteFleet, when it is one.
func (e *Engine) fleet() (RemoteFleet, bool) {
	f, ok := e.remote.(RemoteFleet)
	return f, ok
}

// heldForWorkers reports whether dispatch must hold at now because no
// remote worker is live, recording when the hold begins (while work is
// ready) and when it ends.
func (e *Engine) heldForWorkers(now time.Time) bool {
	f, ok := e.fleet()
	if !ok {
		return false
	}
	live := f.LiveWorkers(now)
	e.hold.mu.Lock()
	defer e.hold.mu.Unlock()
	switch {
	case live == 0 && !e.hold.on:
		d := e.queue.Depth()
		queued := d.Len - d.Held // ready, or waiting out a backoff or not_before
		if queued <= 0 {
			return true // nothing to hold yet: recorded once work is queued
		}
		e.hold.on, e.hold.since = true, now
		e.log.Warn("dispatch holds: no remote worker connected", "queued", queued)
		e.note(rec(now, whereScheduler, WhatDispatchHeld, whereScheduler, "remote_worker_check", "held", "",
			[]string{
				fmt.Sprintf("No remote worker is connected (backend %s) while %d intents are queued", e.cfg.Backend.Kind, queued),
				"Dispatch holds: the intents stay queued instead of being published to nobody and timing out; it resumes when a `grace worker` joins",
			}, map[string]any{"queued": queued, "backend": e.cfg.Backend.Kind}))
		return true
	case live == 0:
		return true
	case e.hold.on:
		e.hold.on = false
		e.log.Info("dispatch resumes: remote workers connected", "live", live, "held_for", now.Sub(e.hold.since))
		e.note(rec(now, whereScheduler, WhatDispatchResumed, whereScheduler, "remote_worker_check", "resumed", "",
			[]string{fmt.Sprintf("%d remote worker(s) connected after dispatch held for %s; %d intents queued now dispatch",
				live, roundDur(now.Sub(e.hold.since)), e.queue.Len())},
			map[string]any{"live_workers": live, "held_for_s": now.Sub(e.hold.since).Seconds(), "backend": e.cfg.Backend.Kind}))
	}
	return false
}

// noRemoteWorker reports whether the engine runs its tasks on remote
// workers and none is live at now.
func (e *Engine) noRemoteWorker(now time.Time) bool {
	f, ok := e.fleet()
	return ok && f.LiveWorkers(now) == 0
}
