package engine

import (
	"strconv"
	"time"
	"unicode/utf8"

	"grace/engine/clarity"
	"grace/engine/governance"
)

// The Who and Where values of records written by the engine itself (agents,
// operators and workers appear under their own names).
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
	WhatCancelled          = "intent_cancelled"
	WhatRetried            = "intent_retried"
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

// spanText is a span of time for prose: roundDur below two days, whole
// days (and hours) above.
func spanText(d time.Duration) string {
	if d < 48*time.Hour {
		return roundDur(d.Round(time.Second))
	}
	days, hours := int(d/(24*time.Hour)), int(d%(24*time.Hour)/time.Hour)
	if hours == 0 {
		return strconv.Itoa(days) + " days"
	}
	return strconv.Itoa(days) + " days " + strconv.Itoa(hours) + "h"
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
