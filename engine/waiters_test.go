package engine

import (
	"context"
	"errors"
	"testing"
	"time"

	"grace/engine/intent"
)

// TestWaitFinished: WaitFinished returns an intent once a change leaves it
// terminal (here a denial), at once when it already is, and as it stands
// when its context ends first; it leaves no waiter behind either way.
func TestWaitFinished(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.start(t)
	ctx := t.Context()

	pending := b.submit(t, intent.Submission{Type: "change_charter"})
	got := make(chan intent.Intent, 1)
	go func() {
		in, err := b.e.WaitFinished(ctx, pending.ID)
		if err != nil {
			t.Error(err)
		}
		got <- in
	}()
	eventually(t, "the waiter to register", func() bool { return b.e.waiters.n.Load() == 1 })
	select {
	case in := <-got:
		t.Fatalf("WaitFinished returned %s before the intent finished", in.State)
	default:
	}
	if _, err := b.e.Deny(ctx, pending.ID, "alice", "not now"); err != nil {
		t.Fatal(err)
	}
	select {
	case in := <-got:
		if in.State != intent.StateDenied || in.DecidedBy != "alice" {
			t.Fatalf("WaitFinished returned %+v, want it denied by alice", in)
		}
	case <-time.After(waitLimit):
		t.Fatal("WaitFinished did not return when the intent was denied")
	}

	if in, err := b.e.WaitFinished(ctx, pending.ID); err != nil || in.State != intent.StateDenied {
		t.Fatalf("waiting on a finished intent: %+v, %v", in, err)
	}
	other := b.submit(t, intent.Submission{Type: "change_charter"})
	short, cancel := context.WithCancel(ctx)
	cancel()
	if in, err := b.e.WaitFinished(short, other.ID); err != nil || in.State != intent.StatePendingApproval {
		t.Fatalf("a wait whose context ended: %+v, %v", in, err)
	}
	if _, err := b.e.WaitFinished(ctx, "int_nope"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("waiting on an unknown intent: %v", err)
	}
	if n := b.e.waiters.n.Load(); n != 0 {
		t.Fatalf("%d waiters left behind", n)
	}
}
