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

// dispatchGateStore holds the engine's dispatch write (an update to
// running) on its way into the store until the test lets it go.
type dispatchGateStore struct {
	*enginetest.Store
	entered   chan struct{}
	release   chan struct{}
	forwarded chan struct{} // closed once the held write is queued in the store
}

func (s *dispatchGateStore) ApplyAsync(c *intent.Change, done func(intent.Result, error)) {
	if c.Update != nil && c.Update.State == intent.StateRunning {
		s.entered <- struct{}{}
		<-s.release
		defer close(s.forwarded)
	}
	s.Store.ApplyAsync(c, done)
}

// TestCancelRacingADispatchStaysCancelled: a cancel made while the
// dispatch of its intent is on its way to the store is written after the
// dispatch's "running", never before it: the store ends up saying
// cancelled (a "running" written last would have the next start queue
// the cancelled intent again).
func TestCancelRacingADispatchStaysCancelled(t *testing.T) {
	t.Parallel()
	st, clk := enginetest.NewStore(64), clock.NewFake(epoch)
	t.Cleanup(func() { _ = st.Close() })
	cfg := testConfig()
	cfg.Workers.Count = 1
	b := &testBundle{store: st, clock: clk, handlers: newTestHandlers()}
	gs := &dispatchGateStore{Store: st, entered: make(chan struct{}), release: make(chan struct{}), forwarded: make(chan struct{})}
	e, err := New(cfg, Deps{Store: gs, Clock: clk, Handlers: b.handlers})
	if err != nil {
		t.Fatal(err)
	}
	b.e = e
	t.Cleanup(e.Stop)
	b.handlers.set("query_knowledge", func(ctx context.Context, _ intent.Intent) error {
		<-ctx.Done()
		return ctx.Err()
	})
	b.start(t)
	in := b.submit(t, intent.Submission{Type: "query_knowledge"})
	select {
	case <-gs.entered:
	case <-time.After(waitLimit):
		t.Fatal("the dispatch was never written")
	}
	// The dispatch is on its way to the store; cancel now.
	_, err = e.Cancel(context.Background(), in.ID, "alice", "not needed")
	released := false
	release := func() {
		if !released {
			released = true
			close(gs.release)
		}
	}
	t.Cleanup(release)
	switch {
	case err == nil: // cancelled before the dispatch reached the store
	case errors.Is(err, ErrNotCancellable): // "look again": it is between the queue and its worker
		release()
		eventually(t, "the cancel once the dispatch is written", func() bool {
			_, err := e.Cancel(context.Background(), in.ID, "alice", "not needed")
			return err == nil
		})
	default:
		t.Fatal(err)
	}
	release()
	select {
	case <-gs.forwarded:
	case <-time.After(waitLimit):
		t.Fatal("the dispatch's write never reached the store")
	}
	st.Flush()
	if got := b.stored(t, in.ID).State; got != intent.StateCancelled {
		t.Fatalf("the store says %s after the cancel, want cancelled: the dispatch's update was written over it", got)
	}
}
