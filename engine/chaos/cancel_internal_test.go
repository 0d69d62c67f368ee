package chaos

import (
	"context"
	"testing"
	"time"

	"grace/engine"
	"grace/engine/clock"
	"grace/engine/enginetest"
	"grace/engine/intent"
	"grace/engine/worker"
)

// cancel_running withdraws running work. When the load an earlier fault
// submitted has all finished by the time it comes (a slow machine between
// the faults), it submits work of its own to withdraw rather than waiting
// for a busy worker that will never come and failing the scenario as not
// carried out.
func TestCancelRunningAfterTheLoadFinished(t *testing.T) {
	t.Parallel()
	cfg := engine.Default()
	cfg.Cortex.Enabled = false
	cfg.Workers.Count = 2
	cfg.Handlers = map[string]worker.HandlerConfig{"default": {Kind: worker.KindNoop}}
	st := enginetest.NewStore(256)
	defer st.Close()
	e, err := engine.New(cfg, engine.Deps{Store: st, Clock: clock.Real{}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := e.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer e.Stop()
	sc := &Scenario{ID: "cancel_test", Parameters: map[string]Parameter{
		"tasks": {Base: 6}, "handler_latency_ms": {Base: 2000}, "cancel_share": {Base: 0.5}}}
	r := &run{sc: sc, difficulty: 1, eng: e}
	// The earlier fault's load, finished.
	if err := r.submitLoad(ctx, "before", 3); err != nil {
		t.Fatal(err)
	}
	if err := r.waitFor(ctx, time.Minute, func() bool { return !r.anyWithdrawable(ctx) }); err != nil {
		t.Fatalf("the first load did not finish: %v", err)
	}
	if err := injectCancelRunning(ctx, r, Fault{Kind: FaultCancelRunning}); err != nil {
		t.Fatalf("cancel_running after the load finished: %v", err)
	}
	if len(r.cancelled) == 0 {
		t.Fatal("cancel_running cancelled nothing")
	}
	for _, id := range r.cancelled {
		if in, err := e.Get(ctx, id); err != nil || in.State != intent.StateCancelled {
			t.Errorf("intent %s: %+v, %v; want cancelled", id, in.State, err)
		}
	}
	_ = e.ClearHandlerFaults(ctx)
}
