package engine

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// WriterStaller is implemented by a store whose writer can be stalled on
// purpose (store.Store does): StallWriter holds the writer for d, so that
// nothing commits meanwhile, and returns once it is held; the stall ends
// after d or when ctx ends.
type WriterStaller interface {
	StallWriter(ctx context.Context, d time.Duration) error
}

// ErrNoStoreStall: the engine's store has no writer stall hook (it does
// not implement WriterStaller).
var ErrNoStoreStall = errors.New("the store cannot stall its writer")

// InjectStoreStall stalls the store's writer for d, like a disk that stops
// answering: submissions, approvals and every other durable change wait
// for their commit, and the scheduler's and workers' records queue behind
// it. It records fault_injected (durably, before the stall) and returns
// once the writer is held; the stall ends after d or when ctx ends. It
// returns ErrStopped on an engine that is not running and ErrNoStoreStall
// when the store has no such hook.
func (e *Engine) InjectStoreStall(ctx context.Context, d time.Duration, reason string) error {
	if !e.ready.Load() {
		return fmt.Errorf("stall store writer: %w", ErrStopped)
	}
	st, ok := e.store.(WriterStaller)
	if !ok {
		return fmt.Errorf("stall store writer: %w (%T)", ErrNoStoreStall, e.store)
	}
	reason = orDefault(strings.TrimSpace(reason), "fault injection")
	if err := e.recordFault(ctx, "store", "stall_store_writer", reason,
		fmt.Sprintf("the store's writer commits nothing for %v: every acknowledgement waits for it", d),
		"stall_ms", d.Milliseconds()); err != nil {
		return fmt.Errorf("stall store writer for %v: %w", d, err)
	}
	if err := st.StallWriter(ctx, d); err != nil {
		return fmt.Errorf("stall store writer for %v: %w", d, err)
	}
	return nil
}
