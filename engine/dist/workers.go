package dist

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"time"

	"github.com/nats-io/nats.go"

	"grace/engine"
	"grace/engine/clock"
)

// forgetAfter is how many heartbeat intervals a lost or departed worker
// stays in the list before it is dropped.
const forgetAfter = 60

// onHeartbeat notes a worker's heartbeat (see heard).
func (d *Dispatcher) onHeartbeat(m *nats.Msg) {
	var hb heartbeat
	if err := json.Unmarshal(m.Data, &hb); err != nil || hb.Worker == "" {
		d.o.Logger.Warn("malformed worker heartbeat", "err", err)
		return
	}
	d.heard(hb)
}

// heard notes hb, a heartbeat or a join; the first one (or one after it
// was lost) is recorded as the worker joining, a leaving one as it
// leaving. A process other than the live one known under hb.Worker is
// not heard (taken): its heartbeat is ignored and the conflict recorded,
// once, and holder is the live process's latest heartbeat, age how old.
// A process other than a silent one takes the name over.
func (d *Dispatcher) heard(hb heartbeat) (taken bool, holder heartbeat, age time.Duration) {
	now := d.o.Clock.Now()
	d.mu.Lock()
	d.deafRecentlyLocked(now) // a reconnect is seen as it happens
	r, known := d.workers[hb.Worker]
	var after func()
	if known && r.hb.Instance != hb.Instance {
		if taken, after = d.otherProcessLocked(hb, r, now); taken {
			holder, age = r.hb, now.Sub(r.lastBeat)
			d.mu.Unlock()
			after()
			return true, holder, age
		}
		r = d.workers[hb.Worker]
	}
	if !known {
		r = &remote{}
		d.workers[hb.Worker] = r
	}
	wasGone := known && (r.lost || r.hb.Leaving)
	wasLive := known && d.liveLocked(hb.Worker, now)
	r.hb, r.lastBeat, r.lost = hb, now, false
	stale := d.staleRunningLocked(r)
	d.mu.Unlock()
	if after != nil {
		after()
	}
	d.stopStale(now, hb, stale)
	if wasLive == hb.Leaving { // it joins, comes back, or leaves
		defer d.liveChanged()
	}
	switch {
	case hb.Leaving:
		d.o.Logger.Info("remote worker left", "worker", hb.Worker, "host", hb.Host)
		d.rec.add(workerLeftRecord(now, hb))
		d.endStopping(hb.Worker, nil)
	case !known || wasGone:
		d.o.Logger.Info("remote worker joined", "worker", hb.Worker, "host", hb.Host, "slots", hb.Slots)
		d.rec.add(workerJoinedRecord(now, hb, wasGone))
	}
	return false, heartbeat{}, 0
}

// watchLoop checks on every tick of t for workers silent for two
// heartbeat intervals (recorded as lost, with the attempts JetStream will
// deliver again after ack wait), and drops workers gone for long. Within
// two intervals of the control plane hearing again (deafRecentlyLocked),
// after its connection broke or this loop itself stalled, no worker is
// found lost: its heartbeats may be on their way. It stops t when ctx
// ends.
func (d *Dispatcher) watchLoop(ctx context.Context, t clock.Ticker) {
	defer t.Stop()
	last := d.o.Clock.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C():
		}
		now := d.o.Clock.Now()
		var lost []heartbeat
		var ages []time.Duration
		d.mu.Lock()
		if now.Sub(last) > 2*d.o.HeartbeatInterval {
			// This loop did not run for over two intervals: the control plane
			// stalled (paused, frozen, starved), and the heartbeats it
			// has yet to take in are no evidence of silence.
			d.hearsSince = now
		}
		last = now
		deaf := d.deafRecentlyLocked(now)
		for key, a := range d.accepted {
			if now.Sub(a.at) >= forgetAfter*d.o.HeartbeatInterval {
				delete(d.accepted, key)
			}
		}
		for name, r := range d.workers {
			age := now.Sub(r.lastBeat)
			switch {
			case age >= forgetAfter*d.o.HeartbeatInterval && (r.lost || r.hb.Leaving):
				delete(d.workers, name)
			case !r.lost && !r.hb.Leaving && age >= 2*d.o.HeartbeatInterval && !deaf:
				r.lost = true
				lost, ages = append(lost, r.hb), append(ages, age)
			}
		}
		d.mu.Unlock()
		d.lost.Add(uint64(len(lost)))
		if len(lost) > 0 {
			d.liveChanged()
		}
		for i, hb := range lost {
			d.o.Logger.Warn("remote worker lost", "worker", hb.Worker, "host", hb.Host, "running", hb.Running)
			d.rec.add(workerLostRecord(now, hb, ages[i], d.o.HeartbeatInterval, d.o.Stream.AckWait))
			d.endStopping(hb.Worker, &engine.RemoteGivenUp{Holder: hb.Worker,
				Why: fmt.Sprintf("it was lost while it stopped: no heartbeat for %s", ages[i].Round(time.Millisecond))})
		}
	}
}

// LiveWorkers returns how many workers are live at now: heard from within
// two heartbeat intervals, and not leaving (engine.RemoteFleet).
func (d *Dispatcher) LiveWorkers(now time.Time) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	n := 0
	for name := range d.workers {
		if d.liveLocked(name, now) {
			n++
		}
	}
	return n
}

// RemoteCounts returns how many workers were declared lost, and how many
// attempts a redelivery moved from a lost holder to another worker, since
// the dispatcher started (engine.RemoteFleet).
func (d *Dispatcher) RemoteCounts() (lost, redelivered uint64) {
	return d.lost.Load(), d.redelivered.Load()
}

// OnLiveChange sets f, called when a worker joins (or is heard again),
// leaves or is lost (engine.RemoteFleet).
func (d *Dispatcher) OnLiveChange(f func()) { d.onLive.Store(&f) }

func (d *Dispatcher) liveChanged() {
	if f := d.onLive.Load(); f != nil {
		(*f)()
	}
}

// Workers returns the remote workers heard from, by name: Healthy while
// their heartbeats are fresh, Busy while they run an attempt, with their
// Host, State, process Instance, Slots and SlotsBusy (the attempts their
// latest heartbeat lists running). A worker lost or departed stays listed for a while,
// unhealthy, not busy, its State lost or left.
func (d *Dispatcher) Workers(now time.Time) []engine.WorkerInfo {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := make([]engine.WorkerInfo, 0, len(d.workers))
	for name, r := range d.workers {
		age := max(now.Sub(r.lastBeat), 0)
		live := d.liveLocked(name, now)
		wi := engine.WorkerInfo{
			Name: name, Host: r.hb.Host, Busy: live && len(r.hb.Running) > 0, Completed: r.hb.Completed, Failed: r.hb.Failed,
			Healthy: live, HeartbeatAgeMS: age.Milliseconds(), MissedHeartbeats: int(age / d.o.HeartbeatInterval),
			State: engine.RemoteLive, Instance: r.hb.Instance, Slots: r.hb.Slots,
		}
		if live {
			wi.SlotsBusy = len(r.hb.Running)
		}
		switch {
		case r.hb.Leaving:
			wi.State = engine.RemoteLeft
		case !live:
			wi.State = engine.RemoteLost
		}
		if wi.Busy { // the intent of the first attempt it runs, whether or not it is still its to run
			wi.IntentID = r.hb.Running[0]
			if id, _, ok := splitAttemptKey(wi.IntentID); ok {
				wi.IntentID = id
			}
		}
		out = append(out, wi)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Running returns the attempt keys ("<intent ID>#<attempt>") the worker
// called name said it runs in its latest heartbeat.
func (d *Dispatcher) Running(name string) []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	if r, ok := d.workers[name]; ok {
		return append([]string(nil), r.hb.Running...)
	}
	return nil
}
