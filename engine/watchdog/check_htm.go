package watchdog

import (
	"fmt"
	"strings"
	"time"
)

// HTMFigures are what the HTM orchestrator check reads.
type HTMFigures struct {
	// Accepting is true while the queue takes work (the engine runs).
	Accepting bool
	// QueueDepth counts the intents queued, Delayed those of them waiting
	// out a retry backoff.
	QueueDepth, Delayed int
	// Capacity, Warn and Critical are the queue's bound and depth
	// thresholds (htm.capacity, htm.warn_depth, htm.critical_depth).
	Capacity, Warn, Critical int
	// Workers is the pool's size; Healthy and Busy count its healthy and
	// busy workers.
	Workers, Healthy, Busy int
	// Refused counts submissions refused since start because the queue
	// was full.
	Refused uint64
	// Runaways are the handlers abandoned (they ignored being told to
	// stop) that still run, longest abandoned first.
	Runaways []Runaway
	// Backend names where the pool's slots run their tasks when that is
	// on remote workers ("nats"); empty for the in-process pool. Workers,
	// Healthy and Busy then count dispatch slots, and RemoteLive the
	// remote workers live to run their tasks.
	Backend    string
	RemoteLive int
}

// Runaway is one abandoned handler still running: its intent's type and
// ID, and since when it was abandoned.
type Runaway struct {
	Type, IntentID string
	Since          time.Time
}

// HTMCheck watches the HTM orchestrator: queue depth against the warn and
// critical depths, healthy workers (any unhealthy one is a warning, fewer
// than t.MinHealthyWorkers critical), submissions refused for a full
// queue since the previous check (critical: work is being turned away), and
// abandoned handlers still running (a warning: they hold no worker, but
// run on unsupervised). It is ready while the queue accepts work.
func HTMCheck(t HTMThresholds, read func() HTMFigures) Component {
	var refused delta
	return Component{Name: NameHTM, Check: func(now time.Time) Result {
		f := read()
		r := Result{Ready: f.Accepting, Metrics: map[string]float64{
			"queue_depth": float64(f.QueueDepth), "queue_delayed": float64(f.Delayed),
			"queue_capacity": float64(f.Capacity), "queue_warn": float64(f.Warn), "queue_critical": float64(f.Critical),
			"worker_count": float64(f.Workers), "healthy_workers": float64(f.Healthy), "busy_workers": float64(f.Busy),
			"refused_total": float64(f.Refused),
		}}
		if !r.Ready {
			r.NotReadyReason = "the HTM queue is not accepting work (engine not started)"
		}
		switch s := grade(float64(f.QueueDepth), float64(f.Warn), float64(f.Critical)); s {
		case Critical:
			r.add("queue_depth", s, fmt.Sprintf("Queue depth %d/%d (critical)", f.QueueDepth, f.Critical))
		case Warn:
			r.add("queue_depth", s, fmt.Sprintf("Queue depth %d/%d (above warning threshold)", f.QueueDepth, f.Warn))
		default:
			r.add("queue_depth", s, fmt.Sprintf("Queue depth %d/%d (within limits)", f.QueueDepth, f.Warn))
		}
		workers := "workers"
		if f.Backend != "" {
			workers = "dispatch slots"
		}
		switch {
		case f.Healthy < t.MinHealthyWorkers:
			r.add("workers", Critical, fmt.Sprintf("%d of %d %s healthy, below the minimum of %d", f.Healthy, f.Workers, workers, t.MinHealthyWorkers))
		case f.Healthy < f.Workers:
			r.add("workers", Warn, fmt.Sprintf("%d of %d %s unhealthy", f.Workers-f.Healthy, f.Workers, workers))
		default:
			r.add("workers", OK, fmt.Sprintf("%d of %d %s healthy, %d busy", f.Healthy, f.Workers, workers, f.Busy))
		}
		r.addRemote(f)
		if n, _ := refused.next(now, f.Refused); n > 0 {
			r.add("queue_overflow", Critical, fmt.Sprintf("%d submissions refused since the last check: the queue is at its capacity of %d", n, f.Capacity))
		} else {
			r.add("queue_overflow", OK, "No submission refused for a full queue since the last check")
		}
		r.addRunaways(now, f.Runaways)
		return r
	}}
}

// addRemote adds the remote_workers finding when the tasks run on remote
// workers: critical while none is live (nothing runs what is dispatched).
func (r *Result) addRemote(f HTMFigures) {
	if f.Backend == "" {
		return
	}
	r.Metrics["remote_workers_live"] = float64(f.RemoteLive)
	if f.RemoteLive == 0 {
		r.add("remote_workers", Critical, fmt.Sprintf("No remote worker connected (backend %s): dispatch holds, %d intents wait in the queue",
			f.Backend, f.QueueDepth))
		return
	}
	r.add("remote_workers", OK, fmt.Sprintf("%d remote worker(s) connected (backend %s)", f.RemoteLive, f.Backend))
}

// addRunaways adds the runaway_handlers finding: OK with none, else a
// warning naming the longest abandoned ones.
func (r *Result) addRunaways(now time.Time, rs []Runaway) {
	r.Metrics["runaway_handlers"] = float64(len(rs))
	if len(rs) == 0 {
		r.add("runaway_handlers", OK, "No abandoned handler still running")
		return
	}
	const named = 3
	parts := make([]string, 0, named+1)
	for _, x := range rs[:min(len(rs), named)] {
		parts = append(parts, fmt.Sprintf("%s (%s) abandoned %s ago", x.Type, x.IntentID, short(now.Sub(x.Since))))
	}
	if len(rs) > named {
		parts = append(parts, fmt.Sprintf("%d more", len(rs)-named))
	}
	r.add("runaway_handlers", Warn, fmt.Sprintf("%d handler(s) ignored being told to stop and run on, abandoned: %s",
		len(rs), strings.Join(parts, "; ")))
}
