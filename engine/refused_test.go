package engine

import (
	"strings"
	"testing"
	"time"
)

func TestRecordRefusalNarratesTheAttempt(t *testing.T) {
	t.Parallel()
	b := setup(t)
	err := b.e.RecordRefusal(t.Context(), Refusal{
		Who: "agent.x", Role: RoleAgent, Where: "http_api", Action: "POST /v1/intents/{id}/approve",
		Status: 403, Code: "forbidden", Reason: "agent.x (role agent) may not call it", IntentID: "int_1",
		Remote: "127.0.0.1:5555", RequestID: "req-9", Details: map[string]any{"token_sha256_prefix": "abcdef012345"},
	})
	if err != nil {
		t.Fatal(err)
	}
	recs := b.store.RecordsFor("int_1")
	if len(recs) != 1 {
		t.Fatalf("records = %+v", recs)
	}
	checkRecords(t, recs)
	r := recs[0]
	why := strings.Join(r.Why, " | ")
	if r.What != WhatRequestRefused || r.Who != "agent.x" || r.Where != "http_api" || r.Result != "refused" ||
		!strings.Contains(why, "403 forbidden") || !strings.Contains(why, "nothing changed") ||
		r.Context["token_sha256_prefix"] != "abcdef012345" || r.Context["role"] != RoleAgent || r.Context["request_id"] != "req-9" {
		t.Fatalf("refusal record = %+v", r)
	}
	if err := b.e.RecordRefusal(t.Context(), Refusal{Status: 401, Code: "unauthorized", Action: "GET /v1/intents"}); err != nil {
		t.Fatal(err)
	}
	if last := b.store.Records(); last[len(last)-1].Who != "unauthenticated" {
		t.Fatalf("an unauthenticated refusal is recorded as %q", last[len(last)-1].Who)
	}
}

func TestRefusalRecordsAreThrottled(t *testing.T) {
	t.Parallel()
	tr := &throttle{rate: 10, burst: 3}
	now := time.Unix(0, 0)
	for i := range 3 {
		if _, ok := tr.take(now); !ok {
			t.Fatalf("take %d refused within the burst", i)
		}
	}
	for range 5 {
		if _, ok := tr.take(now); ok {
			t.Fatal("take past the burst allowed")
		}
	}
	skipped, ok := tr.take(now.Add(100 * time.Millisecond))
	if !ok || skipped != 5 {
		t.Fatalf("after refill: skipped %d ok %v, want 5 true", skipped, ok)
	}
	if skipped, _ := tr.take(now.Add(time.Hour)); skipped != 0 {
		t.Fatalf("the skipped count was not reset: %d", skipped)
	}
}
