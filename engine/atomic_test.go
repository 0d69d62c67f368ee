package engine

import (
	"context"
	"errors"
	"testing"

	"grace/engine/clock"
	"grace/engine/enginetest"
	"grace/engine/intent"
)

func subs(n int, actor, typ string) []intent.Submission {
	out := make([]intent.Submission, n)
	for i := range out {
		out[i] = intent.Submission{Type: typ, Actor: actor}
	}
	return out
}

// refusedAt checks that err is a BatchRefusedError naming exactly the
// submissions at idx, and returns it.
func refusedAt(t *testing.T, err error, idx ...int) *BatchRefusedError {
	t.Helper()
	var br *BatchRefusedError
	if !errors.As(err, &br) || len(br.Items) != len(idx) {
		t.Fatalf("got %v, want an atomic batch refused at %v", err, idx)
	}
	for i, it := range br.Items {
		if it.Index != idx[i] {
			t.Fatalf("refused at %d, want %v: %v", it.Index, idx, err)
		}
	}
	return br
}

// TestSubmitAtomicIsAllOrNothing: a batch is stored whole, each intent
// governed as alone (tiers, approvals, records), or not at all when any
// submission is invalid, over the rate limit, short of queue room or
// conflicting with a key; a refusal takes no tokens and no room.
func TestSubmitAtomicIsAllOrNothing(t *testing.T) {
	t.Parallel()
	b := setup(t, func(c *Config) {
		c.HTM.Capacity, c.HTM.WarnDepth, c.HTM.CriticalDepth = 4, 2, 3
		c.Safeguards[SafeguardRateLimit] = SafeguardConfig{Enabled: true}
		c.HTM.RateLimit = RateLimitConfig{GlobalRate: 100, GlobalBurst: 100, ActorRate: 1, ActorBurst: 6}
	})
	b.start(t)
	if err := b.e.PauseScheduler(t.Context(), "test", "keep what is queued in the queue"); err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	stored := func() int { return len(b.store.Intents()) }

	res, err := b.e.SubmitAtomic(ctx, []intent.Submission{
		{Type: "query_knowledge", Actor: "agent.a"},
		{Type: "change_charter", Actor: "agent.a"},
		{Type: "query_knowledge", Actor: "agent.a", IdempotencyKey: "k1", Priority: 3},
		{Type: "query_knowledge", Actor: "agent.a", IdempotencyKey: "k1", Priority: 3},
	})
	if err != nil || len(res) != 4 {
		t.Fatalf("a valid batch: %v", err)
	}
	if res[0].Intent.State != intent.StateQueued || res[1].Intent.State != intent.StatePendingApproval ||
		res[2].Existing || !res[3].Existing || res[3].Intent.ID != res[2].Intent.ID || stored() != 3 {
		t.Fatalf("a valid batch: %+v; %d stored", res, stored())
	}
	for _, r := range res[:3] {
		if w := b.whats(r.Intent.ID); len(w) < 2 || w[0] != WhatReceived || w[1] != WhatRouted {
			t.Fatalf("%s records %v", r.Intent.ID, w)
		}
	}

	// One invalid submission: nothing stored, the invalid one on the record.
	rejected := b.store.Count(WhatRejected)
	_, err = b.e.SubmitAtomic(ctx, []intent.Submission{{Type: "query_knowledge", Actor: "agent.b"}, {Type: "", Actor: "agent.b"}})
	var verr *ValidationError
	if refusedAt(t, err, 1); !errors.As(err, &verr) || stored() != 3 || b.store.Count(WhatRejected) != rejected+1 {
		t.Fatalf("an invalid submission: %v; %d stored, %d rejections recorded", err, stored(), b.store.Count(WhatRejected)-rejected)
	}

	// A key held by a different submission: nothing stored.
	_, err = b.e.SubmitAtomic(ctx, []intent.Submission{{Type: "query_knowledge", Actor: "agent.b"}, {Type: "query_knowledge", Actor: "agent.a", IdempotencyKey: "k1"}})
	if refusedAt(t, err, 1); !errors.Is(err, ErrIdempotencyConflict) || stored() != 3 {
		t.Fatalf("a key conflict: %v; %d stored", err, stored())
	}
	// The same batch again answers its intents, stores nothing.
	again, err := b.e.SubmitAtomic(ctx, []intent.Submission{{Type: "query_knowledge", Actor: "agent.a", IdempotencyKey: "k1", Priority: 3}})
	if err != nil || !again[0].Existing || again[0].Intent.ID != res[2].Intent.ID || stored() != 3 {
		t.Fatalf("resent: %+v, %v", again, err)
	}

	// Queue room: 2 queued of 4; a batch of 3 queued finds none, takes none.
	_, err = b.e.SubmitAtomic(ctx, subs(3, "agent.c", "query_knowledge"))
	if refusedAt(t, err, 2); !errors.Is(err, ErrQueueFull) || stored() != 3 {
		t.Fatalf("no room for the batch: %v; %d stored", err, stored())
	}
	if _, err := b.e.SubmitAtomic(ctx, subs(2, "agent.c", "query_knowledge")); err != nil || stored() != 5 {
		t.Fatalf("a batch that fits the room left: %v; %d stored", err, stored())
	}

	// Rate limit (burst 6 an actor): agent.d's 7 are refused whole, and
	// took no tokens: 6 of its own then pass at the same instant.
	_, err = b.e.SubmitAtomic(ctx, subs(7, "agent.d", "change_charter"))
	if refusedAt(t, err, 0); !errors.Is(err, ErrRateLimited) || stored() != 5 {
		t.Fatalf("over the actor's burst: %v; %d stored", err, stored())
	}
	if _, err := b.e.SubmitAtomic(ctx, subs(6, "agent.d", "change_charter")); err != nil || stored() != 11 {
		t.Fatalf("within the burst after a refused batch: %v; %d stored", err, stored())
	}
}

// racingStore submits, just before each atomic write, one competing
// submission under a key the batch is about to write: the key is free
// when the engine looks and taken when the batch is written.
type racingStore struct {
	*enginetest.Store
	race []func()
}

func (s *racingStore) ApplyAll(ctx context.Context, cs []*intent.Change) ([]intent.Result, error) {
	if len(s.race) > 0 {
		next := s.race[0]
		s.race = s.race[1:]
		next()
	}
	return s.Store.ApplyAll(ctx, cs)
}

// TestSubmitAtomicKeyRaces: keys taken by other submissions between the
// engine's look and the write, one race after another, are answered as
// held (the same submission) or refuse the batch (a different one), as if
// they had been taken before the batch came; never an internal error.
func TestSubmitAtomicKeyRaces(t *testing.T) {
	t.Parallel()
	st := &racingStore{Store: enginetest.NewStore(64)}
	t.Cleanup(func() { _ = st.Close() })
	e, err := New(testConfig(), Deps{Store: st, Clock: clock.NewFake(epoch), Handlers: newTestHandlers(), Rand: func() float64 { return 0 }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Stop)
	ctx := t.Context()
	keyed := func(key string, prio int) intent.Submission {
		return intent.Submission{Type: "query_knowledge", Actor: "agent.a", IdempotencyKey: key, Priority: prio}
	}
	won := map[string]string{}
	racer := func(sub intent.Submission) func() {
		return func() {
			res, err := e.Submit(ctx, sub)
			if err != nil {
				t.Errorf("the racing submission %s: %v", sub.IdempotencyKey, err)
			}
			won[sub.IdempotencyKey] = res.Intent.ID
		}
	}
	st.race = []func(){racer(keyed("k1", 1)), racer(keyed("k2", 1)), racer(keyed("k3", 1))}
	res, err := e.SubmitAtomic(ctx, []intent.Submission{keyed("k1", 1), keyed("k2", 1), keyed("k3", 1), keyed("k4", 1)})
	if err != nil {
		t.Fatalf("a batch whose keys were taken by the same submissions, three races in a row: %v", err)
	}
	for i, k := range []string{"k1", "k2", "k3"} {
		if !res[i].Existing || res[i].Intent.ID != won[k] {
			t.Fatalf("%s: got %+v, want the racing submission's intent %s", k, res[i], won[k])
		}
	}
	if res[3].Existing || len(st.Intents()) != 4 {
		t.Fatalf("k4: %+v; %d intents stored, want 4", res[3], len(st.Intents()))
	}

	// A race by a different submission refuses the batch, naming it.
	st.race = []func(){racer(keyed("k5", 1)), racer(keyed("k6", 2))}
	_, err = e.SubmitAtomic(ctx, []intent.Submission{keyed("k5", 1), keyed("k6", 1), keyed("k7", 1)})
	if refusedAt(t, err, 1); !errors.Is(err, ErrIdempotencyConflict) || len(st.Intents()) != 6 {
		t.Fatalf("a key taken by a different submission: %v; %d stored, want 6", err, len(st.Intents()))
	}
}
