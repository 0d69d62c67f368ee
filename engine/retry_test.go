package engine

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"grace/engine/intent"
	"grace/engine/worker"
)

// TestRetrySubmitsAFailedIntentAgain: a failed intent is submitted again
// as a new intent on the operator's word, with the original's actor and
// payload, governed afresh, linked both ways on the record; the original
// stays failed; asking twice, or another operator asking, answers the
// first retry; anything but a failed intent is refused, and a Tier 0
// retry waits for an approval its submitter cannot give, whoever retried
// it.
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
	if next.ID == orig.ID || next.Actor != "agent.builder" || next.Type != orig.Type || next.Priority != 7 || next.State != intent.StateQueued {
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
	if left, err := b.e.List(ctx, intent.Filter{State: intent.StateFailed, Unretried: true}); err != nil || len(left) != 0 {
		t.Fatalf("failed intents not yet retried: %v, %v; want none (%s was retried)", left, err, orig.ID)
	}
	for _, by := range []string{"alice", "bob"} {
		again, err := b.e.Retry(ctx, orig.ID, by, "again")
		if err != nil || !again.Existing || again.Intent.ID != next.ID {
			t.Fatalf("%s asking again: %+v, %v; want the first retry", by, again, err)
		}
	}

	// Only failed intents.
	if _, err := b.e.Retry(ctx, next.ID, "alice", "r"); !errors.Is(err, ErrNotRetryable) {
		t.Fatalf("retry of a completed intent: %v, want ErrNotRetryable", err)
	}
	if _, err := b.e.Retry(ctx, "int_01NOSUCHINTENT0000000000", "alice", "r"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("retry of an unknown intent: %v, want ErrNotFound", err)
	}

	// A Tier 0 retry waits for an approval, never from the one who
	// submitted the original: carol cancels her own, bob retries it, and
	// carol still cannot approve it.
	b.handlers.set("change_charter", func(context.Context, intent.Intent) error {
		return worker.Permanent(errors.New("charter store read-only"))
	})
	ch := b.submit(t, intent.Submission{Type: "change_charter", Actor: "carol"})
	if _, err := b.e.Cancel(ctx, ch.ID, "carol", "not yet"); err != nil {
		t.Fatal(err)
	}
	res, err = b.e.Retry(ctx, ch.ID, "bob", "now")
	if err != nil || res.Intent.State != intent.StatePendingApproval || res.Intent.Actor != "carol" {
		t.Fatalf("Tier 0 retry: %+v, %v; want carol's, pending approval", res.Intent, err)
	}
	if _, err := b.e.Approve(ctx, res.Intent.ID, "carol", "mine"); !errors.Is(err, ErrSelfApproval) {
		t.Fatalf("the submitter approving the retry of her intent: %v, want ErrSelfApproval", err)
	}
	if _, err := b.e.Approve(ctx, res.Intent.ID, "bob", "ok"); err != nil {
		t.Fatalf("another operator approving: %v", err)
	}
	b.waitState(t, res.Intent.ID, intent.StateFailed)
}

// TestRetryKeepsASchedule: an intent scheduled for later and cancelled
// before its time keeps its not_before on the record, and a retry is
// scheduled for the same time; one whose time has passed runs at once.
func TestRetryKeepsASchedule(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.start(t)
	ctx := t.Context()
	at := b.clock.Now().Add(time.Hour).UTC()
	orig := b.submit(t, intent.Submission{Type: "query_knowledge", NotBefore: at})
	cancelled, err := b.e.Cancel(ctx, orig.ID, "alice", "wrong day")
	if err != nil || !cancelled.NotBefore.Equal(at) || !b.stored(t, orig.ID).NotBefore.Equal(at) {
		t.Fatalf("cancelled: %v, not before %v; want %v kept", err, cancelled.NotBefore, at)
	}
	res, err := b.e.Retry(ctx, orig.ID, "alice", "right day after all")
	if err != nil || !res.Intent.NotBefore.Equal(at) {
		t.Fatalf("retry: %+v, %v; want not before %v", res.Intent, err, at)
	}
	b.clock.Advance(2 * time.Hour)
	b.waitState(t, res.Intent.ID, intent.StateCompleted)

	// Its time passed while it was cancelled: the retry runs now.
	late := b.submit(t, intent.Submission{Type: "query_knowledge", NotBefore: b.clock.Now().Add(time.Minute)})
	if _, err := b.e.Cancel(ctx, late.ID, "alice", "hold"); err != nil {
		t.Fatal(err)
	}
	b.clock.Advance(time.Hour)
	res, err = b.e.Retry(ctx, late.ID, "alice", "now")
	if err != nil || !res.Intent.NotBefore.IsZero() {
		t.Fatalf("retry of one whose time passed: %+v, %v; want no schedule", res.Intent, err)
	}
	b.waitState(t, res.Intent.ID, intent.StateCompleted)
}

// TestRetryOfEndedIntents: an intent cancelled, dropped by load shedding
// or whose approval expired may be retried too, governed afresh, its
// record saying how the original ended; a denied one may not (a person
// answered it), nor one that has not finished.
func TestRetryOfEndedIntents(t *testing.T) {
	t.Parallel()
	b := shedSetup(t, func(c *Config) { c.Approvals.Timeout = time.Hour })
	ctx := t.Context()
	receivedWhy := func(id string) string {
		t.Helper()
		return strings.Join(recordOf(t, b.store.RecordsFor(id), WhatReceived).Why, " | ")
	}

	queued := b.submit(t, intent.Submission{Type: "query_knowledge"})
	if _, err := b.e.Retry(ctx, queued.ID, "alice", "r"); !errors.Is(err, ErrNotRetryable) || !strings.Contains(err.Error(), "it is queued") {
		t.Fatalf("retry of a queued intent: %v, want ErrNotRetryable", err)
	}
	if _, err := b.e.Cancel(ctx, queued.ID, "bob", "wrong target"); err != nil {
		t.Fatal(err)
	}
	res, err := b.e.Retry(ctx, queued.ID, "alice", "the right target after all")
	if err != nil || res.Intent.State != intent.StateQueued {
		t.Fatalf("retry of a cancelled intent: %+v, %v", res.Intent.State, err)
	}
	if why := receivedWhy(res.Intent.ID); !strings.Contains(why, "which bob cancelled: wrong target") {
		t.Fatalf("the retry's intent_received: %s", why)
	}
	if r := recordOf(t, b.store.RecordsFor(queued.ID), WhatRetried); !strings.Contains(r.Why[0], "stays cancelled") {
		t.Fatalf("intent_retried on the original: %v", r.Why)
	}

	// A Tier 0 intent whose approval expired is asked for again; one
	// denied is not.
	charter := b.submit(t, intent.Submission{Type: "modify_governance"})
	denied := b.submit(t, intent.Submission{Type: "modify_governance"})
	if _, err := b.e.Deny(ctx, denied.ID, "bob", "not now"); err != nil {
		t.Fatal(err)
	}
	if _, err := b.e.Retry(ctx, denied.ID, "alice", "please"); !errors.Is(err, ErrNotRetryable) || !strings.Contains(err.Error(), "denied by bob") {
		t.Fatalf("retry of a denied intent: %v, want ErrNotRetryable naming the denial", err)
	}

	// Load shedding: old low-priority work past the critical depth.
	stale := b.fill(t, 30, 2)
	b.clock.Advance(61 * time.Minute) // the approval's deadline, and these are old
	b.waitState(t, charter.ID, intent.StateExpired)
	b.fill(t, 20, 8)
	b.waitState(t, stale[0], intent.StateShed)

	res, err = b.e.Retry(ctx, charter.ID, "alice", "ask again")
	if err != nil || res.Intent.State != intent.StatePendingApproval {
		t.Fatalf("retry of an expired Tier 0 intent: %+v, %v; want pending approval again", res.Intent.State, err)
	}
	if why := receivedWhy(res.Intent.ID); !strings.Contains(why, "whose approval expired unanswered") {
		t.Fatalf("the expired intent's retry: %s", why)
	}
	res, err = b.e.Retry(ctx, stale[0], "alice", "the flood is over")
	if err != nil || res.Intent.State != intent.StateQueued {
		t.Fatalf("retry of a shed intent: %+v, %v", res.Intent.State, err)
	}
	if why := receivedWhy(res.Intent.ID); !strings.Contains(why, "which load shedding dropped") {
		t.Fatalf("the shed intent's retry: %s", why)
	}
}
