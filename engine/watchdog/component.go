package watchdog

import (
	"strings"
	"time"
)

// Component is one thing the watchdog watches: a name and a check.
type Component struct {
	// Name identifies the component in reports, alerts and telemetry
	// ("htm_orchestrator"). Names are unique within a watchdog.
	Name string
	// Check grades the component at now. The watchdog calls it from its
	// own goroutine, one call at a time, so a check may keep state between
	// calls (the previous value of a counter, when progress was last
	// seen). It must be quick and must not block: it reads in-memory
	// figures, never a disk or the network.
	Check func(now time.Time) Result
}

// Result is one check's verdict on its component.
type Result struct {
	// Ready reports whether the component has started and can do its
	// work. Readiness is separate from health: a paused scheduler is ready
	// but not healthy.
	Ready bool `json:"ready"`
	// NotReadyReason says why Ready is false; empty when ready.
	NotReadyReason string `json:"not_ready_reason,omitempty"`
	// Findings are the conditions examined, each graded; the component's
	// status is the worst of them. A condition within its limits is a
	// finding too (status OK), so a report shows what was looked at.
	Findings []Finding `json:"findings"`
	// Metrics are the figures the check read ("queue_depth",
	// "worker_count"); telemetry carries them.
	Metrics map[string]float64 `json:"metrics,omitempty"`
}

// Finding is one condition a check examined.
type Finding struct {
	// Condition is a stable name for what was examined ("queue_depth"); a
	// component's alert for it is keyed "<component>/<condition>".
	Condition string `json:"condition"`
	Status    Status `json:"status"`
	// Reason is one sentence with the figures, such as "Queue depth
	// 1200/1000 (above warning threshold)".
	Reason string `json:"reason"`
}

// Status returns the worst status among the findings (OK when there are
// none).
func (r Result) Status() Status {
	worst := OK
	for _, f := range r.Findings {
		worst = max(worst, f.Status)
	}
	return worst
}

// Reason words the verdict: the reasons of the worst findings joined with
// "; ", or, when everything is OK, the first finding's (a check puts its
// main figure first). A component that is not ready says so first.
func (r Result) Reason() string {
	worst := r.Status()
	var parts []string
	if !r.Ready && r.NotReadyReason != "" {
		parts = append(parts, "not ready: "+r.NotReadyReason)
	}
	for _, f := range r.Findings {
		if f.Status == worst {
			parts = append(parts, f.Reason)
			if worst == OK {
				break
			}
		}
	}
	return strings.Join(parts, "; ")
}

// add appends a finding.
func (r *Result) add(condition string, s Status, reason string) {
	r.Findings = append(r.Findings, Finding{Condition: condition, Status: s, Reason: reason})
}

// grade places v against the warn and critical thresholds where higher is
// worse.
func grade(v, warn, critical float64) Status {
	switch {
	case v >= critical:
		return Critical
	case v >= warn:
		return Warn
	}
	return OK
}
