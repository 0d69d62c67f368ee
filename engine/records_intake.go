package engine

// The records of intake: a new intent, a rejection, the routing decision
// and what it implies.

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"grace/engine/clarity"
	"grace/engine/intent"
)

func receivedRecord(now time.Time, in intent.Intent, maxPayload int) clarity.Record {
	why := make([]string, 2, 4) // built by hand, not fmt: every intake writes these
	why[0] = "Submitted by " + in.Actor + ": " + in.Type + " at priority " + strconv.Itoa(in.Priority)
	why[1] = "Payload is a JSON object of " + strconv.Itoa(len(in.Payload)) + " bytes (limit " + strconv.Itoa(maxPayload) + ")"
	if in.IdempotencyKey != "" {
		why = append(why, "Idempotency key "+in.IdempotencyKey+": the same submission again returns this intent, a different one under the key is refused")
	} else {
		why = append(why, "No idempotency key: a resubmission would be a new intent")
	}
	if len(in.Context) > 0 {
		why = append(why, "Mission context keys: "+strings.Join(sortedKeys(in.Context), ", "))
	}
	scheduled := !in.NotBefore.IsZero()
	if scheduled {
		why = append(why, "Scheduled: not dispatched before "+in.NotBefore.UTC().Format(time.RFC3339)+" ("+spanText(in.NotBefore.Sub(now))+" after its submission)")
	}
	r := rec(now, in.Actor, WhatReceived, whereIntake, "intake_validation", "received", in.ID, why, map[string]any{
		"type": in.Type, "priority": in.Priority, "payload_bytes": len(in.Payload), "idempotency_key": in.IdempotencyKey,
	})
	if scheduled {
		r.Context["not_before"] = in.NotBefore.UTC().Format(time.RFC3339Nano)
	}
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
