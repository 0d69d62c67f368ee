package engine

import (
	"strings"
	"testing"
	"time"

	"grace/engine/intent"
)

// restart stops b's engine, lets its store write what it holds, and
// starts a new engine on the same store and clock.
func (b *testBundle) restart(t *testing.T) *testBundle {
	t.Helper()
	b.e.Stop()
	b.store.Flush()
	next := setupOn(t, b.store, b.clock)
	next.start(t)
	return next
}

func TestAPauseOutlivesARestartUntilResumed(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.start(t)
	if err := b.e.PauseScheduler(t.Context(), "alice", "upgrading the sandbox"); err != nil {
		t.Fatal(err)
	}
	in := b.submit(t, intent.Submission{Type: "query_knowledge"})
	next := b.restart(t)
	s := next.e.Snapshot().Layer2
	if !s.Paused || s.Pause == nil || s.Pause.By != "alice" || s.Pause.Reason != "upgrading the sandbox" || !s.Pause.Since.Equal(epoch) {
		t.Fatalf("after the restart: %+v, want paused by alice since the original pause", s)
	}
	r := next.waitRecord(t, WhatPauseRestored, nil)
	if r.Who != actorRecovery || !strings.Contains(strings.Join(r.Why, " "), "paused by alice") {
		t.Fatalf("restore record %+v", r)
	}
	next.advance(t, 3*time.Second)
	if got := next.stored(t, in.ID); got.State != intent.StateQueued {
		t.Fatalf("dispatched while the restored pause stands: %s", got.State)
	}
	if err := next.e.ResumeScheduler(t.Context(), "bob", "sandbox is back"); err != nil {
		t.Fatal(err)
	}
	next.waitState(t, in.ID, intent.StateCompleted)
	third := next.restart(t)
	if third.e.Snapshot().Layer2.Paused {
		t.Fatal("paused again after a restart that followed a resume")
	}
	if n := b.store.Count(WhatPauseRestored); n != 1 {
		t.Fatalf("%d restore records, want 1", n)
	}
}
