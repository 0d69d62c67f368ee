package watchdog

import (
	"fmt"
	"strings"
	"time"

	"grace/engine/clarity"
)

// severityRisk is the risk recorded with an alert of each severity.
var severityRisk = [...]float64{OK: 0.1, Warn: 0.5, Critical: 0.9}

// record is the shape every watchdog record starts from.
func record(now time.Time, what, where, how, result string, why []string, ctx map[string]any) clarity.Record {
	return clarity.Record{
		Who: Actor, What: what, When: now, Where: where, Why: why, How: how, Context: ctx,
		Result: result, Confidence: 1, Transparency: clarity.TransparencyComplete,
	}
}

// howFor names the method that found a condition.
func howFor(condition string) string {
	switch {
	case strings.HasPrefix(condition, sloPrefix):
		return "multiwindow_burn_rate"
	case condition == conditionReadiness:
		return "readiness_probe"
	}
	return "threshold_check"
}

// alertRecord narrates an alert raised, escalated, de-escalated or
// resolved; metrics are the component's figures at the check.
func alertRecord(now time.Time, ch alertChange, metrics map[string]float64) clarity.Record {
	a := ch.alert
	var what, result string
	var why []string
	switch ch.kind {
	case Raised:
		what, result = WhatAlertRaised, "raised_"+a.Severity.String()
		why = []string{a.Summary, fmt.Sprintf("New %s alert %s on %s", a.Severity, a.Key, a.Component)}
	case Escalated:
		what, result = WhatAlertEscalated, "escalated_"+a.Severity.String()
		why = []string{a.Summary, fmt.Sprintf("Severity %s → %s after %d checks since %s", ch.from, a.Severity, a.Count, stamp(a.FirstSeen))}
	case Deescalated:
		what, result = WhatAlertDeescalated, "deescalated_"+a.Severity.String()
		why = []string{a.Summary, fmt.Sprintf("Severity %s → %s after %d checks since %s; still firing", ch.from, a.Severity, a.Count, stamp(a.FirstSeen))}
	default:
		what, result = WhatAlertResolved, "resolved"
		why = []string{a.Resolution, fmt.Sprintf("Fired %s (from %s, seen in %d checks, peak %s); last: %s",
			short(a.ResolvedAt.Sub(a.FirstSeen)), stamp(a.FirstSeen), a.Count, a.Peak, a.Summary)}
	}
	ctx := map[string]any{
		"alert_id": a.ID, "key": a.Key, "condition": a.Condition, "severity": a.Severity.String(), "peak": a.Peak.String(),
		"count": a.Count, "first_seen": stamp(a.FirstSeen), "last_seen": stamp(a.LastSeen),
	}
	if len(metrics) > 0 {
		ctx["metrics"] = metrics
	}
	r := record(now, what, a.Component, howFor(a.Condition), result, why, ctx)
	r.Risk = severityRisk[a.Severity]
	if ch.kind == Resolved {
		r.Risk = severityRisk[OK]
	}
	return r
}

// issueRecord sends a snapshot that shows something wrong to clarity.
func issueRecord(t Telemetry) clarity.Record {
	r := record(t.At, WhatTelemetryIssue, Layer, "telemetry_loop", t.Status.String(), t.Issues(),
		map[string]any{"telemetry": t})
	r.Risk = severityRisk[t.Status]
	return r
}

// readyRecord narrates boot readiness: all ready, or who was not.
func readyRecord(r Readiness, timeout time.Duration, names []string) clarity.Record {
	if r.State == ReadinessReady {
		why := []string{fmt.Sprintf("All %d components ready %s after boot (limit %s)", len(names), short(r.At.Sub(r.Started)), timeout),
			"Components: " + strings.Join(names, ", ")}
		rec := record(r.At, WhatReady, Layer, "readiness_probe", "ready", why,
			map[string]any{"components": names, "took_ms": r.At.Sub(r.Started).Milliseconds()})
		rec.Risk = severityRisk[OK]
		return rec
	}
	bad := make([]string, len(r.NotReady))
	why := make([]string, 0, len(r.NotReady)+1)
	for i, n := range r.NotReady {
		bad[i] = n.Component
	}
	why = append(why, fmt.Sprintf("Not ready %s after boot (watchdog.readiness_timeout): %s", timeout, strings.Join(bad, ", ")))
	for _, n := range r.NotReady {
		why = append(why, n.Component+": "+n.Reason)
	}
	rec := record(r.At, WhatReadinessTimedOut, Layer, "readiness_probe", "not_ready", why,
		map[string]any{"not_ready": bad, "timeout_ms": timeout.Milliseconds()})
	rec.Risk = severityRisk[Critical]
	return rec
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }
