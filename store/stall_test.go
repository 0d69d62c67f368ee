package store

import (
	"context"
	"errors"
	"testing"
	"time"

	"grace/engine/intent"
)

func TestStallWriterHoldsCommitsUntilItEnds(t *testing.T) {
	t.Parallel()
	tb := setup(t)
	ctx := context.Background()
	if err := tb.s.StallWriter(ctx, 300*time.Millisecond); err != nil {
		t.Fatalf("StallWriter: %v", err)
	}
	applied := make(chan error, 1)
	go func() {
		_, err := tb.s.Apply(ctx, &intent.Change{Create: newIntent("in-stalled")})
		applied <- err
	}()
	// The change waits in the writer's queue: not acknowledged, not
	// visible to readers.
	eventually(t, "the change to reach the writer's queue", func() bool { return len(tb.s.w.queue) == 1 })
	select {
	case err := <-applied:
		t.Fatalf("Apply returned (%v) while the writer was stalled: acknowledged before commit", err)
	default:
	}
	if _, err := tb.s.Get(ctx, "in-stalled"); !errors.Is(err, intent.ErrNotFound) {
		t.Fatalf("Get during the stall = %v, want ErrNotFound (nothing committed)", err)
	}
	tb.clock.Advance(300 * time.Millisecond)
	if err := <-applied; err != nil {
		t.Fatalf("Apply after the stall: %v", err)
	}
	if _, err := tb.s.Get(ctx, "in-stalled"); err != nil {
		t.Fatalf("Get after the stall: %v", err)
	}
}

func TestStallWriterEndsWithItsContext(t *testing.T) {
	t.Parallel()
	tb := setup(t)
	ctx, cancel := context.WithCancel(context.Background())
	if err := tb.s.StallWriter(ctx, MaxStall); err != nil {
		t.Fatalf("StallWriter: %v", err)
	}
	cancel()
	// The fake clock never moves: only the cancel can end the stall.
	writeRecords(t, tb.s, 1, "after-cancel")
}

func TestStallWriterRefusesBadDurationsAndClosedStores(t *testing.T) {
	t.Parallel()
	tb := setup(t)
	for _, d := range []time.Duration{0, -time.Second, MaxStall + time.Millisecond} {
		if err := tb.s.StallWriter(context.Background(), d); err == nil {
			t.Errorf("StallWriter(%v) = nil, want an error", d)
		}
	}
	if err := tb.s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := tb.s.StallWriter(context.Background(), time.Millisecond); !errors.Is(err, ErrClosed) {
		t.Fatalf("StallWriter on a closed store = %v, want ErrClosed", err)
	}
}
