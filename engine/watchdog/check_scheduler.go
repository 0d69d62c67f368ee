package watchdog

import (
	"fmt"
	"strings"
	"time"
)

// SchedulerFigures are what the scheduler check reads.
type SchedulerFigures struct {
	// Running is true while the dispatch loop runs.
	Running bool
	// Paused is true while dispatch is paused, since PausedSince, for
	// PauseReason.
	Paused      bool
	PausedSince time.Time
	PauseReason string
	// Waiting counts intents ready to dispatch (queued, not waiting out a
	// backoff, not held by their type's pause); Idle counts healthy
	// workers free to take one.
	Waiting, Idle int
	// PausedTypes are the intent types paused on their own, each with
	// how many of it wait.
	PausedTypes []PausedType
	// DispatchRate is dispatches per second over the scheduler's recent
	// window; Dispatched counts dispatches since start.
	DispatchRate float64
	Dispatched   uint64
}

// PausedType is one intent type paused on its own: since when, by whom and
// why (Reason), and how many of its intents wait.
type PausedType struct {
	Type    string
	Since   time.Time
	Reason  string
	Waiting int
}

// SchedulerCheck watches the scheduler: its dispatch rate while work waits
// (below t.MinDispatchRate is a warning; an empty queue is no breach), a
// stall (nothing dispatched for t.StallAfter while work waits and a worker
// is idle: critical), a pause (a warning, critical once it has lasted
// t.MaxPause while work waits) and the pauses of single intent types
// (likewise, by the longest one holding work). It is ready while its loop
// runs.
func SchedulerCheck(t SchedulerThresholds, read func() SchedulerFigures) Component {
	var progress time.Time // when dispatch was last seen to keep up
	var last uint64
	var seen bool
	return Component{Name: NameScheduler, Check: func(now time.Time) Result {
		f := read()
		r := Result{Ready: f.Running, Metrics: map[string]float64{
			"dispatch_rate": f.DispatchRate, "dispatched_total": float64(f.Dispatched),
			"waiting": float64(f.Waiting), "idle_workers": float64(f.Idle), "paused": b2f(f.Paused),
		}}
		if !r.Ready {
			r.NotReadyReason = "the dispatch loop is not running"
		}
		stuck := f.Running && !f.Paused && f.Waiting > 0 && f.Idle > 0
		if !seen || !stuck || f.Dispatched != last {
			progress = now
		}
		last, seen = f.Dispatched, true

		switch {
		case f.Waiting == 0:
			r.add("dispatch_rate", OK, fmt.Sprintf("Dispatch rate %.1f/s; nothing waiting", f.DispatchRate))
		case !f.Paused && f.DispatchRate < t.MinDispatchRate:
			r.add("dispatch_rate", Warn, fmt.Sprintf("Dispatch rate %.1f/s below the minimum %.1f/s while %d intents wait",
				f.DispatchRate, t.MinDispatchRate, f.Waiting))
		default:
			r.add("dispatch_rate", OK, fmt.Sprintf("Dispatch rate %.1f/s with %d intents waiting (minimum %.1f/s)",
				f.DispatchRate, f.Waiting, t.MinDispatchRate))
		}

		if stalled := now.Sub(progress); stuck && stalled >= t.StallAfter {
			r.add("stalled", Critical, fmt.Sprintf("Nothing dispatched for %s while %d intents wait and %d workers are idle",
				short(stalled), f.Waiting, f.Idle))
		} else {
			r.add("stalled", OK, "No stall: dispatch keeps up or nothing waits for an idle worker")
		}

		switch {
		case f.Paused && f.Waiting > 0 && now.Sub(f.PausedSince) >= t.MaxPause:
			r.add("paused", Critical, fmt.Sprintf("Paused for %s (limit %s) with %d intents waiting%s",
				short(now.Sub(f.PausedSince)), t.MaxPause, f.Waiting, because(f.PauseReason)))
		case f.Paused:
			r.add("paused", Warn, fmt.Sprintf("Paused since %s%s; %d intents waiting",
				f.PausedSince.UTC().Format(time.RFC3339), because(f.PauseReason), f.Waiting))
		default:
			r.add("paused", OK, "Dispatching (not paused)")
		}
		r.addTypePauses(now, t.MaxPause, f.PausedTypes)
		return r
	}}
}

// addTypePauses adds the types_paused finding: OK with none, a warning
// naming each paused type, critical once one has held its waiting intents
// for max.
func (r *Result) addTypePauses(now time.Time, max time.Duration, types []PausedType) {
	if len(types) == 0 {
		r.add("types_paused", OK, "No intent type paused")
		return
	}
	status, parts := Warn, make([]string, len(types))
	for i, p := range types {
		parts[i] = fmt.Sprintf("%s since %s%s, %d waiting", p.Type, p.Since.UTC().Format(time.RFC3339), because(p.Reason), p.Waiting)
		if p.Waiting > 0 && now.Sub(p.Since) >= max {
			status = Critical
			parts[i] = fmt.Sprintf("%s paused for %s (limit %s)%s, %d waiting", p.Type, short(now.Sub(p.Since)), max, because(p.Reason), p.Waiting)
		}
	}
	r.add("types_paused", status, fmt.Sprintf("%d intent type(s) paused: %s", len(types), strings.Join(parts, "; ")))
	r.Metrics["types_paused"] = float64(len(types))
}

func because(reason string) string {
	if reason == "" {
		return ""
	}
	return " (" + reason + ")"
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// short rounds a duration for prose.
func short(d time.Duration) string {
	switch {
	case d >= time.Minute:
		return d.Round(time.Second).String()
	case d >= time.Second:
		return d.Round(100 * time.Millisecond).String()
	}
	return d.Round(time.Millisecond).String()
}
