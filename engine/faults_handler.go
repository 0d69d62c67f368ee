package engine

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"
	"time"

	"grace/engine/clock"
	"grace/engine/intent"
	"grace/engine/worker"
)

// ErrInjectedFault is wrapped by the failures an injected handler fault
// makes up, so that they can be told from real ones with errors.Is.
var ErrInjectedFault = errors.New("injected handler fault")

// HandlerFault slows down or fails the handlers of an intent type.
type HandlerFault struct {
	// Latency is waited (on the engine's clock) before the handler runs;
	// it counts towards the task's timeout.
	Latency time.Duration `json:"latency"`
	// ErrorRate is the share of runs (0..1) that fail instead of running.
	ErrorRate float64 `json:"error_rate"`
	// Permanent makes those failures permanent (not retried).
	Permanent bool `json:"permanent,omitempty"`
	// IgnoreCancel makes the latency ignore the handler's context, as a
	// handler that never checks it does: told to stop (its timeout, a
	// cancel), it runs on until the latency has passed or the faults are
	// cleared (a runaway handler; see abandon.go).
	IgnoreCancel bool `json:"ignore_cancel,omitempty"`
}

// handlerFaults are the handler faults in force, by intent type ("*" for
// every type without its own).
type handlerFaults struct {
	mu    sync.RWMutex
	by    map[string]HandlerFault
	clock clock.Clock
	rand  func() float64
	// cleared is closed when the faults are cleared: it ends the latency
	// of the runs under an IgnoreCancel fault.
	cleared chan struct{}
}

func newHandlerFaults(clk clock.Clock, rnd func() float64) *handlerFaults {
	return &handlerFaults{by: make(map[string]HandlerFault), clock: clk, rand: rnd, cleared: make(chan struct{})}
}

// wrap returns inner behind the fault in force for typ, or inner itself.
func (h *handlerFaults) wrap(typ string, inner worker.Handler) worker.Handler {
	h.mu.RLock()
	f, ok := h.by[typ]
	if !ok {
		f, ok = h.by["*"]
	}
	cleared := h.cleared
	h.mu.RUnlock()
	if !ok {
		return inner
	}
	return worker.HandlerFunc(func(ctx context.Context, in intent.Intent) error {
		switch {
		case f.Latency > 0 && f.IgnoreCancel:
			select { // ctx is not looked at: that is the fault
			case <-cleared:
			case <-h.clock.After(f.Latency):
			}
		case f.Latency > 0:
			select {
			case <-ctx.Done():
				return fmt.Errorf("injected latency of %v for %s: %w", f.Latency, in.Type, ctx.Err())
			case <-h.clock.After(f.Latency):
			}
		}
		if f.ErrorRate > 0 && h.rand() < f.ErrorRate {
			err := fmt.Errorf("%w for %s (error rate %g%%)", ErrInjectedFault, in.Type, f.ErrorRate*100)
			if f.Permanent {
				return worker.Permanent(err)
			}
			return err
		}
		return inner.Handle(ctx, in)
	})
}

// InjectHandlerFault slows or fails the handlers of intentType ("*" for
// every type without a fault of its own) from their next run until
// ClearHandlerFaults (see Faults). A new fault for the same type replaces
// the old. Latency must not be negative and ErrorRate must lie in 0..1.
func (e *Engine) InjectHandlerFault(ctx context.Context, intentType string, f HandlerFault) error {
	intentType = strings.TrimSpace(intentType)
	switch {
	case intentType == "":
		return errors.New("inject handler fault: an intent type (or \"*\") is required")
	case f.Latency < 0:
		return fmt.Errorf("inject handler fault for %s: latency (%v) must not be negative", intentType, f.Latency)
	case math.IsNaN(f.ErrorRate) || f.ErrorRate < 0 || f.ErrorRate > 1:
		return fmt.Errorf("inject handler fault for %s: error rate (%v) must lie in 0..1", intentType, f.ErrorRate)
	}
	effect := fmt.Sprintf("Handlers of %s wait %v more and fail %g%% of runs (permanent: %v) until cleared",
		intentType, f.Latency, f.ErrorRate*100, f.Permanent)
	if f.IgnoreCancel {
		effect += "; they ignore being told to stop while they wait"
	}
	if err := e.recordFault(ctx, "handlers", "handler_fault", "inject latency or errors into "+intentType, effect,
		"intent_type", intentType, "latency_ms", f.Latency.Milliseconds(), "error_rate", f.ErrorRate, "permanent", f.Permanent,
		"ignore_cancel", f.IgnoreCancel); err != nil {
		return fmt.Errorf("inject handler fault for %s: %w", intentType, err)
	}
	e.hfaults.mu.Lock()
	e.hfaults.by[intentType] = f
	e.hfaults.mu.Unlock()
	return nil
}

// ClearHandlerFaults removes every injected handler fault (see Faults).
// Runs already under way keep the fault they started with, except that a
// run waiting out an IgnoreCancel latency stops waiting.
func (e *Engine) ClearHandlerFaults(ctx context.Context) error {
	if err := e.recordFault(ctx, "handlers", "clear_handler_faults", "end of the handler faults",
		"Handlers run as configured again"); err != nil {
		return fmt.Errorf("clear handler faults: %w", err)
	}
	e.hfaults.mu.Lock()
	clear(e.hfaults.by)
	close(e.hfaults.cleared)
	e.hfaults.cleared = make(chan struct{})
	e.hfaults.mu.Unlock()
	return nil
}
