package engine

import (
	"errors"
	"strings"
	"testing"

	"grace/engine/intent"
)

// TestSubmitAtomicKeyGivenTwiceDifferently: two submissions of one atomic
// batch under one idempotency key that differ refuse the batch, and the
// refusal names the earlier submission, not an intent ID: the ID the
// earlier one would have had names nothing, since nothing was stored (it
// said "resend that same submission to get int_… back"). The refusal is
// on the record as idempotency_conflict, as a conflict with a stored
// intent is; it was on no record at all.
func TestSubmitAtomicKeyGivenTwiceDifferently(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.start(t)
	_, err := b.e.SubmitAtomic(t.Context(), []intent.Submission{
		{Type: "query_knowledge", Actor: "agent.a"},
		{Type: "query_knowledge", Actor: "agent.a", IdempotencyKey: "k1", Priority: 3},
		{Type: "query_knowledge", Actor: "agent.a", IdempotencyKey: "k1", Priority: 4},
	})
	br := refusedAt(t, err, 2)
	var c *IdempotencyConflictError
	if !errors.As(br.Items[0].Err, &c) || !c.InBatch || c.HolderIndex != 1 || c.ExistingID != "" {
		t.Fatalf("the conflict: %#v, want the batch's submission 1 named as the key's holder", br.Items[0].Err)
	}
	if msg := err.Error(); strings.Contains(msg, "int_") || !strings.Contains(msg, "submission 1 of this batch") || !strings.Contains(msg, "priority") {
		t.Fatalf("the refusal says %q", msg)
	}
	if n := len(b.store.Intents()); n != 0 {
		t.Fatalf("%d intents stored by a refused batch", n)
	}
	b.store.Flush()
	if n := b.store.Count(WhatIdempotencyConflict); n != 1 {
		t.Fatalf("%d idempotency_conflict records, want 1", n)
	}
	checkRecords(t, b.store.Records())
}
