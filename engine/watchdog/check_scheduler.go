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
	// backoff, not held by their type's or actor's pause); Idle counts healthy
	// workers free to take one.
	Waiting, Idle int
	// PausedTypes are the intent types paused on their own, each with
	// how many of it wait.
	PausedTypes []PausedType
	// PausedActors are the actors paused (quarantined), each with how many
	// of its intents wait.
	PausedActors []PausedActor
	// DispatchRate is dispatches per second over the scheduler's recent
	// window; Dispatched counts dispatches since start.
	DispatchRate float64
	Dispatched   uint64
	// RateWarmup is true while the engine has run less than the rate's
	// window: the rate does not yet say how fast it dispatches (work
	// recovered at start waits for the first dispatches), so it is not
	// judged against the minimum. A stall is judged all the same.
	RateWarmup bool
}

// PausedType is one intent type paused on its own: since when, by whom and
// why (Reason), and how many of its intents wait.
type PausedType struct {
	Type    string
	Since   time.Time
	Reason  string
	Waiting int
}

// PausedActor is one actor paused: since when, by whom and why (Reason),
// and how many of its intents wait.
type PausedActor struct {
	Actor   string
	Since   time.Time
	Reason  string
	Waiting int
}

// SchedulerCheck watches the scheduler: its dispatch rate while work waits
// (below t.MinDispatchRate is a warning; an empty queue is no breach), a
// stall (nothing dispatched for t.StallAfter while work waits and a worker
// is idle: critical), a pause (a warning, critical once it has lasted
// t.MaxPause while work waits) and the pauses of single intent types and
// of single actors (likewise, by the longest one holding work). It is
// ready while its loop runs.
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
		case f.RateWarmup:
			r.add("dispatch_rate", OK, fmt.Sprintf("Dispatch rate %.1f/s with %d intents waiting: the engine has just started, judged against the minimum (%.1f/s) once the rate covers its window",
				f.DispatchRate, f.Waiting, t.MinDispatchRate))
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
		types := make([]pausedOne, len(f.PausedTypes))
		for i, p := range f.PausedTypes {
			types[i] = pausedOne{p.Type, p.Since, p.Reason, p.Waiting}
		}
		actors := make([]pausedOne, len(f.PausedActors))
		for i, p := range f.PausedActors {
			actors[i] = pausedOne{p.Actor, p.Since, p.Reason, p.Waiting}
		}
		r.addPauses("types_paused", "intent type(s)", now, t.MaxPause, types)
		r.addPauses("actors_paused", "actor(s)", now, t.MaxPause, actors)
		return r
	}}
}

// pausedOne is a paused type or actor, as addPauses reads it.
type pausedOne struct {
	name    string
	since   time.Time
	reason  string
	waiting int
}

// addPauses adds the finding name (types_paused, actors_paused) over the
// pauses of one kind, whose plural is what: OK with none, a warning naming
// each one paused, critical once one has held its waiting intents for max.
func (r *Result) addPauses(name, what string, now time.Time, max time.Duration, pauses []pausedOne) {
	if len(pauses) == 0 {
		r.add(name, OK, "No "+strings.TrimSuffix(what, "(s)")+" paused")
		return
	}
	status, parts := Warn, make([]string, len(pauses))
	for i, p := range pauses {
		parts[i] = fmt.Sprintf("%s since %s%s, %d waiting", p.name, p.since.UTC().Format(time.RFC3339), because(p.reason), p.waiting)
		if p.waiting > 0 && now.Sub(p.since) >= max {
			status = Critical
			parts[i] = fmt.Sprintf("%s paused for %s (limit %s)%s, %d waiting", p.name, short(now.Sub(p.since)), max, because(p.reason), p.waiting)
		}
	}
	r.add(name, status, fmt.Sprintf("%d %s paused: %s", len(pauses), what, strings.Join(parts, "; ")))
	r.Metrics[name] = float64(len(pauses))
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
