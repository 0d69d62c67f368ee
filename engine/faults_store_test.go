package engine

import (
	"context"
	"errors"
	"testing"
	"time"

	"grace/engine/clock"
	"grace/engine/enginetest"
	"grace/engine/intent"
)

// stallStore is the in-memory store with a writer stall hook that only
// remembers what it was asked.
type stallStore struct {
	*enginetest.Store
	stalls []time.Duration
}

func (s *stallStore) StallWriter(_ context.Context, d time.Duration) error {
	s.stalls = append(s.stalls, d)
	return nil
}

func TestInjectStoreStallRecordsTheFaultAndStallsTheWriter(t *testing.T) {
	t.Parallel()
	st := &stallStore{Store: enginetest.NewStore(64)}
	b := &testBundle{store: st.Store, clock: clock.NewFake(epoch), handlers: newTestHandlers()}
	t.Cleanup(func() { _ = st.Close() })
	e, err := New(testConfig(), Deps{Store: st, Journal: st.Store, Clock: b.clock, Handlers: b.handlers})
	if err != nil {
		t.Fatal(err)
	}
	b.e = e
	t.Cleanup(e.Stop)
	if err := e.InjectStoreStall(t.Context(), time.Second, "test"); !errors.Is(err, ErrStopped) {
		t.Fatalf("stall before Start = %v, want ErrStopped", err)
	}
	b.start(t)
	if err := e.InjectStoreStall(t.Context(), 250*time.Millisecond, "test"); err != nil {
		t.Fatal(err)
	}
	if len(st.stalls) != 1 || st.stalls[0] != 250*time.Millisecond {
		t.Fatalf("store stalls = %v, want one of 250ms", st.stalls)
	}
	if n := st.Count(WhatFaultInjected); n != 1 {
		t.Fatalf("%d fault_injected records, want 1", n)
	}
}

func TestInjectStoreStallNeedsTheHook(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.start(t)
	if err := b.e.InjectStoreStall(t.Context(), time.Second, "test"); !errors.Is(err, ErrNoStoreStall) {
		t.Fatalf("stall on a store without the hook = %v, want ErrNoStoreStall", err)
	}
}

func TestCrashRecoverySwitchedOffLeavesUnfinishedIntents(t *testing.T) {
	t.Parallel()
	b := setup(t, func(c *Config) { c.Safeguards[SafeguardCrashRecovery] = SafeguardConfig{Enabled: false} })
	b.store.Put(intent.Intent{ID: "int_running", Type: "query_knowledge", Actor: "agent", Payload: []byte(`{}`),
		State: intent.StateRunning, Tier: 2, Worker: "worker_1", Attempts: 1, CreatedAt: epoch, UpdatedAt: epoch})
	b.start(t)
	in, err := b.store.Get(t.Context(), "int_running")
	if err != nil {
		t.Fatal(err)
	}
	if in.State != intent.StateRunning || b.store.Count(WhatRequeuedAfterStart) != 0 || b.store.Count(WhatRecovered) != 0 {
		t.Fatalf("with crash_recovery off the running intent was recovered: state %s, %d requeue records",
			in.State, b.store.Count(WhatRequeuedAfterStart))
	}
}
