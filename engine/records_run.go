package engine

// The records of running an intent: dispatch, the Tier 0 guard, and each
// outcome of a handler run.

import (
	"fmt"
	"strconv"
	"time"

	"grace/engine/clarity"
	"grace/engine/htm"
	"grace/engine/intent"
)

func dispatchRecord(now time.Time, in intent.Intent, c choice, d htm.Depth) clarity.Record {
	why := make([]string, 0, len(c.reasons)+4)
	why = append(why, c.reasons...)
	why = append(why, d.Describe(),
		"Highest priority ready ("+strconv.Itoa(in.Priority)+"), oldest first; waited "+roundDur(now.Sub(in.CreatedAt))+" since submission")
	if in.Attempts > 1 {
		why = append(why, fmt.Sprintf("Attempt %d: %s did not settle it (failed, or taken back from a dead worker)", in.Attempts, plural(in.Attempts-1, "earlier attempt")))
	}
	if in.Tier == 0 {
		why = append(why, "Tier 0 approved by "+in.DecidedBy)
	}
	r := rec(now, actorHTM, WhatDispatched, c.w.name, "least_loaded_worker_selection", "dispatched", in.ID, why, map[string]any{
		"queue_depth": d.Len, "worker": c.w.name, "type": in.Type, "priority": in.Priority, "attempt": in.Attempts,
		"queue_level": d.Level.String(),
	})
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
	worker  string        // the worker that ran it
	handler string        // the handler kind
	took    time.Duration // how long the handler ran
}

func completedRecord(now time.Time, in intent.Intent, x run) clarity.Record {
	r := rec(now, x.worker, WhatCompleted, x.worker, "handler_execution", "completed", in.ID,
		[]string{
			"Handler (" + x.handler + ") for " + in.Type + " succeeded in " + roundDur(x.took),
			"Attempt " + strconv.Itoa(in.Attempts),
		},
		map[string]any{"type": in.Type, "handler": x.handler, "duration_ms": x.took.Milliseconds(), "attempt": in.Attempts})
	r.Risk = 0.05
	return r
}

func retryRecord(now time.Time, in intent.Intent, x run, wait time.Duration, maxAttempts int, base, capAt time.Duration) clarity.Record {
	r := rec(now, actorHTM, WhatRetryScheduled, x.worker, "exponential_backoff_retry", "retry_scheduled", in.ID,
		[]string{
			fmt.Sprintf("Attempt %d of %d failed on %s after %s: %s", in.Attempts, maxAttempts, x.worker, roundDur(x.took), in.LastError),
			fmt.Sprintf("Retry in %s (exponential from %v, capped at %v, jittered)", roundDur(wait), base, capAt),
		},
		map[string]any{"type": in.Type, "handler": x.handler, "attempt": in.Attempts, "max_attempts": maxAttempts,
			"backoff_ms": wait.Milliseconds(), "not_before": in.NotBefore.UTC().Format(time.RFC3339Nano),
			"error": in.LastError, "duration_ms": x.took.Milliseconds()})
	r.Confidence, r.Risk = 0.8, 0.3
	return r
}

func failedRecord(now time.Time, in intent.Intent, x run, permanent bool, maxAttempts int) clarity.Record {
	how, last := "retries_exhausted", fmt.Sprintf("Attempts exhausted (%d of %d); not retried", in.Attempts, maxAttempts)
	if permanent {
		how, last = "permanent_failure", "The error is permanent: retrying cannot help"
	}
	r := rec(now, x.worker, WhatFailed, x.worker, how, "failed", in.ID,
		[]string{fmt.Sprintf("Handler (%s) for %s failed after %s: %s", x.handler, in.Type, roundDur(x.took), in.LastError), last},
		map[string]any{"type": in.Type, "handler": x.handler, "attempt": in.Attempts, "error": in.LastError,
			"permanent": permanent, "duration_ms": x.took.Milliseconds()})
	r.Risk = 0.5
	return r
}
