package dist

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// A worker's heartbeat lists the attempts its process runs. One that is
// no longer that process's to run is told to stop again at every
// heartbeat that lists it, whatever the reason it still runs: a cancel
// published once, at most once, on grace.ctl.cancel can be lost, and a
// worker declared lost (silent, not dead: a stall, a partition) can come
// back still running an attempt whose claim has since moved to another
// worker. The second heartbeat in a row that lists it, the attempt not
// being one the control plane is already stopping, is recorded as
// remote_stale_attempt_stopped.

// staleRun is an attempt a worker process runs that is not its to run.
type staleRun struct {
	key, id  string
	attempt  int
	why      string
	stopping bool // the control plane is stopping it (its cancel is sent again)
	record   bool // listed by the second heartbeat in a row: recorded
}

// splitAttemptKey parses an attempt key, "<intent ID>#<attempt>".
func splitAttemptKey(key string) (id string, attempt int, ok bool) {
	i := strings.LastIndexByte(key, '#')
	if i <= 0 {
		return "", 0, false
	}
	n, err := strconv.Atoi(key[i+1:])
	if err != nil || n < 0 {
		return "", 0, false
	}
	return key[:i], n, true
}

// staleRunningLocked returns the attempts r's latest heartbeat lists as
// running that are not its process's to run: awaiting no result any more
// (settled, timed out, cancelled, or published by an earlier control
// plane), claimed by another process since, or being stopped. Called with
// d.mu held.
func (d *Dispatcher) staleRunningLocked(r *remote) []staleRun {
	hb := r.hb
	for key, beat := range r.reported {
		if hb.Seq > beat { // heartbeats come in order: none older than this one is to come
			delete(r.reported, key)
		}
	}
	if hb.Leaving || len(hb.Running) == 0 {
		r.stale = nil
		return nil
	}
	var out []staleRun
	seen := map[string]int{}
	for _, key := range hb.Running {
		id, attempt, ok := splitAttemptKey(key)
		if !ok {
			continue
		}
		if beat, ok := r.reported[key]; ok && hb.Seq <= beat {
			continue // sent before the result it ran to, heard after it (the control plane stalled)
		}
		s := staleRun{key: key, id: id, attempt: attempt}
		p, pend := d.pending[key]
		switch {
		case !pend || p.settled:
			s.why = "the attempt awaits no result any more (it was settled, timed out or cancelled, or published before the control plane started)"
		case p.holder == "":
			s.why = "no worker holds the attempt's claim"
		case p.holder != hb.Worker || p.inst != hb.Instance:
			s.why = fmt.Sprintf("the attempt's claim moved to %s on %s after this worker went silent", p.holder, p.host)
			if p.holder == hb.Worker {
				s.why = fmt.Sprintf("the attempt's claim is held by another process of %s, on %s", p.holder, p.host)
			}
		case p.stopping:
			s.why, s.stopping = "the control plane told it to stop the attempt", true
		default:
			continue
		}
		seen[key] = r.stale[key] + 1
		s.record = seen[key] == 2 && !s.stopping
		out = append(out, s)
	}
	r.stale = seen
	return out
}

// stopStale tells hb's process alone to stop each of stale, and records
// those that are to be recorded.
func (d *Dispatcher) stopStale(now time.Time, hb heartbeat, stale []staleRun) {
	for _, s := range stale {
		if hb.Instance == "" && !s.stopping {
			// Without its process's instance the cancel would reach
			// whichever worker holds the attempt now, too.
			continue
		}
		b, err := json.Marshal(cancelMsg{ID: s.id, Attempt: s.attempt, Instance: hb.Instance})
		if err == nil {
			_ = d.nc.Publish(subjectCancel, b)
		}
		if s.record {
			d.o.Logger.Warn("remote worker runs an attempt that is not its to run: told to stop", "worker", hb.Worker, "attempt", s.key, "why", s.why)
			d.rec.add(staleRunningRecord(now, hb, s))
		}
	}
}
