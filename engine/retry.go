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

// Retry submits the failed intent id again: a new intent with its type,
// payload, context and priority (the real values, masked fields too), whose
// actor is by, the operator who asked, with a reason (both required). The
// new intent is governed as any submission is (validation, the rate
// limits, its tier and routing, an approval for Tier 0, two operators
// for the two-person types, queue room), so a retry is never a way around
// governance; and since by is its submitter, by cannot approve it. The
// original stays failed. One durable change writes the new intent with
// its intake records, whose intent_received says what it retries, and an
// intent_retried record on the original naming the new one. An intent
// that has not failed gets an error wrapping ErrNotRetryable; an unknown
// ID, ErrNotFound. The same operator asking again for the same intent is
// answered with the first retry (Existing set), nothing new stored. It
// returns the new intent masked.
func (e *Engine) Retry(ctx context.Context, id, by, reason string) (SubmitResult, error) {
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
	if orig.State != intent.StateFailed {
		return SubmitResult{}, fmt.Errorf("retry intent %s: %w (it is %s; only a failed intent can be retried)", id, ErrNotRetryable, orig.State)
	}
	// Under a key of by's that names the original: asking again (a double
	// click, a script rerun) answers the first retry, Existing set.
	sub := intent.Submission{Type: orig.Type, Actor: by, Payload: orig.Payload, Context: orig.Context, Priority: orig.Priority,
		IdempotencyKey: "retry-of-" + orig.ID}
	return e.submit(ctx, sub, func(in intent.Intent, recs []clarity.Record) []clarity.Record {
		if len(recs) > 0 && recs[0].What == WhatReceived {
			r := &recs[0]
			r.Why = append(r.Why, fmt.Sprintf("Retry of %s (%s, submitted by %s), which failed after %s: %s",
				orig.ID, orig.Type, orig.Actor, plural(orig.Attempts, "attempt"), orDash(orig.LastError)),
				"Retried by "+by+": "+reason)
			r.Context["retry_of"] = orig.ID
		}
		return append(recs, retriedRecord(in.CreatedAt, orig, in, by, reason))
	})
}

// retriedRecord narrates, on the failed intent orig, that by submitted it
// again as next.
func retriedRecord(now time.Time, orig, next intent.Intent, by, reason string) clarity.Record {
	r := rec(now, by, WhatRetried, whereIntake, "operator_retry", "resubmitted", orig.ID,
		[]string{
			by + " submitted " + orig.Type + " again as " + next.ID + " after it failed (" + strconv.Itoa(orig.Attempts) + " attempts); this intent stays failed",
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
