package store

import (
	"context"
	"fmt"
	"time"

	"grace/engine"
)

// MaxStall is the longest writer stall StallWriter accepts.
const MaxStall = 10 * time.Second

var _ engine.WriterStaller = (*Store)(nil)

// StallWriter holds the writer goroutine for d, as a stalled disk or a
// slow fsync would: nothing is committed meanwhile. Apply callers wait
// for their commit (their changes queue, four batches deep, then Apply
// itself blocks), ApplyAsync callbacks are not called, and readers go on
// seeing what was committed before the stall. It is a fault hook for the
// chaos runner (the engine's InjectStoreStall).
//
// StallWriter returns once the writer is held: a batch being committed
// when it is called finishes first. The stall then lasts d on the store's
// clock, or ends sooner when ctx ends. d must lie in (0, MaxStall]. A
// Close called during a stall waits for it to end. It returns ErrClosed
// on a closed store and ErrReadOnly on a read-only one.
func (s *Store) StallWriter(ctx context.Context, d time.Duration) error {
	if d <= 0 || d > MaxStall {
		return fmt.Errorf("stall the writer of %s: duration %v must lie in (0, %v]", s.path, d, MaxStall)
	}
	held := make(chan struct{})
	call := func() {
		// The timer is armed before the caller hears that the writer is
		// held, so that a fake clock advanced then ends the stall.
		end := s.opts.Clock.After(d)
		close(held)
		select {
		case <-end:
		case <-ctx.Done():
		}
	}
	s.mu.RLock()
	switch {
	case s.closed:
		s.mu.RUnlock()
		return fmt.Errorf("stall the writer of %s: %w", s.path, ErrClosed)
	case s.w == nil:
		s.mu.RUnlock()
		return fmt.Errorf("stall the writer of %s: %w", s.path, ErrReadOnly)
	}
	select {
	case s.w.ctl <- call:
		s.mu.RUnlock()
	case <-ctx.Done():
		s.mu.RUnlock()
		return fmt.Errorf("stall the writer of %s: %w", s.path, ctx.Err())
	}
	<-held
	return nil
}
