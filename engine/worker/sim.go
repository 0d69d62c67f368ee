package worker

import (
	"context"
	"fmt"
	"math"
	"time"

	"grace/engine/clock"
	"grace/engine/intent"
)

// simJitter is the ± fraction by which a simulated latency varies.
const simJitter = 0.25

// simHandler pretends to work: it waits a jittered latency on its clock and
// then fails at its failure rate.
type simHandler struct {
	latency     time.Duration
	failureRate float64
	clock       clock.Clock
	rand        func() float64
}

// Handle waits latency ±25% on the clock, then returns an error wrapping
// ErrSimulated with probability failureRate. If ctx ends first it returns
// an error wrapping ctx.Err() at once.
func (h *simHandler) Handle(ctx context.Context, in intent.Intent) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("simulate %s for intent %s: %w", in.Type, in.ID, err)
	}
	if h.latency > 0 {
		factor := 1 - simJitter + 2*simJitter*h.rand()
		d := time.Duration(math.Round(float64(h.latency) * factor))
		select {
		case <-ctx.Done():
			return fmt.Errorf("simulate %s for intent %s: %w", in.Type, in.ID, ctx.Err())
		case <-h.clock.After(d):
		}
	}
	if h.failureRate > 0 && h.rand() < h.failureRate {
		return fmt.Errorf("simulate %s for intent %s: %w (failure rate %g%%)", in.Type, in.ID, ErrSimulated, h.failureRate*100)
	}
	return nil
}
