package engine

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"grace/engine/intent"
)

// rateLimited switches htm_rate_limit on (testConfig has it off) with
// small buckets: 5 per actor, 8 in all, refilling at 1/s and 2/s.
func rateLimited(c *Config) {
	c.Safeguards[SafeguardRateLimit] = SafeguardConfig{Enabled: true}
	c.HTM.RateLimit = RateLimitConfig{GlobalRate: 2, GlobalBurst: 8, ActorRate: 1, ActorBurst: 5}
}

func (b *testBundle) trySubmit(t *testing.T, actor, typ string) error {
	t.Helper()
	_, err := b.e.Submit(t.Context(), intent.Submission{Type: typ, Actor: actor})
	return err
}

func TestRateLimitPerActorRefusesTheFlooderOnly(t *testing.T) {
	t.Parallel()
	b := setup(t, rateLimited)
	b.start(t)
	for i := range 5 {
		if err := b.trySubmit(t, "agent.flood", "query_knowledge"); err != nil {
			t.Fatalf("submission %d within the burst: %v", i+1, err)
		}
	}
	err := b.trySubmit(t, "agent.flood", "query_knowledge")
	var rl *RateLimitError
	if !errors.Is(err, ErrRateLimited) || !errors.As(err, &rl) || rl.Scope != scopeActor || rl.Actor != "agent.flood" || rl.RetryAfter != time.Second {
		t.Fatalf("sixth submission: %v (%+v), want the actor's limit with a 1 s retry hint", err, rl)
	}
	// An invalid submission is refused by the limit too: floods of junk
	// cost no writes.
	if err := b.trySubmit(t, "agent.flood", ""); !errors.Is(err, ErrRateLimited) {
		t.Fatalf("invalid flood submission: %v", err)
	}
	if err := b.trySubmit(t, "agent.calm", "query_knowledge"); err != nil {
		t.Fatalf("another actor was refused: %v", err)
	}
	b.protectTick(t) // a second later: one token back, the refusals counted
	if err := b.trySubmit(t, "agent.flood", "query_knowledge"); err != nil {
		t.Fatalf("after a second the actor is refused: %v", err)
	}
	if n := b.store.Count(WhatRateLimited); n != 0 {
		t.Fatal("the episode was narrated while it lasted")
	}
	b.protectTick(t) // a tick without refusals ends the episode
	r := b.waitRecord(t, WhatRateLimited, nil)
	if r.Who != actorHTM || r.How != "token_bucket_rate_limit" || r.Context["refused"] != uint64(2) ||
		!strings.Contains(strings.Join(r.Why, " "), "agent.flood 2") {
		t.Fatalf("rate limit record = %+v", r)
	}
	if n := b.store.Count(WhatRejected); n != 0 {
		t.Fatalf("%d rejection records: a refused submission was validated", n)
	}
	if s := b.e.Snapshot().Layer2; s.RateLimited != 2 {
		t.Fatalf("snapshot rate limited = %d", s.RateLimited)
	}
	checkRecords(t, b.store.Records())
}

func TestRateLimitGlobalSparesEmergencies(t *testing.T) {
	t.Parallel()
	b := setup(t, rateLimited)
	b.start(t)
	for i := range 8 { // 8 actors, one each: the global bucket empties
		if err := b.trySubmit(t, fmt.Sprintf("agent.%d", i), "query_knowledge"); err != nil {
			t.Fatal(err)
		}
	}
	err := b.trySubmit(t, "agent.new", "query_knowledge")
	var rl *RateLimitError
	if !errors.As(err, &rl) || rl.Scope != scopeGlobal {
		t.Fatalf("ninth submission: %v, want the global limit", err)
	}
	if err := b.trySubmit(t, "kernel.watchdog", "emergency_recovery"); err != nil {
		t.Fatalf("a Tier 4 emergency was refused by others' flood: %v", err)
	}
	b.protectTick(t)
	b.protectTick(t)
	r := b.waitRecord(t, WhatRateLimited, nil)
	if r.Context["refused_by_global_limit"] != uint64(1) {
		t.Fatalf("record = %+v", r)
	}
}

func TestWithoutRateLimitOneActorFillsTheQueue(t *testing.T) {
	t.Parallel()
	b := setup(t, func(c *Config) {
		c.HTM.Capacity, c.HTM.WarnDepth, c.HTM.CriticalDepth = 20, 5, 10
		c.Scheduler.AutoResumeAfter = 24 * time.Hour
	})
	b.start(t)
	if err := b.e.PauseScheduler(t.Context(), "alice", "hold the queue"); err != nil {
		t.Fatal(err)
	}
	for range 20 {
		if err := b.trySubmit(t, "agent.flood", "query_knowledge"); err != nil {
			t.Fatal(err)
		}
	}
	// The flooder took every slot: a calm agent's work is refused.
	if err := b.trySubmit(t, "agent.calm", "query_knowledge"); !errors.Is(err, ErrQueueFull) {
		t.Fatalf("calm agent: %v, want ErrQueueFull", err)
	}
	// With the limit on, the flooder is stopped at its burst and the calm
	// agent gets in.
	b2 := setup(t, rateLimited, func(c *Config) { c.HTM.Capacity, c.HTM.WarnDepth, c.HTM.CriticalDepth = 20, 5, 10 })
	b2.start(t)
	refused := 0
	for range 20 {
		if err := b2.trySubmit(t, "agent.flood", "query_knowledge"); errors.Is(err, ErrRateLimited) {
			refused++
		}
	}
	if refused != 15 {
		t.Fatalf("%d of 20 refused, want 15", refused)
	}
	if err := b2.trySubmit(t, "agent.calm", "query_knowledge"); err != nil {
		t.Fatalf("calm agent refused with the limit on: %v", err)
	}
}
