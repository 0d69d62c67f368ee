package engine

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"grace/engine/clarity"
	"grace/engine/governance"
	"grace/engine/htm"
	"grace/engine/intent"
)

// The actors that appear as Who in records besides agents and operators.
const (
	actorRouter    = "governance_router"
	actorHub       = governance.RouteHub // "unified_logic_hub"
	actorHTM       = "htm_orchestrator"
	actorExpiry    = "approval_expiry"
	actorRecovery  = "startup_recovery"
	actorUnknown   = "unknown"
	whereIntake    = "intake"
	whereApprovals = "approvals"
	whereQueue     = "htm_queue"
	whereReview    = "tier1_review"
)

// The record names (What) the engine writes. Narrative searches by action
// use them.
const (
	WhatReceived           = "intent_received"
	WhatRejected           = "intent_rejected"
	WhatRouted             = "intent_routed"
	WhatVoteCast           = "vote_cast"
	WhatApprovalRequested  = "approval_requested"
	WhatEmergencyLogged    = "emergency_override_logged"
	WhatDispatched         = "intent_dispatched"
	WhatCompleted          = "intent_completed"
	WhatRetryScheduled     = "intent_retry_scheduled"
	WhatFailed             = "intent_failed"
	WhatApproved           = "intent_approved"
	WhatDenied             = "intent_denied"
	WhatExpired            = "approval_expired"
	WhatGovernanceBlocked  = "governance_violation_blocked"
	WhatRequeuedAfterStart = "intent_requeued_after_restart"
	WhatRecovered          = "startup_recovery_completed"
	WhatTier1Reviewed      = "tier1_reviewed"
	WhatTier1Flagged       = "tier1_flagged"
)

// tierRisk is the risk of acting on an intent of each tier, as the
// charter ranks them.
var tierRisk = [...]float64{0: 0.9, 1: 0.4, 2: 0.1, 3: 0.6, 4: 0.8}

func riskOf(tier int) float64 {
	if tier < 0 || tier >= len(tierRisk) {
		return tierRisk[0]
	}
	return tierRisk[tier]
}

// rec is the shape every record starts from.
func rec(now time.Time, who, what, where, how, result, intentID string, why []string, ctx map[string]any) clarity.Record {
	if ctx == nil {
		ctx = map[string]any{}
	}
	if intentID != "" {
		ctx["intent_id"] = intentID
	}
	return clarity.Record{
		Who: who, What: what, When: now, Where: where, Why: why, How: how, Context: ctx,
		IntentID: intentID, Result: result, Confidence: 1, Transparency: clarity.TransparencyComplete,
	}
}

func receivedRecord(now time.Time, in intent.Intent, maxPayload int) clarity.Record {
	why := []string{
		fmt.Sprintf("Submitted by %s: %s at priority %d", in.Actor, in.Type, in.Priority),
		fmt.Sprintf("Payload is a JSON object of %d bytes (limit %d)", len(in.Payload), maxPayload),
	}
	if in.IdempotencyKey != "" {
		why = append(why, "Idempotency key "+in.IdempotencyKey+": a resubmission returns this intent")
	} else {
		why = append(why, "No idempotency key: a resubmission would be a new intent")
	}
	if len(in.Context) > 0 {
		why = append(why, "Mission context keys: "+strings.Join(sortedKeys(in.Context), ", "))
	}
	r := rec(now, in.Actor, WhatReceived, whereIntake, "intake_validation", "received", in.ID, why, map[string]any{
		"type": in.Type, "priority": in.Priority, "payload_bytes": len(in.Payload), "idempotency_key": in.IdempotencyKey,
	})
	r.Risk = riskOf(in.Tier)
	return r
}

func rejectedRecord(now time.Time, sub intent.Submission, probs []Problem) clarity.Record {
	who := strings.TrimSpace(sub.Actor)
	if who == "" || !printable(who) || len(who) > maxActorLen {
		who = actorUnknown
	}
	why := make([]string, len(probs))
	fields := make([]string, len(probs))
	for i, p := range probs {
		why[i] = p.Field + ": " + p.Reason
		fields[i] = p.Field
	}
	r := rec(now, who, WhatRejected, whereIntake, "intake_validation", "rejected", "", why, map[string]any{
		"type": clip(sub.Type, 100), "fields": fields, "problems": len(probs), "payload_bytes": len(sub.Payload),
	})
	r.Risk = 0.1
	return r
}

func routedRecord(now time.Time, in intent.Intent) clarity.Record {
	d := in.Decision
	r := rec(now, actorRouter, WhatRouted, d.RoutedTo, "autonomy_tier_routing", string(in.State), in.ID, d.Reasoning, map[string]any{
		"type": in.Type, "autonomy_tier": d.AutonomyTier, "alignment": d.Alignment, "approved": d.Approved,
		"requires_vote": d.RequiresVote, "requires_human": d.RequiresHuman, "routed_to": d.RoutedTo,
	})
	r.Risk = riskOf(in.Tier)
	if len(d.Votes) > 0 {
		agree := 0
		for _, v := range d.Votes {
			if v.Approve == d.Approved {
				agree++
			}
		}
		r.Confidence = float64(agree) / float64(len(d.Votes))
	}
	return r
}

func voteRecord(now time.Time, in intent.Intent, v intent.Vote, n, of int) clarity.Record {
	result := "reject"
	if v.Approve {
		result = "approve"
	}
	r := rec(now, v.Voter, WhatVoteCast, actorHub, "unified_logic_vote", result, in.ID,
		[]string{v.Reason, fmt.Sprintf("Ballot %d of %d on %s (Tier 3)", n, of, in.Type)},
		map[string]any{"voter": v.Voter, "approve": v.Approve, "type": in.Type, "alignment": in.Decision.Alignment})
	r.Risk = riskOf(3)
	return r
}

func hubDeniedRecord(now time.Time, in intent.Intent) clarity.Record {
	why := []string{"Unified logic hub vote rejected the intent; it will not run"}
	for _, v := range in.Decision.Votes {
		if !v.Approve {
			why = append(why, v.Voter+": "+v.Reason)
		}
	}
	r := rec(now, actorHub, WhatDenied, actorHub, "unified_logic_vote", "denied", in.ID, why,
		map[string]any{"type": in.Type, "decided_by": actorHub})
	r.Risk = 0.1
	return r
}

func approvalRequestedRecord(now time.Time, in intent.Intent, timeout time.Duration) clarity.Record {
	r := rec(now, actorRouter, WhatApprovalRequested, whereApprovals, "human_approval_gate", "pending_approval", in.ID,
		[]string{
			fmt.Sprintf("%s is Tier 0: it never runs without an operator's approval", in.Type),
			fmt.Sprintf("Waits for approve or deny until %s (approvals.timeout %v), then expires", in.Deadline.UTC().Format(time.RFC3339), timeout),
		},
		map[string]any{"type": in.Type, "deadline": in.Deadline.UTC().Format(time.RFC3339Nano)})
	r.Risk = riskOf(0)
	return r
}

func emergencyRecord(now time.Time, in intent.Intent, live map[string]any) clarity.Record {
	r := rec(now, in.Actor, WhatEmergencyLogged, actorRouter, "tier4_heavy_logging", "logged", in.ID,
		[]string{
			fmt.Sprintf("%s is Tier 4: emergency override, runs without a vote or approval", in.Type),
			"Heavy logging: the full payload and a live engine snapshot are kept with this record",
		},
		map[string]any{"type": in.Type, "payload": json.RawMessage(in.Payload), "mission_context": in.Context, "snapshot": live})
	r.Risk = riskOf(4)
	return r
}

func dispatchRecord(now time.Time, in intent.Intent, c choice, d htm.Depth) clarity.Record {
	why := append([]string{}, c.reasons...)
	why = append(why, d.Describe(),
		fmt.Sprintf("Highest priority ready (%d), oldest first; waited %s since submission", in.Priority, roundDur(now.Sub(in.CreatedAt))))
	if in.Attempts > 1 {
		why = append(why, fmt.Sprintf("Attempt %d after %d failed", in.Attempts, in.Attempts-1))
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

func completedRecord(now time.Time, in intent.Intent, w string, took time.Duration) clarity.Record {
	r := rec(now, w, WhatCompleted, w, "handler_execution", "completed", in.ID,
		[]string{
			fmt.Sprintf("Handler for %s succeeded in %s", in.Type, roundDur(took)),
			fmt.Sprintf("Attempt %d", in.Attempts),
		},
		map[string]any{"type": in.Type, "duration_ms": took.Milliseconds(), "attempt": in.Attempts})
	r.Risk = 0.05
	return r
}

func retryRecord(now time.Time, in intent.Intent, w string, took, wait time.Duration, maxAttempts int, base, capAt time.Duration) clarity.Record {
	r := rec(now, actorHTM, WhatRetryScheduled, w, "exponential_backoff_retry", "retry_scheduled", in.ID,
		[]string{
			fmt.Sprintf("Attempt %d of %d failed on %s after %s: %s", in.Attempts, maxAttempts, w, roundDur(took), in.LastError),
			fmt.Sprintf("Retry in %s (exponential from %v, capped at %v, jittered)", roundDur(wait), base, capAt),
		},
		map[string]any{"type": in.Type, "attempt": in.Attempts, "max_attempts": maxAttempts, "backoff_ms": wait.Milliseconds(),
			"not_before": in.NotBefore.UTC().Format(time.RFC3339Nano), "error": in.LastError, "duration_ms": took.Milliseconds()})
	r.Confidence, r.Risk = 0.8, 0.3
	return r
}

func failedRecord(now time.Time, in intent.Intent, w string, took time.Duration, permanent bool, maxAttempts int) clarity.Record {
	how, last := "retries_exhausted", fmt.Sprintf("Attempts exhausted (%d of %d); not retried", in.Attempts, maxAttempts)
	if permanent {
		how, last = "permanent_failure", "The error is permanent: retrying cannot help"
	}
	r := rec(now, w, WhatFailed, w, how, "failed", in.ID,
		[]string{fmt.Sprintf("Handler for %s failed after %s: %s", in.Type, roundDur(took), in.LastError), last},
		map[string]any{"type": in.Type, "attempt": in.Attempts, "error": in.LastError, "permanent": permanent, "duration_ms": took.Milliseconds()})
	r.Risk = 0.5
	return r
}

func decisionRecord(now time.Time, in intent.Intent, what, result string) clarity.Record {
	why := []string{fmt.Sprintf("Operator %s %s %s (Tier %d)", in.DecidedBy, result, in.Type, in.Tier)}
	if in.DecisionReason != "" {
		why = append(why, "Reason: "+in.DecisionReason)
	} else {
		why = append(why, "No reason given")
	}
	r := rec(now, in.DecidedBy, what, whereApprovals, "human_approval", result, in.ID, why,
		map[string]any{"type": in.Type, "decided_by": in.DecidedBy, "reason": in.DecisionReason})
	r.Risk = 0.1
	if result == "approved" {
		r.Risk = 0.7
	}
	return r
}

func expiredRecord(now time.Time, in intent.Intent, timeout time.Duration) clarity.Record {
	r := rec(now, actorExpiry, WhatExpired, whereApprovals, "approval_deadline", "expired", in.ID,
		[]string{
			fmt.Sprintf("No operator decided on %s before its deadline %s", in.Type, in.Deadline.UTC().Format(time.RFC3339)),
			fmt.Sprintf("Pending approvals expire after approvals.timeout (%v); the intent will not run", timeout),
		},
		map[string]any{"type": in.Type, "deadline": in.Deadline.UTC().Format(time.RFC3339Nano)})
	r.Risk = 0.2
	return r
}

func requeuedRecord(now time.Time, in intent.Intent, prevWorker string) clarity.Record {
	where := prevWorker
	if where == "" {
		where = "unknown worker"
	}
	r := rec(now, actorRecovery, WhatRequeuedAfterStart, whereQueue, "startup_recovery", "requeued", in.ID,
		[]string{
			fmt.Sprintf("%s was running on %s when the engine stopped", in.Type, where),
			"Queued again: execution is at-least-once, so it may run a second time",
		},
		map[string]any{"type": in.Type, "previous_worker": prevWorker, "attempts": in.Attempts})
	r.Confidence, r.Risk = 0.9, 0.3
	return r
}

func recoveryRecord(now time.Time, pending, queued, running int) clarity.Record {
	r := rec(now, actorRecovery, WhatRecovered, whereQueue, "startup_recovery", "recovered", "",
		[]string{
			fmt.Sprintf("%d pending approvals kept pending; their deadlines still apply", pending),
			fmt.Sprintf("%d queued intents queued again", queued),
			fmt.Sprintf("%d intents that were running queued again (at-least-once)", running),
		},
		map[string]any{"pending_approval": pending, "queued": queued, "running": running})
	r.Confidence, r.Risk = 0.9, 0.2
	return r
}

func reviewRecord(now time.Time, in intent.Intent, operator, note string, flag bool) clarity.Record {
	what, result := WhatTier1Reviewed, "reviewed"
	why := []string{fmt.Sprintf("Operator %s reviewed %s (Tier 1, %s) after the fact", operator, in.Type, in.State)}
	if flag {
		what, result = WhatTier1Flagged, "flagged"
		why[0] = fmt.Sprintf("Operator %s flagged %s (Tier 1, %s) for follow-up", operator, in.Type, in.State)
	}
	if note != "" {
		why = append(why, "Note: "+note)
	}
	r := rec(now, operator, what, whereReview, "post_hoc_review", result, in.ID, why,
		map[string]any{"type": in.Type, "flagged": flag, "note": note})
	r.Risk = 0.1
	if flag {
		r.Risk = 0.5
	}
	return r
}

// roundDur shortens a duration for prose.
func roundDur(d time.Duration) string {
	switch {
	case d >= time.Second:
		return d.Round(10 * time.Millisecond).String()
	case d >= time.Millisecond:
		return d.Round(10 * time.Microsecond).String()
	}
	return d.String()
}

// clip shortens s to at most n bytes (cut at a character boundary) for a
// record.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
