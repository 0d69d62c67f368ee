package engine

import (
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"grace/engine/intent"
)

// TestScheduledIntentWaitsForItsTime: a submission with not_before is
// governed, stored and queued at once, and dispatched no earlier than its
// time; a Tier 0 one approved early keeps its time; a time already past
// means now; one more than MaxSchedule ahead is refused, naming the field.
func TestScheduledIntentWaitsForItsTime(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.start(t)
	ctx := t.Context()
	now := b.clock.Now()

	later := b.submit(t, intent.Submission{Type: "query_knowledge", NotBefore: now.Add(10 * time.Minute)})
	if later.State != intent.StateQueued || !later.NotBefore.Equal(now.Add(10*time.Minute)) {
		t.Fatalf("a scheduled submission: %s, not before %v", later.State, later.NotBefore)
	}
	r := recordOf(t, b.store.RecordsFor(later.ID), WhatReceived)
	if r.Context["not_before"] != now.Add(10*time.Minute).UTC().Format(time.RFC3339Nano) {
		t.Fatalf("intent_received context: %v", r.Context)
	}
	// Due already: runs now, and the intent submitted after it waits not.
	past := b.submit(t, intent.Submission{Type: "query_knowledge", NotBefore: now.Add(-time.Hour)})
	if !past.NotBefore.IsZero() {
		t.Fatalf("a time already past: not before %v, want none", past.NotBefore)
	}
	b.waitState(t, past.ID, intent.StateCompleted)
	charter := b.submit(t, intent.Submission{Type: "change_charter", NotBefore: now.Add(10 * time.Minute)})
	if _, err := b.e.Approve(ctx, charter.ID, "alice", "at ten past"); err != nil {
		t.Fatal(err)
	}

	b.clock.Advance(9 * time.Minute)
	// A probe run to its end: the scheduler has looked at the queue since,
	// with two workers free; neither scheduled intent was due.
	probe := b.submit(t, intent.Submission{Type: "query_knowledge"})
	b.waitState(t, probe.ID, intent.StateCompleted)
	b.store.Flush()
	for _, id := range []string{later.ID, charter.ID} {
		if got := b.stored(t, id); got.State != intent.StateQueued || b.handlers.callsFor(id) != 0 {
			t.Fatalf("%s before its time: %s, run %d times", id, got.State, b.handlers.callsFor(id))
		}
	}
	b.clock.Advance(time.Minute)
	b.waitState(t, later.ID, intent.StateCompleted)
	b.waitState(t, charter.ID, intent.StateCompleted)

	_, err := b.e.Submit(ctx, intent.Submission{Type: "query_knowledge", Actor: "agent.a", NotBefore: b.clock.Now().Add(MaxSchedule + time.Hour)})
	var verr *ValidationError
	if !errors.As(err, &verr) || len(verr.Problems) != 1 || verr.Problems[0].Field != "not_before" {
		t.Fatalf("scheduled too far ahead: %v, want a validation error on not_before", err)
	}
	// Past what a time.Duration holds (292 years), the distance is still
	// told right.
	far := time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)
	_, err = b.e.Submit(ctx, intent.Submission{Type: "query_knowledge", Actor: "agent.a", NotBefore: far})
	days := strconv.FormatInt((far.Unix()-b.clock.Now().Unix())/86400, 10)
	if !errors.As(err, &verr) || !strings.Contains(verr.Problems[0].Reason, "(9999-01-01T00:00:00Z) is "+days+" days ahead") {
		t.Fatalf("scheduled in 9999: %v, want it %s days ahead", err, days)
	}
}
