package governance_test

import (
	"encoding/json"
	"fmt"
	"os"

	"grace/engine/governance"
	"grace/engine/intent"
)

// The seed's example: an architect agent extends Grace for revenue while
// Layer 2 is healthy. Tier 3 goes to the unified logic hub, whose three
// voters approve.
func ExampleRouter_Route() {
	router, err := governance.NewRouter(governance.Default())
	if err != nil {
		fmt.Println(err)
		return
	}
	decision := router.Route(intent.Submission{
		Type:    "extend_grace",
		Actor:   "grace_architect",
		Payload: json.RawMessage(`{"feature": "market_intelligence"}`),
		Context: map[string]any{"revenue_impact": true},
	}, governance.HubState{Healthy: true, HealthReason: "queue 127/1000, 8 workers"})

	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	_ = enc.Encode(decision)
	// Output:
	// {
	//   "approved": true,
	//   "autonomy_tier": 3,
	//   "requires_vote": true,
	//   "requires_human": false,
	//   "alignment": 0.8,
	//   "reasoning": [
	//     "Tier 3: High impact, requires unified logic vote",
	//     "Mission alignment: 80%",
	//     "Mission context claims revenue (charter weight 0.80)",
	//     "Unified logic vote: approved 3 to 0"
	//   ],
	//   "routed_to": "unified_logic_hub",
	//   "votes": [
	//     {
	//       "voter": "health",
	//       "approve": true,
	//       "reason": "Layer 2 is healthy: queue 127/1000, 8 workers"
	//     },
	//     {
	//       "voter": "alignment",
	//       "approve": true,
	//       "reason": "mission alignment 80% meets the 50% minimum"
	//     },
	//     {
	//       "voter": "impact_rate",
	//       "approve": true,
	//       "reason": "0 high-impact actions in the last 1h, under the limit of 30"
	//     }
	//   ]
	// }
}

// An intent type the charter does not list fails closed: Tier 0, waiting
// for a human.
func ExampleRouter_Tier() {
	router, _ := governance.NewRouter(governance.Default())
	fmt.Println(router.Tier("query_knowledge"))
	fmt.Println(router.Tier("rewrite_kernel"))
	// Output:
	// 2 true
	// 0 false
}
