package watchdog

import (
	"fmt"
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
}

// HTMCheck watches the HTM orchestrator: queue depth against the warn and
// critical depths, healthy workers (any unhealthy one is a warning, fewer
// than t.MinHealthyWorkers critical), and submissions refused for a full
// queue since the previous check (critical: work is being turned away). It
// is ready while the queue accepts work.
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
		switch {
		case f.Healthy < t.MinHealthyWorkers:
			r.add("workers", Critical, fmt.Sprintf("%d of %d workers healthy, below the minimum of %d", f.Healthy, f.Workers, t.MinHealthyWorkers))
		case f.Healthy < f.Workers:
			r.add("workers", Warn, fmt.Sprintf("%d of %d workers unhealthy", f.Workers-f.Healthy, f.Workers))
		default:
			r.add("workers", OK, fmt.Sprintf("%d of %d workers healthy, %d busy", f.Healthy, f.Workers, f.Busy))
		}
		if n, _ := refused.next(now, f.Refused); n > 0 {
			r.add("queue_overflow", Critical, fmt.Sprintf("%d submissions refused since the last check: the queue is at its capacity of %d", n, f.Capacity))
		} else {
			r.add("queue_overflow", OK, "No submission refused for a full queue since the last check")
		}
		return r
	}}
}
