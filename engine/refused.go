package engine

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"grace/engine/clarity"
)

// The records of refused attempts.
const (
	// WhatRequestRefused: a front door (the HTTP API) refused a request
	// before it reached the engine: a bad token, a role without the right,
	// a malformed or oversized body.
	WhatRequestRefused = "request_refused"
	// WhatApprovalRefused and WhatDenialRefused: the engine refused an
	// approval or a denial (not pending, unknown intent, self-approval,
	// the same operator twice under the two-person rule).
	WhatApprovalRefused = "approval_refused"
	WhatDenialRefused   = "denial_refused"
	// WhatReviewRefused: the engine refused a Tier 1 review by the
	// intent's own submitter (ErrSelfReview).
	WhatReviewRefused = "review_refused"
)

// Refusal is one request a front door refused. Who is the authenticated
// identity, or empty when the request proved none.
type Refusal struct {
	Who      string // the identity, "" when unauthenticated
	Role     string // its role, when known
	Where    string // the front door, e.g. "http_api"
	Action   string // what was attempted, e.g. "POST /v1/intents/{id}/approve"
	Status   int    // the answer's status code
	Code     string // the answer's error code, e.g. "forbidden"
	Field    string // the field at fault, if one
	Reason   string // the answer's message
	IntentID string // the intent concerned, if any
	Remote   string // the client's address
	// RequestID is the request's X-Request-Id (sent by the client or
	// given by the server), so that the record, the server's log and the
	// client's error can be matched.
	RequestID string
	// Details are extra facts for the record (never secrets).
	Details map[string]any
}

// guard holds the engine's rules beyond the router: masking, the
// two-person rule and the budgets of refusal records (refusalbudget.go).
// It is built once by New.
type guard struct {
	mask      *masker
	twoPerson twoPerson
	budget    *refusalBudget
}

func newGuard(cfg Config) *guard {
	return &guard{
		mask:      newMasker(cfg.Masking.Fields),
		twoPerson: newTwoPerson(cfg.Governance.TwoPersonTypes),
		budget:    newRefusalBudget(),
	}
}

// RecordRefusal writes a request_refused record for r, and returns once it
// is durable. An identity's refusals spend its own budget (1000 at once,
// 20 a second after that); past it, nothing is recorded and the identity's
// next record says how many were left out. Unauthenticated ones spend a
// small budget per remote address and a global one; past those they are
// counted and summarised per address (refusalbudget.go). Summaries due
// are written first.
func (e *Engine) RecordRefusal(ctx context.Context, r Refusal) error {
	now := e.clock.Now()
	if strings.TrimSpace(r.Who) == "" {
		e.summariseRefusals(ctx, now, false)
		if !e.guard.budget.unauthenticated(remoteKey(r.Remote), r, now) {
			return nil
		}
		return e.recordRefused(ctx, refusalRecord(now, r, 0))
	}
	skipped, ok := e.guard.budget.identified(identityKey(r.Who), now)
	if !ok {
		return nil
	}
	return e.recordRefused(ctx, refusalRecord(now, r, skipped))
}

func (e *Engine) recordRefused(ctx context.Context, r clarity.Record) error {
	if err := e.journal.Record(context.WithoutCancel(ctx), r); err != nil {
		return fmt.Errorf("record refusal: %w", err)
	}
	e.recent.add(r)
	return nil
}

// refusedDecision records an approval or denial the engine refused for a
// reason that is the caller's (not a store failure). It logs, never
// fails: the caller already has its error.
func (e *Engine) refusedDecision(ctx context.Context, id, operator, reason string, approve bool, cause error) {
	if !callerFault(cause) {
		return
	}
	skipped, ok := e.guard.budget.identified(identityKey(operator), e.clock.Now())
	if !ok {
		return
	}
	what, verb := WhatDenialRefused, "deny"
	if approve {
		what, verb = WhatApprovalRefused, "approve"
	}
	e.recordRefusedAct(ctx, id, operator, reason, what, verb, cause, skipped)
}

// refusedReview records a Tier 1 review the engine refused because the
// reviewer submitted the intent. It logs, never fails.
func (e *Engine) refusedReview(ctx context.Context, id, operator, note string, cause error) {
	if !errors.Is(cause, ErrSelfReview) {
		return
	}
	if skipped, ok := e.guard.budget.identified(identityKey(operator), e.clock.Now()); ok {
		e.recordRefusedAct(ctx, id, operator, note, WhatReviewRefused, "mark reviewed", cause, skipped)
	}
}

// recordRefusedAct writes the record of a refused decision or review:
// what it was, by whom, on which intent and why it was refused.
func (e *Engine) recordRefusedAct(ctx context.Context, id, operator, reason, what, verb string, cause error, skipped int) {
	who := strings.TrimSpace(operator)
	if who == "" || !printable(who) {
		who = actorUnknown
	}
	who = clip(who, maxActorLen)
	intentID := ""
	if printable(id) && len(id) <= 64 {
		intentID = id
	}
	why := []string{
		fmt.Sprintf("%s's attempt to %s intent %q was refused: %s", who, verb, clip(id, 64), clip(cause.Error(), 300)),
		"Nothing changed",
	}
	if skipped > 0 {
		why = append(why, fmt.Sprintf("%d refusals before this one were not recorded one by one (throttled)", skipped))
	}
	r := rec(e.clock.Now(), who, what, whereApprovals, "approval_rules", "refused", intentID, why,
		map[string]any{"operator": who, "reason": clip(reason, 300), "error": refusalCode(cause), "unrecorded_refusals": skipped})
	r.Risk = 0.6
	if err := e.recordRefused(ctx, r); err != nil {
		e.log.Error("record refused decision", "intent_id", intentID, "err", err)
	}
}

// callerFault reports whether err is a governance refusal of the caller's
// decision: an unknown or no longer pending intent, a self-approval, the
// same operator twice. A decision without an operator or a denial without
// a reason is a malformed call the front doors refuse (and record) before
// it gets here; it is not recorded again.
func callerFault(err error) bool {
	for _, s := range []error{ErrNotFound, ErrNotPending, ErrSelfApproval, ErrAlreadyApproved} {
		if errors.Is(err, s) {
			return true
		}
	}
	return false
}

// refusalCode names the rule that refused a decision.
func refusalCode(err error) string {
	switch {
	case errors.Is(err, ErrNotFound):
		return "not_found"
	case errors.Is(err, ErrNotPending):
		return "not_pending"
	case errors.Is(err, ErrSelfApproval):
		return "self_approval"
	case errors.Is(err, ErrSelfReview):
		return "self_review"
	case errors.Is(err, ErrAlreadyApproved):
		return "already_approved"
	}
	return "refused"
}

// refusalRecord narrates a refused request.
func refusalRecord(now time.Time, r Refusal, skipped int) clarity.Record {
	who := strings.TrimSpace(r.Who)
	if who == "" {
		who = "unauthenticated"
	}
	where := r.Where
	if where == "" {
		where = "front_door"
	}
	why := []string{fmt.Sprintf("%s %s refused with %d %s: %s", who, clip(r.Action, 200), r.Status, r.Code, clip(r.Reason, 300))}
	if r.Remote != "" {
		why = append(why, "From "+clip(r.Remote, 100))
	}
	why = append(why, "Refused before reaching the engine: nothing changed")
	if skipped > 0 {
		why = append(why, fmt.Sprintf("%d refusals before this one were not recorded one by one (throttled)", skipped))
	}
	ctx := map[string]any{"status": r.Status, "code": r.Code, "action": clip(r.Action, 200), "role": r.Role,
		"remote": clip(r.Remote, 100), "unrecorded_refusals": skipped}
	if r.Field != "" {
		ctx["field"] = clip(r.Field, 100)
	}
	if r.RequestID != "" {
		ctx["request_id"] = clip(r.RequestID, 128)
	}
	for k, v := range r.Details {
		if _, taken := ctx[k]; !taken {
			ctx[k] = v
		}
	}
	intentID := ""
	if printable(r.IntentID) && len(r.IntentID) <= 64 {
		intentID = r.IntentID
	}
	rr := rec(now, clip(who, maxActorLen), WhatRequestRefused, where, "access_control", "refused", intentID, why, ctx)
	rr.Risk = 0.5
	if r.Status == 401 || r.Status == 403 {
		rr.Risk = 0.7
	}
	return rr
}
