package engine

// The records of decisions taken after intake: by operators, by the
// approval deadline and by start-up recovery.

import (
	"fmt"
	"time"

	"grace/engine/clarity"
	"grace/engine/intent"
)

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
