package watchdog

import (
	"fmt"
	"time"
)

// MeshFigures are what the trigger mesh check reads.
type MeshFigures struct {
	// Running is true while the mesh delivers events.
	Running bool
	// Topics and Subscriptions count what is registered.
	Topics, Subscriptions int
	// EventRate is events published per second over the mesh's recent
	// window.
	EventRate float64
	// QueueDepth counts events buffered for subscribers, all together.
	QueueDepth int
	// Published and Dropped count events since start: published to a
	// topic, and dropped by a subscription's backpressure policy.
	Published, Dropped uint64
}

// MeshCheck watches the trigger mesh: subscriptions (fewer than
// t.MinSubscriptions is a warning, none critical) and backpressure (events
// dropped per second since the previous check, graded against
// t.DropRateWarn and t.DropRateCritical). It is ready while the mesh runs.
func MeshCheck(t MeshThresholds, read func() MeshFigures) Component {
	var dropped delta
	return Component{Name: NameMesh, Check: func(now time.Time) Result {
		f := read()
		n, span := dropped.next(now, f.Dropped)
		rate := perSecond(n, span)
		r := Result{Ready: f.Running, Metrics: map[string]float64{
			"subscriptions": float64(f.Subscriptions), "topics": float64(f.Topics), "event_rate": f.EventRate,
			"event_queue_depth": float64(f.QueueDepth), "published_total": float64(f.Published),
			"dropped_total": float64(f.Dropped), "drop_rate": rate,
		}}
		if !r.Ready {
			r.NotReadyReason = "the trigger mesh is not running"
		}
		switch {
		case f.Subscriptions == 0 && t.MinSubscriptions > 0:
			r.add("subscriptions", Critical, "No subscriptions: events reach nobody")
		case f.Subscriptions < t.MinSubscriptions:
			r.add("subscriptions", Warn, fmt.Sprintf("%d subscriptions, below the minimum of %d", f.Subscriptions, t.MinSubscriptions))
		default:
			r.add("subscriptions", OK, fmt.Sprintf("%d subscriptions on %d topics (minimum %d)", f.Subscriptions, f.Topics, t.MinSubscriptions))
		}
		s := grade(rate, t.DropRateWarn, t.DropRateCritical)
		if s == OK {
			r.add("backpressure", OK, fmt.Sprintf("%d events dropped since the last check (%.1f/s, warn at %.1f/s); %d buffered",
				n, rate, t.DropRateWarn, f.QueueDepth))
		} else {
			r.add("backpressure", s, fmt.Sprintf("Backpressure: %d events dropped since the last check, %.1f/s (warn %.1f/s, critical %.1f/s); %d buffered",
				n, rate, t.DropRateWarn, t.DropRateCritical, f.QueueDepth))
		}
		return r
	}}
}
