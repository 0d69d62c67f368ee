package engine

import (
	"context"
	"fmt"
	"time"

	"grace/engine/governance"
	"grace/engine/intent"
)

// highImpactScan bounds how many recent Tier 3 intents are read to count
// the approved ones.
const highImpactScan = 1000

// hubState is what the unified logic hub knows for a routing decision:
// Layer 2 is unhealthy when the HTM queue is at or past its critical depth,
// and HighImpactRecent counts the Tier 3 intents approved within
// governance.vote.high_impact_window. The store is read only for a Tier 3
// type (the vote is the only reader of these figures), or for the queue
// depth on an engine that is not started.
func (e *Engine) hubState(ctx context.Context, typ string) (governance.HubState, error) {
	if tier, _ := e.router.Tier(typ); tier != 3 {
		return governance.HubState{Healthy: true}, nil
	}
	depth := e.queue.Len()
	if !e.accepting.Load() {
		counts, err := e.store.CountByState(ctx)
		if err != nil {
			return governance.HubState{}, fmt.Errorf("read queue depth for the hub: %w", err)
		}
		depth = counts[intent.StateQueued]
	}
	crit := e.cfg.HTM.CriticalDepth
	hub := governance.HubState{Healthy: depth < crit}
	if hub.Healthy {
		hub.HealthReason = fmt.Sprintf("queue %d/%d below critical depth, %d workers", depth, crit, e.cfg.Workers.Count)
	} else {
		hub.HealthReason = fmt.Sprintf("queue %d at or above critical depth %d", depth, crit)
	}
	since := e.clock.Now().Add(-e.router.HighImpactWindow())
	recent, err := e.store.List(ctx, intent.Filter{Tier: 3, HasTier: true, Since: since, Limit: highImpactScan})
	if err != nil {
		return governance.HubState{}, fmt.Errorf("count recent high-impact intents: %w", err)
	}
	for _, in := range recent {
		if in.Decision.Approved {
			hub.HighImpactRecent++
		}
	}
	return hub, nil
}

// liveFigures is the compact live snapshot kept with a Tier 4 record.
func (e *Engine) liveFigures() map[string]any {
	s := e.Snapshot()
	byState := make(map[string]int, len(s.ByState))
	for st, n := range s.ByState {
		byState[string(st)] = n
	}
	return map[string]any{
		"at": s.At.UTC().Format(time.RFC3339Nano), "queue_depth": s.QueueDepth, "queue_warn": s.QueueWarn, "queue_critical": s.QueueCritical,
		"workers_busy": s.WorkersBusy, "workers_idle": s.WorkersIdle, "pending_approvals": s.PendingApprovals,
		"dispatch_rate": s.DispatchRate, "completion_rate": s.CompletionRate, "by_state": byState, "ready": s.Ready,
	}
}
