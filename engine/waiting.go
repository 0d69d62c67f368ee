package engine

import (
	"context"
	"fmt"

	"grace/engine/intent"
)

// WaitingApprovals returns the newest limit intents pending approval
// whose deadline has not passed, oldest first and masked like Get, and how
// many such are pending in all. Those past their deadline are left out of
// both: they expire as the engine starts, and an operator told "N intents
// wait" must find N. It reads the store, so it answers before the engine
// starts: the notifier announces again, at start, what a previous run left
// waiting (UnacknowledgedApprovals, when the store keeps what each webhook
// acknowledged).
func (e *Engine) WaitingApprovals(ctx context.Context, limit int) (newest []intent.Intent, total int, err error) {
	waiting, err := e.waitingApprovals(ctx)
	if err != nil {
		return nil, 0, err
	}
	if limit <= 0 {
		return nil, len(waiting), nil
	}
	return e.guard.mask.intents(waiting[max(0, len(waiting)-limit):]), len(waiting), nil
}

// waitingApprovals returns the intents pending approval whose deadline
// has not passed, oldest first, unmasked.
func (e *Engine) waitingApprovals(ctx context.Context) ([]intent.Intent, error) {
	open, err := e.store.NonTerminal(ctx) // oldest first
	if err != nil {
		return nil, fmt.Errorf("list pending approvals: %w", err)
	}
	now := e.clock.Now()
	waiting := open[:0]
	for _, in := range open {
		if in.State == intent.StatePendingApproval && (in.Deadline.IsZero() || in.Deadline.After(now)) {
			waiting = append(waiting, in)
		}
	}
	return waiting, nil
}
