package engine

import (
	"context"
	"fmt"
	"slices"

	"grace/engine/intent"
)

// WaitingApprovals returns the newest limit intents pending approval,
// oldest first and masked like Get, and how many are pending in all. It
// reads the store, so it answers before the engine starts: the notifier
// announces again, at start, what a previous run left waiting.
func (e *Engine) WaitingApprovals(ctx context.Context, limit int) (newest []intent.Intent, total int, err error) {
	counts, err := e.store.CountByState(ctx)
	if err != nil {
		return nil, 0, fmt.Errorf("count pending approvals: %w", err)
	}
	total = counts[intent.StatePendingApproval]
	if total == 0 || limit <= 0 {
		return nil, total, nil
	}
	ins, err := e.store.List(ctx, intent.Filter{State: intent.StatePendingApproval, Limit: limit})
	if err != nil {
		return nil, total, fmt.Errorf("list pending approvals: %w", err)
	}
	slices.Reverse(ins)
	return e.guard.mask.intents(ins), max(total, len(ins)), nil
}
