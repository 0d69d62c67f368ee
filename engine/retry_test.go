package engine

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"

	"grace/engine/intent"
	"grace/engine/worker"
)

// TestRetrySubmitsAFailedIntentAgain: a failed intent is submitted again
// as a new intent on the operator's word, with the original's payload,
// governed afresh, linked both ways on the record; the original stays
// failed; asking twice answers the first retry; anything but a failed
// intent is refused, and a Tier 0 retry waits for an approval its
// requester cannot give.
func TestRetrySubmitsAFailedIntentAgain(t *testing.T) {
	t.Parallel()
	b := setup(t)
	var fail atomic.Bool
	fail.Store(true)
	b.handlers.set("query_knowledge", func(_ context.Context, in intent.Intent) error {
		if fail.Load() {
			return worker.Permanent(errors.New("index offline"))
		}
		if !strings.Contains(string(in.Payload), "kernel 7") {
			return worker.Permanent(errors.New("the retry lost its payload: " + string(in.Payload)))
		}
		return nil
	})
	b.start(t)
	ctx := t.Context()
	orig := b.submit(t, intent.Submission{Type: "query_knowledge", Actor: "agent.builder", Payload: []byte(`{"q":"kernel 7"}`), Priority: 7})
	b.waitState(t, orig.ID, intent.StateFailed)

	for _, tc := range []struct{ by, reason string }{{"", "r"}, {"alice", " "}} {
		if _, err := b.e.Retry(ctx, orig.ID, tc.by, tc.reason); err == nil {
			t.Fatalf("retry by %q with reason %q was accepted", tc.by, tc.reason)
		}
	}
	fail.Store(false)
	res, err := b.e.Retry(ctx, orig.ID, "alice", "index is back")
	if err != nil {
		t.Fatal(err)
	}
	next := res.Intent
	if next.ID == orig.ID || next.Actor != "alice" || next.Type != orig.Type || next.Priority != 7 || next.State != intent.StateQueued {
		t.Fatalf("the retry: %+v", next)
	}
	b.waitState(t, next.ID, intent.StateCompleted)
	if st := b.stored(t, orig.ID).State; st != intent.StateFailed {
		t.Fatalf("the original is %s, want failed", st)
	}
	got := recordOf(t, b.store.RecordsFor(orig.ID), WhatRetried)
	if got.Who != "alice" || got.Context["retry_id"] != next.ID {
		t.Fatalf("intent_retried on the original: %+v", got)
	}
	rcv := recordOf(t, b.store.RecordsFor(next.ID), WhatReceived)
	if rcv.Context["retry_of"] != orig.ID || !strings.Contains(strings.Join(rcv.Why, " "), "index offline") {
		t.Fatalf("intent_received of the retry: %+v", rcv)
	}
	again, err := b.e.Retry(ctx, orig.ID, "alice", "again")
	if err != nil || !again.Existing || again.Intent.ID != next.ID {
		t.Fatalf("asking twice: %+v, %v; want the first retry", again, err)
	}

	// Only failed intents.
	if _, err := b.e.Retry(ctx, next.ID, "alice", "r"); !errors.Is(err, ErrNotRetryable) {
		t.Fatalf("retry of a completed intent: %v, want ErrNotRetryable", err)
	}
	if _, err := b.e.Retry(ctx, "int_01NOSUCHINTENT0000000000", "alice", "r"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("retry of an unknown intent: %v, want ErrNotFound", err)
	}

	// A Tier 0 retry waits for an approval, not from its requester.
	b.handlers.set("change_charter", func(context.Context, intent.Intent) error {
		return worker.Permanent(errors.New("charter store read-only"))
	})
	ch := b.submit(t, intent.Submission{Type: "change_charter"})
	if _, err := b.e.Approve(ctx, ch.ID, "bob", "ok"); err != nil {
		t.Fatal(err)
	}
	b.waitState(t, ch.ID, intent.StateFailed)
	res, err = b.e.Retry(ctx, ch.ID, "bob", "store writable again")
	if err != nil || res.Intent.State != intent.StatePendingApproval {
		t.Fatalf("Tier 0 retry: %+v, %v; want pending approval", res.Intent.State, err)
	}
	if _, err := b.e.Approve(ctx, res.Intent.ID, "bob", "mine"); !errors.Is(err, ErrSelfApproval) {
		t.Fatalf("the requester approving its retry: %v, want ErrSelfApproval", err)
	}
}
