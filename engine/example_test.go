package engine_test

import (
	"context"
	"encoding/json"
	"fmt"

	"grace/engine"
	"grace/engine/enginetest"
	"grace/engine/intent"
	"grace/engine/worker"
)

// An intent goes in, is governed and accepted; a Tier 0 intent waits for an
// operator, whose approval releases it to the queue.
func ExampleEngine_Submit() {
	st := enginetest.NewStore(16)
	defer st.Close()
	cfg := engine.Default()
	cfg.Handlers = map[string]worker.HandlerConfig{"default": {Kind: worker.KindNoop}}
	e, err := engine.New(cfg, engine.Deps{Store: st})
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx := context.Background()

	res, err := e.Submit(ctx, intent.Submission{
		Type: "extend_grace", Actor: "grace_architect",
		Payload: json.RawMessage(`{"feature":"market_intelligence"}`),
		Context: map[string]any{"revenue_impact": true},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	d := res.Intent.Decision
	fmt.Println(res.Intent.State, d.AutonomyTier, d.RoutedTo, d.Reasoning[0])

	res, _ = e.Submit(ctx, intent.Submission{Type: "change_charter", Actor: "grace_architect"})
	fmt.Println(res.Intent.State)
	approved, _ := e.Approve(ctx, res.Intent.ID, "alice", "charter review done")
	fmt.Println(approved.State, approved.DecidedBy)

	_, err = e.Submit(ctx, intent.Submission{Type: "query_knowledge", Priority: 12})
	fmt.Println(err)
	// Output:
	// queued 3 unified_logic_hub Tier 3: High impact, requires unified logic vote
	// pending_approval
	// queued alice
	// invalid intent: actor: is required; priority: must be between 0 and 9 (got 12)
}
