package watchdog

import (
	"time"

	"grace/engine/clarity"
)

// conditionReadiness is the finding (and alert) of a component that is
// not ready once boot readiness has resolved.
const conditionReadiness = "readiness"

// readiness tracks boot: waiting until every component is ready or the
// timeout passes. It belongs to the watchdog's goroutine.
type readiness struct {
	r       Readiness
	timeout time.Duration
	// pending is the record of how boot went, until it is written.
	pending *clarity.Record
}

// begin starts the wait at now.
func (rd *readiness) begin(now time.Time) {
	rd.r = Readiness{State: ReadinessWaiting, Started: now, Deadline: now.Add(rd.timeout)}
}

// advance takes one probe's results: boot resolves when every component is
// ready, or when the deadline has passed (naming those that are not). It
// reports whether this call resolved it.
func (rd *readiness) advance(now time.Time, comps []Component, results []Result) bool {
	if rd.r.State != ReadinessWaiting {
		return false
	}
	var not []NotReady
	for i, res := range results {
		if !res.Ready {
			reason := res.NotReadyReason
			if reason == "" {
				reason = "reports not ready"
			}
			not = append(not, NotReady{Component: comps[i].Name, Reason: reason})
		}
	}
	rd.r.NotReady = not
	switch {
	case len(not) == 0:
		rd.r.State, rd.r.At = ReadinessReady, now
	case !now.Before(rd.r.Deadline):
		rd.r.State, rd.r.At = ReadinessTimedOut, now
	default:
		return false
	}
	names := make([]string, len(comps))
	for i, c := range comps {
		names[i] = c.Name
	}
	rec := readyRecord(rd.r, rd.timeout, names)
	rd.pending = &rec
	return true
}

// finding grades a component's readiness once boot has resolved; while
// waiting, a component not yet ready is given time (no finding).
func (rd *readiness) finding(res Result) (Finding, bool) {
	if rd.r.State == ReadinessWaiting {
		return Finding{}, false
	}
	if res.Ready {
		return Finding{Condition: conditionReadiness, Status: OK, Reason: "Ready"}, true
	}
	reason := res.NotReadyReason
	if reason == "" {
		reason = "reports not ready"
	}
	return Finding{Condition: conditionReadiness, Status: Critical, Reason: "Not ready: " + reason}, true
}
