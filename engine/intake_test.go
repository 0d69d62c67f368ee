package engine

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"grace/engine/clarity"
	"grace/engine/intent"
)

func TestSubmitListsEveryProblemAndRecordsTheRejection(t *testing.T) {
	t.Parallel()
	b := setup(t)
	_, err := b.e.Submit(t.Context(), intent.Submission{
		Type:           "",
		Actor:          "  ",
		Priority:       12,
		Payload:        json.RawMessage(`[1, 2]`),
		Context:        map[string]any{"bad key!": true},
		IdempotencyKey: strings.Repeat("k", 201),
	})
	var verr *ValidationError
	if !errors.As(err, &verr) {
		t.Fatalf("Submit = %v, want *ValidationError", err)
	}
	var fields []string
	for _, p := range verr.Problems {
		fields = append(fields, p.Field)
	}
	want := []string{"type", "actor", "priority", "payload", "context", "idempotency_key"}
	if !slices.Equal(fields, want) {
		t.Fatalf("problems name %v, want %v (%v)", fields, want, err)
	}
	if len(b.store.Intents()) != 0 {
		t.Fatal("an invalid intent was stored")
	}
	recs := b.store.Records()
	if len(recs) != 1 || recs[0].What != WhatRejected {
		t.Fatalf("records = %+v, want one %s", recs, WhatRejected)
	}
	r := recs[0]
	if r.Who != "unknown" || len(r.Why) != len(want) || !strings.Contains(strings.Join(r.Why, "|"), "priority: must be between 0 and 9 (got 12)") {
		t.Fatalf("rejection record = %+v", r)
	}
	checkRecords(t, recs)
	if got := b.e.Snapshot().Rejected; got != 1 {
		t.Fatalf("Snapshot.Rejected = %d, want 1", got)
	}
}

func TestSubmitRejectsEachBadField(t *testing.T) {
	t.Parallel()
	big := `{"x":"` + strings.Repeat("a", 200) + `"}`
	for _, tc := range []struct {
		name  string
		sub   intent.Submission
		field string
		says  string
	}{
		{"type with spaces", intent.Submission{Type: "drop table", Actor: "a"}, "type", "identifier"},
		{"type too long", intent.Submission{Type: strings.Repeat("t", 65), Actor: "a"}, "type", "at most 64"},
		{"actor with control characters", intent.Submission{Type: "query_knowledge", Actor: "a\x00b"}, "actor", "printable"},
		{"negative priority", intent.Submission{Type: "query_knowledge", Actor: "a", Priority: -1}, "priority", "between 0 and 9"},
		{"payload not JSON", intent.Submission{Type: "query_knowledge", Actor: "a", Payload: json.RawMessage(`{nope`)}, "payload", "valid JSON"},
		{"payload a string", intent.Submission{Type: "query_knowledge", Actor: "a", Payload: json.RawMessage(`"hi"`)}, "payload", "a string"},
		{"payload name twice", intent.Submission{Type: "query_knowledge", Actor: "a", Payload: json.RawMessage(`{"q":{"a":1,"a":2}}`)}, "payload", "gives the name q.a twice"},
		{"payload name twice, once escaped", intent.Submission{Type: "query_knowledge", Actor: "a", Payload: json.RawMessage(`{"to":"x","\u0074o":"y"}`)}, "payload", "gives the name to twice"},
		{"payload too large", intent.Submission{Type: "query_knowledge", Actor: "a", Payload: json.RawMessage(big)}, "payload", "limit is 100"},
		{"context key empty", intent.Submission{Type: "query_knowledge", Actor: "a", Context: map[string]any{"": 1}}, "context", "empty"},
		{"context not encodable", intent.Submission{Type: "query_knowledge", Actor: "a", Context: map[string]any{"f": func() {}}}, "context", "JSON"},
		{"key with newline", intent.Submission{Type: "query_knowledge", Actor: "a", IdempotencyKey: "a\nb"}, "idempotency_key", "printable"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, func(c *Config) { c.Intake.MaxPayloadBytes = 100 })
			_, err := b.e.Submit(t.Context(), tc.sub)
			var verr *ValidationError
			if !errors.As(err, &verr) || len(verr.Problems) != 1 {
				t.Fatalf("Submit = %v, want one problem", err)
			}
			if p := verr.Problems[0]; p.Field != tc.field || !strings.Contains(p.Reason, tc.says) {
				t.Fatalf("problem = %+v, want field %s saying %q", p, tc.field, tc.says)
			}
			if b.store.Count(WhatRejected) != 1 {
				t.Fatal("the rejection was not recorded")
			}
		})
	}
}

func TestSubmitTurnsAbsentPayloadIntoObjectAndReturnsDurableID(t *testing.T) {
	t.Parallel()
	b := setup(t)
	in := b.submit(t, intent.Submission{Type: "query_knowledge", Payload: json.RawMessage(" null ")})
	if string(in.Payload) != "{}" || !strings.HasPrefix(in.ID, "int_") || len(in.ID) != 30 {
		t.Fatalf("intent = %+v", in)
	}
	got := b.stored(t, in.ID) // durable before Submit returned
	if got.State != intent.StateQueued || string(got.Payload) != "{}" {
		t.Fatalf("stored = %+v", got)
	}
	if w := b.whats(in.ID); !slices.Equal(w, []string{WhatReceived, WhatRouted}) {
		t.Fatalf("records = %v", w)
	}
	checkRecords(t, b.store.Records())
}

func TestIdempotentResubmitReturnsTheOriginal(t *testing.T) {
	t.Parallel()
	b := setup(t)
	sub := intent.Submission{Type: "query_knowledge", Actor: "agent_7", IdempotencyKey: "req-42", Payload: json.RawMessage(`{"q":1}`)}
	first, err := b.e.Submit(t.Context(), sub)
	if err != nil || first.Existing {
		t.Fatalf("first = %+v, %v", first, err)
	}
	sub.Payload = json.RawMessage(`{ "q": 1 }`) // the same value, spelled otherwise
	again, err := b.e.Submit(t.Context(), sub)
	if err != nil || !again.Existing || again.Intent.ID != first.Intent.ID || string(again.Intent.Payload) != `{"q":1}` {
		t.Fatalf("resubmit = %+v, %v; want the original", again, err)
	}
	if n := len(b.store.Intents()); n != 1 {
		t.Fatalf("%d intents stored, want 1", n)
	}
	if n := b.store.Count(WhatReceived); n != 1 {
		t.Fatalf("%d received records, want 1", n)
	}
}

func TestEachTierTakesItsPath(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		typ     string
		ctx     map[string]any
		final   intent.State
		records []string
	}{
		{"change_charter", nil, intent.StatePendingApproval, []string{WhatReceived, WhatRouted, WhatApprovalRequested}},
		{"no_such_type", nil, intent.StatePendingApproval, []string{WhatReceived, WhatRouted, WhatApprovalRequested}},
		{"execute_sandbox", nil, intent.StateCompleted, []string{WhatReceived, WhatRouted, WhatDispatched, WhatCompleted}},
		{"query_knowledge", nil, intent.StateCompleted, []string{WhatReceived, WhatRouted, WhatDispatched, WhatCompleted}},
		{"extend_grace", map[string]any{"revenue_impact": true}, intent.StateCompleted,
			[]string{WhatReceived, WhatRouted, WhatVoteCast, WhatVoteCast, WhatVoteCast, WhatDispatched, WhatCompleted}},
		{"emergency_recovery", nil, intent.StateCompleted, []string{WhatReceived, WhatRouted, WhatEmergencyLogged, WhatDispatched, WhatCompleted}},
	} {
		t.Run(tc.typ, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			b.start(t)
			in := b.submit(t, intent.Submission{Type: tc.typ, Context: tc.ctx, Payload: json.RawMessage(`{"feature":"market_intelligence"}`)})
			if tc.final == intent.StatePendingApproval {
				if in.State != tc.final || !in.Deadline.Equal(epoch.Add(time.Hour)) || !in.Decision.RequiresHuman {
					t.Fatalf("tier 0 intent = %+v", in)
				}
			} else {
				b.waitState(t, in.ID, tc.final)
			}
			if got := b.whats(in.ID); !slices.Equal(got, tc.records) {
				t.Fatalf("records = %v, want %v", got, tc.records)
			}
			checkRecords(t, b.store.RecordsFor(in.ID))
			routed := recordOf(t, b.store.RecordsFor(in.ID), WhatRouted)
			if routed.Who != "governance_router" || routed.How != "autonomy_tier_routing" || !slices.Equal(routed.Why, in.Decision.Reasoning) {
				t.Fatalf("routed record = %+v", routed)
			}
		})
	}
}

func TestTier4KeepsPayloadAndSnapshot(t *testing.T) {
	t.Parallel()
	b := setup(t)
	in := b.submit(t, intent.Submission{Type: "critical_incident", Payload: json.RawMessage(`{"kernel":"k7"}`)})
	r := recordOf(t, b.store.RecordsFor(in.ID), WhatEmergencyLogged)
	raw, err := json.Marshal(r.Context)
	if err != nil {
		t.Fatal(err)
	}
	var ctx struct {
		Payload  map[string]string `json:"payload"`
		Snapshot map[string]any    `json:"snapshot"`
	}
	if err := json.Unmarshal(raw, &ctx); err != nil {
		t.Fatal(err)
	}
	if ctx.Payload["kernel"] != "k7" || ctx.Snapshot["queue_critical"] != float64(50) {
		t.Fatalf("heavy-logging context = %s", raw)
	}
}

func TestTier3VoteCanDeny(t *testing.T) {
	t.Parallel()
	b := setup(t, func(c *Config) { c.Governance.Vote.HighImpactLimit = 1 })
	b.start(t)
	first := b.submit(t, intent.Submission{Type: "extend_grace", Context: map[string]any{"revenue_impact": true}})
	if first.State != intent.StateQueued {
		t.Fatalf("first Tier 3 = %s, want queued (approved by vote)", first.State)
	}
	// Now the rate voter refuses (1 approved in the window) and the
	// alignment voter too (no charter priority claimed): 1 to 2.
	second := b.submit(t, intent.Submission{Type: "self_improve"})
	if second.State != intent.StateDenied || second.DecidedBy != "unified_logic_hub" || second.Decision.Approved {
		t.Fatalf("second Tier 3 = %+v, want denied by the hub", second)
	}
	recs := b.store.RecordsFor(second.ID)
	votes := 0
	for _, r := range recs {
		if r.What == WhatVoteCast {
			votes++
			if r.Where != "unified_logic_hub" || r.Why[0] == "" {
				t.Fatalf("vote record = %+v", r)
			}
		}
	}
	if votes != 3 {
		t.Fatalf("%d vote records, want 3", votes)
	}
	denied := recordOf(t, recs, WhatDenied)
	if denied.Who != "unified_logic_hub" {
		t.Fatalf("denied record = %+v", denied)
	}
	checkRecords(t, recs)
	if b.handlers.callsFor(second.ID) != 0 {
		t.Fatal("a denied intent ran")
	}
}

func TestQueueFullRefusesAndStoresNothing(t *testing.T) {
	t.Parallel()
	small := func(c *Config) { c.HTM.Capacity, c.HTM.WarnDepth, c.HTM.CriticalDepth = 2, 1, 2 }

	t.Run("not started", func(t *testing.T) {
		t.Parallel()
		b := setup(t, small)
		first := b.submit(t, intent.Submission{Type: "query_knowledge", IdempotencyKey: "job-1"})
		b.submit(t, intent.Submission{Type: "query_knowledge"})
		// A retry of an accepted submission gets its original, full or not.
		again, err := b.e.Submit(t.Context(), intent.Submission{Type: "query_knowledge", Actor: first.Actor, IdempotencyKey: "job-1"})
		if err != nil || !again.Existing || again.Intent.ID != first.ID {
			t.Fatalf("resubmit with the key while full = %+v, %v; want the original %s", again, err, first.ID)
		}
		before := len(b.store.Records())
		_, err = b.e.Submit(t.Context(), intent.Submission{Type: "query_knowledge", Actor: "a"})
		if !errors.Is(err, ErrQueueFull) || !strings.Contains(err.Error(), "capacity 2") {
			t.Fatalf("Submit past capacity = %v, want ErrQueueFull with the figures", err)
		}
		if len(b.store.Intents()) != 2 || len(b.store.Records()) != before {
			t.Fatal("a refused intent left something in the store")
		}
		// Tier 0 does not enter the queue, so it is still accepted.
		if in := b.submit(t, intent.Submission{Type: "grant_permissions"}); in.State != intent.StatePendingApproval {
			t.Fatalf("Tier 0 while full = %s", in.State)
		}
	})

	t.Run("started", func(t *testing.T) {
		t.Parallel()
		b := setup(t, small, func(c *Config) { c.Workers.Count = 1 })
		release := make(chan struct{})
		b.handlers.set("schedule_task", func(ctx context.Context, _ intent.Intent) error {
			select {
			case <-release:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		})
		b.start(t)
		busy := b.submit(t, intent.Submission{Type: "schedule_task"})
		b.waitState(t, busy.ID, intent.StateRunning)
		b.submit(t, intent.Submission{Type: "query_knowledge"})
		b.submit(t, intent.Submission{Type: "query_knowledge"})
		_, err := b.e.Submit(t.Context(), intent.Submission{Type: "query_knowledge", Actor: "a"})
		if !errors.Is(err, ErrQueueFull) {
			t.Fatalf("Submit past capacity = %v, want ErrQueueFull", err)
		}
		if n := len(b.store.Intents()); n != 3 {
			t.Fatalf("%d intents stored, want 3", n)
		}
		close(release)
		b.waitState(t, busy.ID, intent.StateCompleted)
	})
}

func TestRouteStoresNothing(t *testing.T) {
	t.Parallel()
	b := setup(t)
	d, err := b.e.Route(t.Context(), intent.Submission{Type: "extend_grace", Actor: "grace_architect",
		Context: map[string]any{"revenue_impact": true}})
	if err != nil {
		t.Fatal(err)
	}
	if !d.Approved || d.AutonomyTier != 3 || !d.RequiresVote || d.RoutedTo != "unified_logic_hub" || d.Alignment != 0.8 {
		t.Fatalf("decision = %+v", d)
	}
	if _, err := b.e.Route(t.Context(), intent.Submission{}); err == nil {
		t.Fatal("Route of an empty submission succeeded")
	}
	if len(b.store.Intents()) != 0 || len(b.store.Records()) != 0 {
		t.Fatal("Route stored something")
	}
}

func TestSearchDelegates(t *testing.T) {
	t.Parallel()
	b := setup(t)
	in := b.submit(t, intent.Submission{Type: "query_knowledge"})
	es, err := b.e.Search(t.Context(), clarity.Query{Action: WhatReceived})
	if err != nil || len(es) != 1 || es[0].IntentID != in.ID {
		t.Fatalf("Search = %+v, %v", es, err)
	}
}

// TestIdempotencyKeysBelongToTheirActor: an agent reusing another
// agent's key gets an intent of its own, never the other's back.
func TestIdempotencyKeysBelongToTheirActor(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.start(t)
	a := b.submit(t, intent.Submission{Type: "query_knowledge", Actor: "agent.a", IdempotencyKey: "nightly", Payload: []byte(`{"secret":"a's"}`)})
	res, err := b.e.Submit(t.Context(), intent.Submission{Type: "query_knowledge", Actor: "agent.b", IdempotencyKey: "nightly"})
	if err != nil || res.Existing || res.Intent.ID == a.ID || res.Intent.Actor != "agent.b" {
		t.Fatalf("agent.b with agent.a's key: %+v, %v", res, err)
	}
	again, err := b.e.Submit(t.Context(), intent.Submission{Type: "query_knowledge", Actor: "agent.a", IdempotencyKey: "nightly", Payload: []byte(`{"secret":"a's"}`)})
	if err != nil || !again.Existing || again.Intent.ID != a.ID {
		t.Fatalf("agent.a's retry: %+v, %v; want %s", again, err, a.ID)
	}
}
