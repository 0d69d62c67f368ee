package dist

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"

	"grace/engine"
	"grace/engine/clarity"
)

// maxConflicts bounds the other processes recorded per name.
const maxConflicts = 64

// conflict is another process heard under a live worker's name.
type conflict struct {
	since    time.Time // first heard
	recorded bool
}

// otherProcessLocked handles hb from a process other than the one r knows
// under hb.Worker. While r's process is live the name is taken: hb is not
// heard, and after records the conflict (once per process, when the
// holder has been heard since that process was first refused). Otherwise
// hb's process takes the name over: r is replaced by an entry that reads
// as gone (so that hb is recorded as a join), and after records the
// silent holder as lost if the watch loop has not yet. Called with d.mu
// held; call after once it is released.
func (d *Dispatcher) otherProcessLocked(hb heartbeat, r *remote, now time.Time) (taken bool, after func()) {
	old, age := r.hb, now.Sub(r.lastBeat)
	if d.liveLocked(hb.Worker, now) {
		// A conflict is recorded once the holder is heard after the
		// newcomer was first refused: a holder that has just died (its
		// process restarted under the name) never is.
		c, seen := r.conflicts[hb.Instance]
		if !seen && len(r.conflicts) < maxConflicts {
			if r.conflicts == nil {
				r.conflicts = map[string]*conflict{}
			}
			c = &conflict{since: now}
			r.conflicts[hb.Instance] = c
		}
		record := c != nil && !c.recorded && r.lastBeat.After(c.since)
		if record {
			c.recorded = true
		}
		return true, func() {
			if !record {
				return
			}
			d.o.Logger.Warn("remote worker name in use by another live process: refused", "worker", hb.Worker,
				"host", hb.Host, "pid", hb.PID, "live_host", old.Host, "live_pid", old.PID)
			d.rec.add(nameConflictRecord(now, hb, old, age))
		}
	}
	silent := !r.lost && !old.Leaving
	var done []chan error
	if silent {
		done = d.endStoppingLocked(old.Worker, old.Instance)
	}
	d.workers[hb.Worker] = &remote{hb: old, lastBeat: r.lastBeat, lost: true}
	return false, func() {
		if !silent {
			return
		}
		d.o.Logger.Warn("remote worker lost", "worker", old.Worker, "host", old.Host, "running", old.Running)
		d.lost.Add(1)
		d.rec.add(workerLostRecord(now, old, age, d.o.HeartbeatInterval, d.o.Stream.AckWait))
		for _, c := range done {
			c <- &engine.RemoteGivenUp{Holder: old.Worker,
				Why: fmt.Sprintf("it was lost while it stopped: silent for %s, a new process took its name", age.Round(time.Millisecond))}
		}
	}
}

// onJoin answers a worker process that asks, before it takes any task, to
// run under its name: refused while another live process holds it
// (recorded as remote_worker_name_conflict), granted otherwise (recorded
// as remote_worker_joined).
func (d *Dispatcher) onJoin(m *nats.Msg) {
	var req joinReq
	if err := json.Unmarshal(m.Data, &req); err != nil || req.Worker == "" || req.Instance == "" {
		d.reply(m, joinReply{Reason: fmt.Sprintf("malformed join request: %v", err)})
		return
	}
	hb := heartbeat{Worker: req.Worker, Host: req.Host, PID: req.PID, Slots: req.Slots, Instance: req.Instance, At: d.o.Clock.Now()}
	taken, holder, age := d.heard(hb)
	if !taken {
		d.reply(m, joinReply{Granted: true})
		return
	}
	d.reply(m, joinReply{Host: holder.Host, PID: holder.PID, WindowMS: (2 * d.o.HeartbeatInterval).Milliseconds(),
		Reason: fmt.Sprintf("worker name %q is in use by a live worker on %s (pid %d), heard %v ago: names are unique among workers",
			req.Worker, holder.Host, holder.PID, age.Round(time.Millisecond))})
}

func nameConflictRecord(now time.Time, hb, holder heartbeat, age time.Duration) clarity.Record {
	r := newRec(now, actorDispatcher, WhatRemoteNameConflict, hb.Host, "heartbeat_monitoring", "refused", "",
		[]string{
			fmt.Sprintf("A worker process (pid %d) on %s announced itself as %s", hb.PID, hb.Host, hb.Worker),
			fmt.Sprintf("%s is the name of a live worker on %s (pid %d), heard %v ago: names are unique among workers, so the newcomer was refused and takes no task",
				hb.Worker, holder.Host, holder.PID, age.Round(time.Millisecond)),
		},
		map[string]any{"worker": hb.Worker, "host": hb.Host, "pid": hb.PID, "live_host": holder.Host, "live_pid": holder.PID})
	r.Confidence, r.Risk = 0.9, 0.5
	return r
}
