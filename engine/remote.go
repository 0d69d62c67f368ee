package engine

import (
	"context"
	"fmt"
	"sync"
	"time"

	"grace/engine/intent"
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
	// told is what the watchdog was last asked to check again for:
	// 0 nothing yet, 1 no remote worker live, 2 some (remoteLiveChanged).
	told int
}

// remoteLiveChanged is the fleet's OnLiveChange: a remote worker joined,
// left or was lost. It wakes the scheduler (a worker joining ends a hold)
// and, when the remote workers went from none live to some or back, has
// the watchdog check now rather than at its next interval: its
// remote_workers finding (critical while none is live) follows the live
// workers, so `grace health` does not say "No remote worker connected"
// for up to watchdog.interval after the first worker joined (at start,
// before any worker was heard, it is critical, as it is true).
func (e *Engine) remoteLiveChanged() {
	e.wake()
	f, ok := e.fleet()
	if !ok {
		return
	}
	now := 1
	if f.LiveWorkers(e.clock.Now()) > 0 {
		now = 2
	}
	e.hold.mu.Lock()
	changed := e.hold.told != now
	e.hold.told = now
	e.hold.mu.Unlock()
	if wd := e.watch.wd.Load(); changed && wd != nil {
		wd.Recheck()
	}
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

// RemoteHolder is the remote worker whose claim on an attempt stands: the
// one that runs it, and whose result alone counts.
type RemoteHolder struct {
	Worker string // its name (grace worker --name)
	Host   string // the machine it runs on
}

// holderKey keys a handler context's *holderNote.
type holderKey struct{}

// holderNote is how a remote handler tells the engine which remote worker
// holds its attempt (ReportRemoteHolder). One per attempt, in the context
// the engine gives the attempt's handler.
type holderNote struct {
	e  *Engine
	fl *flight
	mu sync.Mutex
	h  RemoteHolder // the latest holder reported; zero while none
}

// withHolderNote returns ctx carrying a note for fl's remote holder, when
// the engine runs its handlers on remote workers (Deps.Remote is set), and
// ctx with a nil note otherwise.
func (e *Engine) withHolderNote(ctx context.Context, fl *flight) (context.Context, *holderNote) {
	if e.remote == nil {
		return ctx, nil
	}
	n := &holderNote{e: e, fl: fl}
	return context.WithValue(ctx, holderKey{}, n), n
}

// holder returns the latest holder reported on n; zero when none was (or
// n is nil).
func (n *holderNote) holder() RemoteHolder {
	if n == nil {
		return RemoteHolder{}
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.h
}

// ReportRemoteHolder tells the engine, through ctx (the context the engine
// gave a handler), that the remote worker h now holds the handler's
// attempt: its claim was granted, first or after a redelivery from a lost
// holder. While the attempt holds its lease, the intent's worker becomes
// h.Worker on the record (and in an intent event), and the attempt's
// outcome records name h, with the control plane's dispatch slot as
// context. Call it before telling the worker its claim stands, so that the
// engine hears of the holder before the attempt's result. It may wait
// while the store's write queue is full. Outside an engine's handler
// context, or for an attempt whose lease is gone (settled, cancelled,
// taken back), it does nothing but remember h.
func ReportRemoteHolder(ctx context.Context, h RemoteHolder) {
	n, _ := ctx.Value(holderKey{}).(*holderNote)
	if n == nil || h.Worker == "" {
		return
	}
	n.mu.Lock()
	n.h = h
	n.mu.Unlock()
	n.e.holderClaimed(n.fl, h)
}

// holderClaimed writes fl's intent with h as its worker, if fl still holds
// the intent's lease. The write is queued under the leases' lock, so that
// it lands before whatever a settle, cancel or reroute (each of which
// takes the lease first) writes next: it can never undo their change. It
// announces no state on the trigger mesh (the intent was dispatched
// already); subscribers to intent events see the new worker.
func (e *Engine) holderClaimed(fl *flight, h RemoteHolder) {
	in := fl.in
	in.Worker, in.UpdatedAt = h.Worker, e.clock.Now()
	c := &intent.Change{Update: &in}
	e.leases.mu.Lock()
	defer e.leases.mu.Unlock()
	if a, ok := e.leases.by[in.ID]; !ok || a != in.Attempts {
		return
	}
	fl.holder = h
	e.store.ApplyAsync(c, func(_ intent.Result, err error) {
		if err != nil {
			e.log.Error("record the remote worker holding an attempt", "intent_id", in.ID, "attempt", in.Attempts, "worker", h.Worker, "err", err)
			return
		}
		e.subs.publish(Event{Kind: "intent", Intent: in}, false)
	})
}

// assignee is the intent's worker when it is dispatched to c's worker:
// that worker, or none yet when it is a dispatch slot to remote workers.
// The remote worker whose claim on the attempt is granted becomes it
// (ReportRemoteHolder).
func (e *Engine) assignee(c choice) string {
	if _, remote := e.fleet(); remote {
		return ""
	}
	return c.w.name
}

// RemoteGivenUp is what a remote handler returns (wrapped) when the
// attempt ended (cancelled, timed out, the engine stopping) and the
// control plane stopped waiting for its holder without hearing the
// holder's handler end: the holder did not answer (silent, lost, cut off
// or paused), so its handler may still run there, and a result it sends
// later is refused. The record of the attempt's end says so, not that
// the handler returned.
type RemoteGivenUp struct {
	// Holder is the remote worker whose claim stood; Why says how it did
	// not answer ("its heartbeats stopped 2.4s before").
	Holder, Why string
}

func (g *RemoteGivenUp) Error() string {
	return fmt.Sprintf("gave up on the attempt: its holder %s did not answer (%s)", g.Holder, g.Why)
}
