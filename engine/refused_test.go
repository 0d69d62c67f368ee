package engine

import (
	"fmt"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"grace/engine/clarity"
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

func TestRefusalBucketCountsWhatItLeavesOut(t *testing.T) {
	t.Parallel()
	now := time.Unix(0, 0)
	b := newBucket(now, 3)
	for i := range 3 {
		if _, ok := b.take(now, 10, 3); !ok {
			t.Fatalf("take %d refused within the burst", i)
		}
	}
	for range 5 {
		if _, ok := b.take(now, 10, 3); ok {
			t.Fatal("take past the burst allowed")
		}
	}
	skipped, ok := b.take(now.Add(100*time.Millisecond), 10, 3)
	if !ok || skipped != 5 {
		t.Fatalf("after refill: skipped %d ok %v, want 5 true", skipped, ok)
	}
	if skipped, _ := b.take(now.Add(time.Hour), 10, 3); skipped != 0 {
		t.Fatalf("the skipped count was not reset: %d", skipped)
	}
}

// floodUnauthenticated records n unauthenticated 401s, spread over 32
// client ports on each of addrs, at the clock's current instant.
func floodUnauthenticated(t *testing.T, e *Engine, n int, addrs ...string) {
	t.Helper()
	for i := range n {
		err := e.RecordRefusal(t.Context(), Refusal{Where: "http_api", Action: "GET /v1/whoami", Status: 401,
			Code: "unauthorized", Reason: "invalid bearer token: no identity has it",
			Remote: net.JoinHostPort(addrs[i%len(addrs)], strconv.Itoa(40000+i%32))})
		if err != nil {
			t.Fatal(err)
		}
	}
}

func countRefused(recs []clarity.Record, who string) int {
	n := 0
	for _, r := range recs {
		if r.What == WhatRequestRefused && r.Who == who {
			n++
		}
	}
	return n
}

// An identity's refusals are on the record however many unauthenticated
// ones come before and between them: they spend a budget of their own.
func TestIdentityRefusalsAreRecordedDuringAnUnauthenticatedFlood(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for range 10 {
		floodUnauthenticated(t, b.e, 3000, "203.0.113.7", "203.0.113.8")
		err := b.e.RecordRefusal(t.Context(), Refusal{Who: "agent.builder", Role: RoleAgent, Where: "http_api",
			Action: "POST /v1/intents/{id}/approve", Status: 403, Code: "forbidden", Reason: "agent may not approve",
			IntentID: "int_1", Remote: "198.51.100.1:5000"})
		if err != nil {
			t.Fatal(err)
		}
		b.e.refusedDecision(t.Context(), "int_2", "op.alice", "ok", true, ErrSelfApproval)
	}
	recs := b.store.Records()
	if n := countRefused(recs, "agent.builder"); n != 10 {
		t.Fatalf("%d of agent.builder's 10 refused approvals on the record during a flood, want 10", n)
	}
	if n := len(b.store.RecordsFor("int_2")); n != 10 {
		t.Fatalf("%d of op.alice's 10 refused self-approvals on the record during a flood, want 10", n)
	}
	if n := countRefused(recs, "unauthenticated"); n > anonGlobalBurst {
		t.Fatalf("%d unauthenticated refusals recorded one by one at one instant, want at most %d", n, anonGlobalBurst)
	}
	c := b.e.RefusalCounts()
	if c.IdentifiedRecorded != 20 || c.IdentifiedSummarised != 0 || c.UnauthenticatedRecorded+c.UnauthenticatedSummarised != 30000 {
		t.Fatalf("counts = %+v", c)
	}
}

// An identity past its own budget is summarised on its next record;
// another identity is not affected.
func TestIdentityPastItsBudgetIsSummarisedAlone(t *testing.T) {
	t.Parallel()
	b := setup(t)
	refuse := func(who string) {
		t.Helper()
		if err := b.e.RecordRefusal(t.Context(), Refusal{Who: who, Where: "http_api", Action: "GET /v1/chaos/runs",
			Status: 403, Code: "forbidden", Reason: "no"}); err != nil {
			t.Fatal(err)
		}
	}
	const extra = 7
	for range identityRefusalBurst + extra {
		refuse("agent.noisy")
	}
	refuse("agent.quiet")
	recs := b.store.Records()
	if n := countRefused(recs, "agent.noisy"); n != identityRefusalBurst {
		t.Fatalf("%d of agent.noisy's records at one instant, want %d", n, identityRefusalBurst)
	}
	if last := recs[len(recs)-1]; last.Who != "agent.quiet" || last.Context["unrecorded_refusals"] != 0 {
		t.Fatalf("agent.quiet's refusal: %+v", last)
	}
	b.clock.Advance(time.Second)
	refuse("agent.noisy")
	recs = b.store.Records()
	last := recs[len(recs)-1]
	why := strings.Join(last.Why, " | ")
	if last.Who != "agent.noisy" || last.Context["unrecorded_refusals"] != extra ||
		!strings.Contains(why, fmt.Sprintf("%d refusals before this one were not recorded one by one (throttled)", extra)) {
		t.Fatalf("agent.noisy's next record: %+v", last)
	}
}

// An identity that goes quiet after its budget is spent still has its
// uncounted refusals on the record: a summary a minute after the first
// one left out, and none counted twice on its next record.
func TestQuietIdentityPastItsBudgetIsSummarised(t *testing.T) {
	t.Parallel()
	b := setup(t)
	refuse := func() {
		t.Helper()
		if err := b.e.RecordRefusal(t.Context(), Refusal{Who: "agent.noisy", Where: "http_api", Action: "GET /v1/chaos/runs",
			Status: 403, Code: "forbidden", Reason: "no"}); err != nil {
			t.Fatal(err)
		}
	}
	summaries := func() []clarity.Record {
		var out []clarity.Record
		for _, r := range b.store.Records() {
			if r.Who == "agent.noisy" && r.Context["throttled"] == true {
				out = append(out, r)
			}
		}
		return out
	}
	const extra = 9
	for range identityRefusalBurst + extra {
		refuse()
	}
	b.clock.Advance(refusalSummaryEvery - time.Second)
	b.e.summariseRefusals(t.Context(), b.clock.Now(), false)
	if s := summaries(); len(s) != 0 {
		t.Fatalf("summarised before a minute: %+v", s)
	}
	b.clock.Advance(time.Second)
	b.e.summariseRefusals(t.Context(), b.clock.Now(), false)
	s := summaries()
	if len(s) != 1 || s[0].Context["refused"] != extra || s[0].What != WhatRequestRefused ||
		!strings.Contains(strings.Join(s[0].Why, " | "), fmt.Sprintf("%d of agent.noisy's refusals since", extra)) {
		t.Fatalf("summary of the quiet identity: %+v", s)
	}
	if c := b.e.RefusalCounts(); c.IdentitySummaries != 1 || c.IdentifiedSummarised != extra {
		t.Fatalf("counts %+v", c)
	}
	refuse()
	recs := b.store.Records()
	if last := recs[len(recs)-1]; last.Who != "agent.noisy" || last.Context["unrecorded_refusals"] != 0 {
		t.Fatalf("the next record counts the summarised refusals again: %+v", last)
	}
}

// A flood of unauthenticated refusals grows the record by a bounded
// amount a minute: past a small budget per address they are summarised,
// one record per address a minute, and every refusal is counted in one.
func TestUnauthenticatedFloodIsSummarisedPerAddress(t *testing.T) {
	t.Parallel()
	b := setup(t)
	const minutes, perSecond = 5, 200
	addrs := []string{"203.0.113.7", "203.0.113.8"}
	for range minutes * 60 {
		floodUnauthenticated(t, b.e, perSecond, addrs...)
		b.clock.Advance(time.Second)
	}
	floodUnauthenticated(t, b.e, 1, addrs...) // writes the summaries now due
	recs := b.store.Records()
	one, summaries, summarised := 0, 0, 0
	for _, r := range recs {
		if r.What != WhatRequestRefused {
			continue
		}
		if r.Context["throttled"] == true {
			summaries++
			summarised += r.Context["refused"].(int)
			why := strings.Join(r.Why, " | ")
			if !strings.Contains(why, "unauthenticated requests refused from 203.0.113.") || !strings.Contains(why, "(throttled)") {
				t.Fatalf("summary: %q", why)
			}
			continue
		}
		one++
	}
	// Per address: its burst and then 10 a minute.
	maxOne := len(addrs) * (anonRefusalBurst + minutes*60*anonRefusalRate + 1)
	if one > int(maxOne) {
		t.Fatalf("%d unauthenticated refusals recorded one by one in %d minutes of flood, want at most %d", one, minutes, int(maxOne))
	}
	if summaries < len(addrs)*(minutes-1) || summaries > len(addrs)*(minutes+1) {
		t.Fatalf("%d summaries for %d addresses over %d minutes", summaries, len(addrs), minutes)
	}
	total := minutes*60*perSecond + 1
	c := b.e.RefusalCounts()
	pending := int(c.UnauthenticatedSummarised) - summarised
	if one+summarised+pending != total || int(c.UnauthenticatedRecorded) != one || c.Summaries != uint64(summaries) || pending > 2*perSecond*60 {
		t.Fatalf("%d one by one + %d summarised + %d pending, want %d in all; counts %+v", one, summarised, pending, total, c)
	}
}

// When the engine stops, the summaries not yet due are written.
func TestPendingRefusalSummariesAreWrittenOnStop(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.start(t)
	floodUnauthenticated(t, b.e, 500, "2001:db8::1", "2001:db8::2") // one /64
	b.e.Stop()
	var found bool
	for _, r := range b.store.Records() {
		if r.What == WhatRequestRefused && r.Context["throttled"] == true {
			found = true
			if r.Context["remote"] != "2001:db8::/64" || r.Context["refused"] != 500-anonRefusalBurst {
				t.Fatalf("summary: %v %v", r.Why, r.Context)
			}
		}
	}
	if !found {
		t.Fatal("no summary of the unauthenticated refusals left out")
	}
}
