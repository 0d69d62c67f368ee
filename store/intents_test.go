package store

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"grace/engine/intent"
)

// intentsBundle stores intents in0..in9, one second apart, with states,
// actors, types and tiers varying so that every filter selects a subset.
func intentsBundle(t *testing.T) *testBundle {
	t.Helper()
	tb := setup(t)
	states := []intent.State{intent.StatePendingApproval, intent.StateQueued, intent.StateRunning, intent.StateCompleted, intent.StateFailed}
	for i := range 10 {
		in := newIntent(fmt.Sprintf("in%d", i))
		in.State = states[i%len(states)]
		in.Actor = []string{"agent-a", "agent-b"}[i%2]
		in.Type = []string{"deploy_model", "query_knowledge", "schedule_task"}[i%3]
		in.Tier = i % 3
		in.Reviewed = i%4 == 0
		in.CreatedAt = t0.Add(time.Duration(i) * time.Second)
		in.IdempotencyKey = fmt.Sprintf("key-%d", i)
		if _, err := tb.s.Apply(context.Background(), &intent.Change{Create: in}); err != nil {
			t.Fatal(err)
		}
	}
	return tb
}

func TestList(t *testing.T) {
	t.Parallel()
	tb := intentsBundle(t)
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		f    intent.Filter
		want []string
	}{
		{"all, newest first", intent.Filter{}, []string{"in9", "in8", "in7", "in6", "in5", "in4", "in3", "in2", "in1", "in0"}},
		{"state", intent.Filter{State: intent.StateQueued}, []string{"in6", "in1"}},
		{"actor", intent.Filter{Actor: "agent-b"}, []string{"in9", "in7", "in5", "in3", "in1"}},
		{"type", intent.Filter{Type: "deploy_model"}, []string{"in9", "in6", "in3", "in0"}},
		{"since", intent.Filter{Since: t0.Add(7 * time.Second)}, []string{"in9", "in8", "in7"}},
		{"tier 0", intent.Filter{Tier: 0, HasTier: true}, []string{"in9", "in6", "in3", "in0"}},
		{"unreviewed tier 1", intent.Filter{Tier: 1, HasTier: true, Unreviewed: true}, []string{"in7", "in1"}},
		{"combined", intent.Filter{Actor: "agent-a", Type: "query_knowledge"}, []string{"in4"}},
		{"limit", intent.Filter{Limit: 3}, []string{"in9", "in8", "in7"}},
		{"idempotency key", intent.Filter{Actor: "agent-a", IdempotencyKey: "key-4"}, []string{"in4"}},
		{"idempotency key of another actor", intent.Filter{Actor: "agent-b", IdempotencyKey: "key-4"}, nil},
		{"nothing", intent.Filter{State: intent.StateShed}, nil},
		{"page after in7", intent.Filter{Before: "in7", Limit: 3}, []string{"in6", "in5", "in4"}},
		{"page after in7 of agent-b", intent.Filter{Actor: "agent-b", Before: "in7"}, []string{"in5", "in3", "in1"}},
		{"page after the oldest", intent.Filter{Before: "in0"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			its, err := tb.s.List(ctx, tc.f)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, it := range its {
				got = append(got, it.ID)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("List(%+v) = %v, want %v", tc.f, got, tc.want)
			}
		})
	}
}

func TestListDefaultLimit(t *testing.T) {
	t.Parallel()
	tb := setup(t)
	ctx := context.Background()
	c := &intent.Change{}
	for i := range defaultListLimit + 5 {
		c = &intent.Change{Create: newIntent(fmt.Sprintf("in%03d", i))}
		if _, err := tb.s.Apply(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	its, err := tb.s.List(ctx, intent.Filter{})
	if err != nil || len(its) != defaultListLimit {
		t.Fatalf("List: %d intents, %v; want %d", len(its), err, defaultListLimit)
	}
	// Same created time: newest first falls back to the ID.
	if its[0].ID != fmt.Sprintf("in%03d", defaultListLimit+4) {
		t.Errorf("first = %s", its[0].ID)
	}

	// Paging with Before walks every intent once, in order, even when they
	// share one created time.
	var seen []string
	for before := ""; ; {
		page, err := tb.s.List(ctx, intent.Filter{Before: before, Limit: 7})
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			break
		}
		for _, it := range page {
			seen = append(seen, it.ID)
		}
		before = page[len(page)-1].ID
	}
	if len(seen) != defaultListLimit+5 {
		t.Fatalf("paging saw %d intents, want %d", len(seen), defaultListLimit+5)
	}
	for i, id := range seen {
		if want := fmt.Sprintf("in%03d", defaultListLimit+4-i); id != want {
			t.Fatalf("page position %d: %s, want %s", i, id, want)
		}
	}
	if _, err := tb.s.List(ctx, intent.Filter{Before: "in_nope"}); !errors.Is(err, intent.ErrNotFound) {
		t.Fatalf("List before an unknown ID: %v, want ErrNotFound", err)
	}
}

func TestNonTerminalOldestFirst(t *testing.T) {
	t.Parallel()
	tb := intentsBundle(t)
	its, err := tb.s.NonTerminal(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, it := range its {
		got = append(got, it.ID+":"+string(it.State))
	}
	want := []string{"in0:pending_approval", "in1:queued", "in2:running", "in5:pending_approval", "in6:queued", "in7:running"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("NonTerminal = %v, want %v", got, want)
	}
}

func TestCountByState(t *testing.T) {
	t.Parallel()
	tb := intentsBundle(t)
	got, err := tb.s.CountByState(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := map[intent.State]int{intent.StatePendingApproval: 2, intent.StateQueued: 2, intent.StateRunning: 2, intent.StateCompleted: 2, intent.StateFailed: 2}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("CountByState = %v, want %v", got, want)
	}
}

func TestGetUnknown(t *testing.T) {
	t.Parallel()
	tb := setup(t)
	_, err := tb.s.Get(context.Background(), "nope")
	if !errors.Is(err, intent.ErrNotFound) {
		t.Errorf("Get(unknown) = %v, want ErrNotFound", err)
	}
}

// TestIdempotencyKeysAreScopedToTheirActor: the same key from two agents
// makes two intents (neither gets the other's back); from one agent, the
// second create returns the first, with the key as the agent gave it.
func TestIdempotencyKeysAreScopedToTheirActor(t *testing.T) {
	t.Parallel()
	tb := setup(t)
	ctx := context.Background()
	create := func(id, actor string) intent.Result {
		t.Helper()
		in := newIntent(id)
		in.Actor, in.IdempotencyKey = actor, "job-7"
		res, err := tb.s.Apply(ctx, &intent.Change{Create: in})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	if res := create("a1", "agent-a"); res.Existing != nil {
		t.Fatalf("first create: existing %+v", res.Existing)
	}
	if res := create("b1", "agent-b"); res.Existing != nil {
		t.Fatalf("agent-b's job-7 returned agent-a's intent %s", res.Existing.ID)
	}
	res := create("a2", "agent-a")
	if res.Existing == nil || res.Existing.ID != "a1" || res.Existing.IdempotencyKey != "job-7" {
		t.Fatalf("agent-a's retry: %+v, want a1 with key job-7", res.Existing)
	}
	got, err := tb.s.Get(ctx, "b1")
	if err != nil || got.IdempotencyKey != "job-7" {
		t.Fatalf("b1 = %+v, %v", got, err)
	}
}

// TestMigrationScopesLegacyIdempotencyKeys: keys stored before version 5
// (unscoped) are rewritten so that their actor's retries still find them.
func TestMigrationScopesLegacyIdempotencyKeys(t *testing.T) {
	t.Parallel()
	tb := setup(t)
	in := newIntent("old")
	in.Actor, in.IdempotencyKey = "agent-a", "job-1"
	if _, err := tb.s.Apply(context.Background(), &intent.Change{Create: in}); err != nil {
		t.Fatal(err)
	}
	db := tb.rawDB(t)
	mustExec(t, db, "UPDATE intents SET idempotency_key = 'job-1' WHERE id = 'old'")
	mustExec(t, db, "PRAGMA user_version = 4")
	db.Close()
	tb.reopen(t)
	again := newIntent("new")
	again.Actor, again.IdempotencyKey = "agent-a", "job-1"
	res, err := tb.s.Apply(context.Background(), &intent.Change{Create: again})
	if err != nil || res.Existing == nil || res.Existing.ID != "old" || res.Existing.IdempotencyKey != "job-1" {
		t.Fatalf("retry after the migration: %+v, %v; want the legacy intent", res.Existing, err)
	}
}

// TestListUnretried: Unretried leaves out a failed intent once a retry of
// it is stored (under its actor's key intent.RetryKey(ID)); the same key
// held by another actor, or a key naming another intent, retries nothing.
func TestListUnretried(t *testing.T) {
	t.Parallel()
	tb := setup(t)
	ctx := context.Background()
	create := func(id, actor, key string, st intent.State, at int) {
		t.Helper()
		in := newIntent(id)
		in.Actor, in.IdempotencyKey, in.State = actor, key, st
		in.CreatedAt = t0.Add(time.Duration(at) * time.Second)
		if _, err := tb.s.Apply(ctx, &intent.Change{Create: in}); err != nil {
			t.Fatal(err)
		}
	}
	create("f1", "agent-a", "", intent.StateFailed, 1)
	create("f2", "agent-a", "", intent.StateFailed, 2)
	create("f3", "agent-b", "", intent.StateFailed, 3)
	create("r1", "agent-a", intent.RetryKey("f1"), intent.StateQueued, 4)        // f1's retry
	create("x3", "agent-a", intent.RetryKey("f3"), intent.StateQueued, 5)        // another actor's key: not f3's retry
	create("x9", "agent-b", intent.RetryKey("f3")+"-not", intent.StateQueued, 6) // a key naming no intent
	ids := func(f intent.Filter) []string {
		t.Helper()
		its, err := tb.s.List(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, it := range its {
			got = append(got, it.ID)
		}
		return got
	}
	if got, want := ids(intent.Filter{State: intent.StateFailed, Unretried: true}), []string{"f3", "f2"}; !reflect.DeepEqual(got, want) {
		t.Errorf("failed, not retried: %v, want %v", got, want)
	}
	if got, want := ids(intent.Filter{State: intent.StateFailed}), []string{"f3", "f2", "f1"}; !reflect.DeepEqual(got, want) {
		t.Errorf("failed: %v, want %v", got, want)
	}
	create("r3", "agent-b", intent.RetryKey("f3"), intent.StateQueued, 7)
	if got, want := ids(intent.Filter{State: intent.StateFailed, Unretried: true, Actor: "agent-b"}), []string(nil); !reflect.DeepEqual(got, want) {
		t.Errorf("agent-b's failed, not retried, after f3's retry: %v, want none", got)
	}
}
