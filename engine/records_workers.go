package engine

// The records of the worker supervisor: deaths, reroutes, late results,
// and the pool's recovery.

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"grace/engine/clarity"
	"grace/engine/intent"
)

// actorSupervisor is the Who of the worker supervisor's records;
// wherePool the Where of records about the pool as a whole.
const (
	actorSupervisor = "worker_supervisor"
	wherePool       = "worker_pool"
)

// The record names (What) of worker supervision.
const (
	WhatWorkerDead      = "worker_declared_dead"
	WhatWorkerRecovered = "worker_recovered"
	WhatRerouted        = "intent_rerouted"
	WhatStaleDiscarded  = "stale_result_discarded"
	WhatWorkersStarted  = "workers_started"
	WhatWorkersRetired  = "workers_retired"
)

func workerDeadRecord(now time.Time, name, cause, why string, fl *flight, reassign bool) clarity.Record {
	reasons := []string{why}
	ctx := map[string]any{"worker": name, "cause": cause, "reassignment": reassign}
	id := ""
	if fl != nil {
		id = fl.in.ID
		ctx["attempt"] = fl.in.Attempts
		reasons = append(reasons, fmt.Sprintf("It was running %s %s (attempt %d)", fl.in.Type, fl.in.ID, fl.in.Attempts))
	} else {
		reasons = append(reasons, "It was idle: no task to reroute")
	}
	switch {
	case reassign && fl != nil:
		reasons = append(reasons, "worker_reassignment: its lease is revoked and the task rerouted to a healthy worker once its handler has stopped; the pool is refilled")
	case reassign:
		reasons = append(reasons, "worker_reassignment: the pool is refilled to its target size")
	default:
		reasons = append(reasons, "worker_reassignment is off (safeguards.worker_reassignment.enabled=false): its task stays where it is and the pool is not refilled")
	}
	how := "heartbeat_monitoring"
	if cause != causeMissedHeartbeats {
		how = "exit_detection"
	}
	r := rec(now, actorSupervisor, WhatWorkerDead, name, how, "dead", id, reasons, ctx)
	r.Confidence, r.Risk = 0.9, 0.6
	if !reassign && fl != nil {
		r.Risk = 0.9
	}
	return r
}

func workerRecoveredRecord(now time.Time, name string) clarity.Record {
	r := rec(now, actorSupervisor, WhatWorkerRecovered, name, "heartbeat_monitoring", "recovered", "",
		[]string{
			name + " answered its heartbeat again after being declared dead",
			"It keeps its slot (worker_reassignment is off) and takes work again",
		}, map[string]any{"worker": name})
	r.Confidence, r.Risk = 0.8, 0.3
	return r
}

// rerouteRecord is the seed's log_reroute: router, task, from and to
// targets, reasons, method.
func rerouteRecord(now time.Time, in intent.Intent, from, to, cause string, pickReasons []string) clarity.Record {
	why := []string{fmt.Sprintf("%s failed its health check (%s)", from, strings.ReplaceAll(cause, "_", " "))}
	if to == whereQueue {
		why = append(why, "No healthy worker is free (or the scheduler is paused): back in the HTM queue for the next free healthy worker")
	} else {
		why = append(why, fmt.Sprintf("%s is healthy and has capacity", to))
		why = append(why, pickReasons...)
	}
	why = append(why, fmt.Sprintf("Safe to reroute: the attempt on %s was fenced (lease %d revoked) and its handler has stopped, so the task never runs twice at once",
		from, in.Attempts))
	r := rec(now, actorHTM, WhatRerouted, to, "failover_routing", "rerouted", in.ID, why, map[string]any{
		"task_id": in.ID, "type": in.Type, "from_target": from, "to_target": to, "method": "failover_routing",
		"revoked_attempt": in.Attempts, "cause": cause,
	})
	r.Confidence, r.Risk = 0.9, 0.3
	return r
}

func staleResultRecord(now time.Time, in intent.Intent, name string, err error, took time.Duration) clarity.Record {
	outcome := "succeeded"
	if err != nil {
		outcome = "failed: " + clip(err.Error(), 300)
	}
	r := rec(now, name, WhatStaleDiscarded, name, "attempt_fencing", "discarded", in.ID,
		[]string{
			fmt.Sprintf("%s reported attempt %d of %s late, after %s (%s)", name, in.Attempts, in.Type, roundDur(took), outcome),
			fmt.Sprintf("%s was declared dead and the attempt's lease revoked; the rerouted attempt holds the intent", name),
			"Discarded: a late result never overwrites the rerouted attempt",
		},
		map[string]any{"worker": name, "attempt": in.Attempts, "late_outcome": outcome, "duration_ms": took.Milliseconds()})
	r.Confidence, r.Risk = 1, 0.2
	return r
}

// withdrawnResultRecord narrates the end of an attempt whose intent was
// cancelled while it ran: its result is discarded, and the record says how
// long after the cancel the handler stopped, or, for a remote holder that
// did not answer (err wraps a *RemoteGivenUp), that the control plane gave
// up on the attempt then (context given_up: true).
func withdrawnResultRecord(now time.Time, in intent.Intent, name string, wd withdrawal, err error, took time.Duration) clarity.Record {
	outcome := "succeeded"
	if err != nil {
		outcome = "failed: " + clip(err.Error(), 300)
	}
	after := max(now.Sub(wd.at), 0)
	first := fmt.Sprintf("%s's handler for attempt %d of %s returned %s after the cancel, %s in all (%s)", name, in.Attempts, in.Type, roundDur(after), roundDur(took), outcome)
	ctx := map[string]any{"worker": name, "attempt": in.Attempts, "late_outcome": outcome, "duration_ms": took.Milliseconds(),
		"cancelled_by": wd.by, "stopped_after_ms": after.Milliseconds()}
	var gu *RemoteGivenUp
	if errors.As(err, &gu) { // a remote holder that did not answer: its handler was not heard to end
		first = fmt.Sprintf("%s, which held attempt %d of %s, did not answer the cancel (%s): the control plane gave up on the attempt %s after the cancel, %s in all, without hearing its handler end; a result from it later is refused",
			name, in.Attempts, in.Type, gu.Why, roundDur(after), roundDur(took))
		ctx["given_up"], ctx["holder_answered"] = true, false
	}
	r := rec(now, name, WhatStaleDiscarded, name, "attempt_fencing", "discarded", in.ID,
		[]string{
			first,
			fmt.Sprintf("%s cancelled the intent while it ran; the attempt's lease was revoked then", wd.by),
			"Discarded: the intent stays cancelled",
		}, ctx)
	r.Confidence, r.Risk = 1, 0.1
	if gu != nil {
		r.Confidence = 0.9 // what the holder did after is not known
	}
	return r
}

func workersStartedRecord(now time.Time, names []string, occupied, target int) clarity.Record {
	r := rec(now, actorSupervisor, WhatWorkersStarted, wherePool, "pool_recovery", "started", "",
		[]string{
			fmt.Sprintf("The pool held %d of its target %d workers", occupied, target),
			"Started " + strings.Join(names, ", "),
		},
		map[string]any{"workers": names, "before": occupied, "target": target})
	r.Confidence, r.Risk = 1, 0.1
	return r
}

func workersRetiredRecord(now time.Time, names []string, alive, target int) clarity.Record {
	r := rec(now, actorSupervisor, WhatWorkersRetired, wherePool, "pool_recovery", "retired", "",
		[]string{
			fmt.Sprintf("The pool held %d live workers for a target of %d", alive, target),
			"Retired idle " + strings.Join(names, ", ") + "; no task was running on them",
		},
		map[string]any{"workers": names, "before": alive, "target": target})
	r.Confidence, r.Risk = 1, 0.1
	return r
}
