package engine

// The records of running an intent: dispatch, the Tier 0 guard, and each
// outcome of a handler run.

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"grace/engine/clarity"
	"grace/engine/htm"
	"grace/engine/intent"
)

// dispatchRecord is the dispatch narrative of in, handed to c's worker.
// When the engine runs its handlers on remote workers (the nats backend),
// that worker is a dispatch slot: its reasons say so, and name the live
// remote workers that may claim the attempt instead of a local choice.
func (e *Engine) dispatchRecord(now time.Time, in intent.Intent, c choice, d htm.Depth) clarity.Record {
	f, ok := e.fleet()
	if !ok {
		return dispatchRecord(now, in, c, d)
	}
	var live []string
	for _, w := range f.Workers(now) {
		if w.Healthy {
			live = append(live, w.Name+" on "+w.Host)
		}
	}
	return remoteDispatchRecord(now, in, c.w.name, live, e.cfg.Backend.Kind, d)
}

func dispatchRecord(now time.Time, in intent.Intent, c choice, d htm.Depth) clarity.Record {
	r := rec(now, actorHTM, WhatDispatched, c.w.name, "least_loaded_worker_selection", "dispatched", in.ID,
		dispatchReasons(now, in, c.reasons, d), map[string]any{
			"queue_depth": d.Len, "worker": c.w.name, "type": in.Type, "priority": in.Priority, "attempt": in.Attempts,
			"queue_level": d.Level.String(),
		})
	return dispatchRisk(r, d)
}

// remoteDispatchRecord is the dispatch narrative of in, handed to the
// dispatch slot slot for the remote workers of backend, live of them (each
// "name on host") live now. Which of them runs it is not chosen here: the
// first to claim it does, and the claim is on the record.
func remoteDispatchRecord(now time.Time, in intent.Intent, slot string, live []string, backend string, d htm.Depth) clarity.Record {
	fleet := "no remote worker is live now: it waits in the queue for one to join"
	if len(live) > 0 {
		shown := live[:min(len(live), maxNamedWorkers)]
		fleet = fmt.Sprintf("%s live now: %s", plural(len(live), "remote worker"), strings.Join(shown, ", "))
		if more := len(live) - len(shown); more > 0 {
			fleet += fmt.Sprintf(" and %d more", more)
		}
	}
	why := []string{
		fmt.Sprintf("%s is a free dispatch slot of the control plane (workers.count bounds the attempts in flight): it publishes the attempt to the remote workers' queue (backend %s) and awaits the result", slot, backend),
		"Whichever remote worker claims it first runs it (" + fleet + "); the claim names it, and the intent's worker becomes it",
	}
	r := rec(now, actorHTM, WhatDispatched, slot, "remote_work_queue", "dispatched", in.ID, dispatchReasons(now, in, why, d), map[string]any{
		"queue_depth": d.Len, "slot": slot, "type": in.Type, "priority": in.Priority, "attempt": in.Attempts,
		"queue_level": d.Level.String(), "backend": backend, "live_remote_workers": len(live),
	})
	return dispatchRisk(r, d)
}

// maxNamedWorkers bounds how many live remote workers a dispatch record
// names.
const maxNamedWorkers = 8

// dispatchReasons are a dispatch's reasons: first, how its worker was
// chosen, then the queue, the priority and age, any earlier attempts and
// a Tier 0 approval.
func dispatchReasons(now time.Time, in intent.Intent, chosen []string, d htm.Depth) []string {
	why := make([]string, 0, len(chosen)+4)
	why = append(why, chosen...)
	why = append(why, d.Describe(),
		"Highest priority ready ("+strconv.Itoa(in.Priority)+"), oldest first; waited "+roundDur(now.Sub(in.CreatedAt))+" since submission")
	if in.Attempts > 1 {
		why = append(why, fmt.Sprintf("Attempt %d: %s did not settle it (failed, or taken back from a dead worker)", in.Attempts, plural(in.Attempts-1, "earlier attempt")))
	}
	if in.Tier == 0 {
		why = append(why, "Tier 0 approved by "+in.DecidedBy)
	}
	return why
}

func dispatchRisk(r clarity.Record, d htm.Depth) clarity.Record {
	r.Confidence, r.Risk = 0.9, 0.1
	if d.Level != htm.LevelOK {
		r.Risk = 0.3
	}
	return r
}

func blockedRecord(now time.Time, in intent.Intent, where string) clarity.Record {
	r := rec(now, actorHTM, WhatGovernanceBlocked, where, "tier0_dispatch_guard", "blocked", in.ID,
		[]string{
			fmt.Sprintf("%s is Tier 0 and has no recorded approval", in.Type),
			"Dispatch refused: a Tier 0 intent never reaches a worker without an operator's approval",
			"Returned to pending approval for an operator to decide",
		},
		map[string]any{"type": in.Type, "tier": in.Tier, "state_found": string(in.State)})
	r.Risk = 1
	return r
}

// run describes one handler run for the outcome records.
type run struct {
	worker  string        // the worker that ran it: the pool's, or the remote worker that held the attempt
	handler string        // the handler kind
	took    time.Duration // how long the handler ran
	// slot is, when the attempt went to remote workers (backend nats),
	// the control plane's dispatch slot that published it and awaited its
	// result; host is the remote worker's machine, "" when no remote
	// worker claimed the attempt (worker is then the slot).
	slot, host string
}

// ranOn describes a run of an intent of typ that took took, dispatched to
// w; by is the remote worker that held the attempt, if one did.
func (e *Engine) ranOn(w *workerState, typ string, took time.Duration, by RemoteHolder) run {
	x := run{worker: w.name, handler: e.handlerKind(typ), took: took}
	_, fleet := e.fleet()
	if by.Worker != "" || fleet {
		x.slot = w.name
	}
	if by.Worker != "" {
		x.worker, x.host = by.Worker, by.Host
	}
	return x
}

// remote reports whether the run was dispatched to remote workers.
func (x run) remote() bool { return x.slot != "" }

// holder is the intent's worker after the run: the worker that ran it,
// or "" when it went to remote workers and none claimed it.
func (x run) holder() string {
	if x.remote() && x.host == "" {
		return ""
	}
	return x.worker
}

// where is the Where of the run's records: the remote worker's host, or
// the worker.
func (x run) where() string {
	if x.host != "" {
		return x.host
	}
	return x.worker
}

// on names where the run happened, for a reason: the worker, or which
// remote worker on which host (or that none claimed it).
func (x run) on() string {
	switch {
	case !x.remote():
		return x.worker
	case x.host == "":
		return "dispatch slot " + x.slot + " (no remote worker claimed it)"
	}
	return "remote worker " + x.worker + " on " + x.host
}

// via is the reason saying how a remote run was dispatched; "" for a
// local one.
func (x run) via() string {
	switch {
	case !x.remote():
		return ""
	case x.host == "":
		return "The control plane's dispatch slot " + x.slot + " published the attempt to the remote workers' queue; none claimed it"
	}
	return x.worker + " claimed the attempt from the remote workers' queue, where the control plane's dispatch slot " + x.slot + " published it and awaited its result"
}

// reasons appends the run's via reason to why, when there is one.
func (x run) reasons(why ...string) []string {
	if v := x.via(); v != "" {
		why = append(why, v)
	}
	return why
}

// context adds the remote worker, its host and the dispatch slot to ctx,
// for a remote run; a local run's context is left as it was.
func (x run) context(ctx map[string]any) map[string]any {
	if x.remote() {
		ctx["worker"], ctx["slot"] = x.holder(), x.slot
		if x.host != "" {
			ctx["host"] = x.host
		}
	}
	return ctx
}

// onSuffix is " on <where it ran>" for a remote run, "" for a local one
// (whose records name the worker as Who).
func (x run) onSuffix() string {
	if !x.remote() {
		return ""
	}
	return " on " + x.on()
}

func completedRecord(now time.Time, in intent.Intent, x run) clarity.Record {
	r := rec(now, x.worker, WhatCompleted, x.where(), "handler_execution", "completed", in.ID,
		x.reasons(
			"Handler ("+x.handler+") for "+in.Type+" succeeded"+x.onSuffix()+" in "+roundDur(x.took),
			"Attempt "+strconv.Itoa(in.Attempts),
		),
		x.context(map[string]any{"type": in.Type, "handler": x.handler, "duration_ms": x.took.Milliseconds(), "attempt": in.Attempts}))
	r.Risk = 0.05
	return r
}

func retryRecord(now time.Time, in intent.Intent, x run, wait time.Duration, maxAttempts int, base, capAt time.Duration) clarity.Record {
	r := rec(now, actorHTM, WhatRetryScheduled, x.where(), "exponential_backoff_retry", "retry_scheduled", in.ID,
		x.reasons(
			fmt.Sprintf("Attempt %d of %d failed on %s after %s: %s", in.Attempts, maxAttempts, x.on(), roundDur(x.took), in.LastError),
			fmt.Sprintf("Retry in %s (exponential from %v, capped at %v, jittered)", roundDur(wait), base, capAt),
		),
		x.context(map[string]any{"type": in.Type, "handler": x.handler, "attempt": in.Attempts, "max_attempts": maxAttempts,
			"backoff_ms": wait.Milliseconds(), "not_before": in.NotBefore.UTC().Format(time.RFC3339Nano),
			"error": in.LastError, "duration_ms": x.took.Milliseconds()}))
	r.Confidence, r.Risk = 0.8, 0.3
	return r
}

func failedRecord(now time.Time, in intent.Intent, x run, permanent bool, maxAttempts int) clarity.Record {
	how, last := "retries_exhausted", fmt.Sprintf("Attempts exhausted (%d of %d); not retried", in.Attempts, maxAttempts)
	if permanent {
		how, last = "permanent_failure", "The error is permanent: retrying cannot help"
	}
	r := rec(now, x.worker, WhatFailed, x.where(), how, "failed", in.ID,
		x.reasons(fmt.Sprintf("Handler (%s) for %s failed%s after %s: %s", x.handler, in.Type, x.onSuffix(), roundDur(x.took), in.LastError), last),
		x.context(map[string]any{"type": in.Type, "handler": x.handler, "attempt": in.Attempts, "error": in.LastError,
			"permanent": permanent, "duration_ms": x.took.Milliseconds()}))
	r.Risk = 0.5
	return r
}
