package engine

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"grace/engine/clarity"
	"grace/engine/intent"
)

var _ Retrier = (*Engine)(nil)

// Retry submits the ended intent id again (failed, cancelled, expired
// or shed; see retryRefusal): a new intent with its type, actor,
// payload, context and priority (the real values, masked fields too), on
// the authority of by, the operator who asked, with a reason (both
// required). The new intent is the original's submitter's, as the
// original was: that actor sees it and may cancel it, and cannot approve
// it, whoever retried it; by is named on the record. It is governed as any
// submission is (validation, the rate limits, its tier and routing, an
// approval for Tier 0, two operators for the two-person types, queue
// room), so a retry is never a way around governance. A schedule
// (not_before) still ahead is kept. The original stays as it ended. One
// durable change writes the new intent with its intake records, whose
// intent_received says what it retries, and an intent_retried record on
// the original naming the new one. Any other intent gets an error wrapping
// ErrNotRetryable; an unknown ID, ErrNotFound. An intent is retried once:
// asking again, whoever asks, is answered with the first retry (Existing
// set), nothing new stored. It returns the new intent masked.
func (e *Engine) Retry(ctx context.Context, id, by, reason string) (SubmitResult, error) {
	id = intent.CanonicalID(id) // typed in another case
	if err := checkDecisionText(by, "reason", reason); err != nil {
		return SubmitResult{}, fmt.Errorf("retry intent %s: %w", id, err)
	}
	by, reason = strings.TrimSpace(by), strings.TrimSpace(reason)
	switch {
	case by == "":
		return SubmitResult{}, fmt.Errorf("retry intent %s: %w", id, ErrOperatorRequired)
	case reason == "":
		return SubmitResult{}, fmt.Errorf("retry intent %s: %w", id, ErrReasonRequired)
	}
	orig, err := e.store.Get(ctx, id)
	if err != nil {
		return SubmitResult{}, fmt.Errorf("retry intent %s: %w", id, err)
	}
	if why := retryRefusal(orig); why != "" {
		return SubmitResult{}, fmt.Errorf("retry intent %s: %w (%s)", id, ErrNotRetryable, why)
	}
	// Under the submitter's key naming the original: asking again (a
	// double click, a script rerun, a second operator) answers the first
	// retry, Existing set.
	sub := intent.Submission{Type: orig.Type, Actor: orig.Actor, Payload: orig.Payload, Context: orig.Context, Priority: orig.Priority,
		IdempotencyKey: intent.RetryKey(orig.ID)}
	if orig.NotBefore.After(e.clock.Now()) {
		sub.NotBefore = orig.NotBefore
	}
	return e.submit(ctx, sub, func(in intent.Intent, recs []clarity.Record) []clarity.Record {
		if len(recs) > 0 && recs[0].What == WhatReceived {
			r := &recs[0]
			r.Why = append(r.Why, fmt.Sprintf("Retry of %s (%s, submitted by %s), %s", orig.ID, orig.Type, orig.Actor, endedText(orig)),
				"Retried by "+by+": "+reason)
			r.Context["retry_of"] = orig.ID
		}
		return append(recs, retriedRecord(in.CreatedAt, orig, in, by, reason))
	})
}

// retryRefusal says why orig cannot be retried, or "" when it can: it
// ended without completing, and no human refused it. A failed intent, one
// cancelled, one whose approval expired, one load shedding dropped may be
// submitted again (governed afresh); a denied one may not, since a
// retry would ask again what a person has answered.
func retryRefusal(orig intent.Intent) string {
	switch orig.State {
	case intent.StateFailed, intent.StateCancelled, intent.StateExpired, intent.StateShed:
		return ""
	case intent.StateDenied:
		return "it was denied by " + orDash(orig.DecidedBy) + "; a retry would ask again what a person has answered: submit it anew if it must run"
	}
	return "it is " + string(orig.State) + "; only a failed, cancelled, expired or shed intent can be retried"
}

// endedText says how orig ended, for a retry's records: "which failed
// after 3 attempts: …".
func endedText(orig intent.Intent) string {
	switch orig.State {
	case intent.StateCancelled:
		return fmt.Sprintf("which %s cancelled: %s", orDash(orig.DecidedBy), orDash(orig.DecisionReason))
	case intent.StateExpired:
		return "whose approval expired unanswered"
	case intent.StateShed:
		return "which load shedding dropped from the queue"
	}
	return fmt.Sprintf("which failed after %s: %s", plural(orig.Attempts, "attempt"), orDash(orig.LastError))
}

// retriedRecord narrates, on the ended intent orig, that by submitted it
// again as next.
func retriedRecord(now time.Time, orig, next intent.Intent, by, reason string) clarity.Record {
	r := rec(now, by, WhatRetried, whereIntake, "operator_retry", "resubmitted", orig.ID,
		[]string{
			by + " submitted " + orig.Type + " again as " + next.ID + "; this intent, " + endedText(orig) + ", stays " + string(orig.State),
			"Reason: " + reason,
			"The new intent is governed afresh: Tier " + strconv.Itoa(next.Tier) + ", " + string(next.State),
		},
		map[string]any{"type": orig.Type, "retry_id": next.ID, "retried_by": by, "reason": reason, "retry_state": string(next.State)})
	r.Risk = riskOf(next.Tier)
	return r
}

// orDash is s, or "-" when it is empty.
func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
