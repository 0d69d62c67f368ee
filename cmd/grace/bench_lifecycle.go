package main

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"grace/engine/clarity"
	"grace/engine/intent"
	"grace/store"
)

// benchLifecycle measures the store's own ceiling for the engine's write
// pattern, without HTTP or the engine: c submitters each create an intent
// with its intake records (received, routed) and wait for that commit, as
// the API does, then stream its dispatch and completion (an update and a
// record each) without waiting, as the scheduler and workers do. It
// returns intents per second and the process's CPU time per intent; the
// last completion is durable before the clock stops.
func benchLifecycle(ctx context.Context, st *store.Store, n, c int) (perSec float64, cpuEach time.Duration, err error) {
	var next atomic.Int64
	var failed atomic.Pointer[error]
	var settled, wg sync.WaitGroup
	fail := func(_ intent.Result, err error) {
		if err != nil {
			failed.CompareAndSwap(nil, &err)
		}
		settled.Done()
	}
	start, cpu0 := time.Now(), processCPU()
	for range c {
		wg.Go(func() {
			for {
				i := int(next.Add(1))
				if i > n || failed.Load() != nil {
					return
				}
				in := lifecycleIntent(i)
				recs := []clarity.Record{lifecycleRecord(&in, "intake", "intent_received"), lifecycleRecord(&in, "governance_router", "intent_routed")}
				if _, err := st.Apply(ctx, &intent.Change{Create: &in, Records: recs}); err != nil {
					failed.CompareAndSwap(nil, &err)
					return
				}
				running, done := in, in
				running.State, running.Worker, running.Attempts = intent.StateRunning, "worker_1", 1
				done.State, done.Worker, done.Attempts = intent.StateCompleted, "worker_1", 1
				settled.Add(2)
				st.ApplyAsync(&intent.Change{Update: &running, Records: []clarity.Record{lifecycleRecord(&in, "htm_orchestrator", "intent_dispatched")}}, fail)
				st.ApplyAsync(&intent.Change{Update: &done, Records: []clarity.Record{lifecycleRecord(&in, "worker_1", "intent_completed")}}, fail)
			}
		})
	}
	wg.Wait()
	settled.Wait()
	elapsed, cpu := time.Since(start), processCPU()-cpu0
	if err := failed.Load(); err != nil {
		return 0, 0, *err
	}
	return float64(n) / elapsed.Seconds(), cpu / time.Duration(n), nil
}

// lifecycleIntent is a queued Tier 2 intent shaped like the API's.
func lifecycleIntent(i int) intent.Intent {
	now := time.Now()
	return intent.Intent{
		ID: fmt.Sprintf("int_life_%09d", i), Type: "query_knowledge", Actor: "agent.bench",
		Payload: []byte(`{"q":"status of kernel 7"}`), Priority: 5, State: intent.StateQueued, Tier: 2,
		Decision: intent.Decision{Approved: true, AutonomyTier: 2, Alignment: 0.5, RoutedTo: "direct",
			Reasoning: []string{"query_knowledge is Tier 2 (autonomy tier table)", "Mission alignment 0.50 from the charter weights", "Direct execution: no vote or approval needed"}},
		CreatedAt: now, UpdatedAt: now,
	}
}

// lifecycleRecord is one of the intent's decision records, of the size the
// engine writes.
func lifecycleRecord(in *intent.Intent, who, what string) clarity.Record {
	return clarity.Record{
		Who: who, What: what, Where: "htm_queue", IntentID: in.ID, Result: "ok",
		Why: []string{"Submitted by agent.bench: query_knowledge at priority 5", "Payload is a JSON object of 26 bytes (limit 65536)",
			"No idempotency key: a resubmission would be a new intent"},
		How: "intake_validation", Context: map[string]any{"type": in.Type, "priority": in.Priority, "payload_bytes": len(in.Payload)},
		Confidence: 0.9, Risk: 0.2, Transparency: clarity.TransparencyComplete,
	}
}
