package engine

import (
	"context"
	"sync/atomic"
)

// layer2Stats count what the Layer 2 safeguards did since the engine was
// created, for Snapshot.
type layer2Stats struct {
	rateLimited    atomic.Uint64
	shed           atomic.Uint64
	rerouted       atomic.Uint64
	workersLost    atomic.Uint64
	staleDiscarded atomic.Uint64
	abandoned      atomic.Uint64 // handlers given up on by handler_abandonment
}

// startOrchestration starts the workers and the loops that keep Layer 2
// healthy: the supervisor (heartbeats, reassignment, pool size, pause
// guard), the protection loop (rate-limit narration, load shedding) and
// the hub's health loop. All run until ctx ends and are waited for by Stop.
// Their tickers are made here, before Start returns, so that the first
// interval counts from the start (a fake clock advanced at once fires
// them).
func (e *Engine) startOrchestration(ctx context.Context) {
	e.pool.mu.Lock()
	initial := append([]*workerState(nil), e.pool.workers...)
	e.pool.mu.Unlock()
	for _, w := range initial {
		e.startWorker(ctx, w)
	}
	beat := e.clock.NewTicker(e.cfg.Workers.HeartbeatInterval)
	protect := e.clock.NewTicker(e.cfg.HTM.Shedding.Interval)
	hub := e.clock.NewTicker(e.cfg.Hub.Interval)
	e.wg.Go(func() { e.superviseLoop(ctx, beat) })
	e.wg.Go(func() { e.protectLoop(ctx, protect) })
	e.wg.Go(func() { e.hubLoop(ctx, hub) })
}
