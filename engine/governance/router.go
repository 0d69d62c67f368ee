package governance

import (
	"fmt"
	"math"
	"strconv"
	"time"

	"grace/engine/intent"
)

// Where a decision sends an intent (Decision.RoutedTo).
const (
	// RouteHuman: the intent waits for an operator's approval (Tier 0).
	RouteHuman = "human"
	// RouteDirect: the intent goes straight to the HTM queue (Tiers 1, 2, 4).
	RouteDirect = "direct"
	// RouteHub: the unified logic hub voted on the intent (Tier 3).
	RouteHub = "unified_logic_hub"
)

// Router decides the autonomy tier, mission alignment and route of intents.
// It is immutable after NewRouter and safe for concurrent use; every method
// is pure computation with no I/O.
type Router struct {
	cfg   Config
	tiers map[string]int
}

// HubState is what the unified logic hub knows when a Tier 3 vote is held.
// The zero value is an unhealthy hub with no recent high-impact actions.
type HubState struct {
	// Healthy is the Layer 2 health verdict the health voter follows.
	Healthy bool
	// HealthReason explains Healthy in a few words ("queue 127/1000, 8
	// workers"); the health voter quotes it.
	HealthReason string
	// HighImpactRecent counts Tier 3 intents approved within
	// Config.Vote.HighImpactWindow; the impact_rate voter refuses once it
	// reaches Config.Vote.HighImpactLimit.
	HighImpactRecent int
}

// NewRouter validates cfg (see Config.Validate) and returns a router for it.
// The error wraps a *ConfigError naming the config key at fault. The router
// keeps its own copy of the charter: later changes to cfg's maps do not
// affect it.
func NewRouter(cfg Config) (*Router, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("governance config: %w", err)
	}
	tiers, err := cfg.tierIndex()
	if err != nil {
		return nil, fmt.Errorf("governance config: %w", err)
	}
	own := Config{Tiers: make(map[string][]string, len(cfg.Tiers)), Charter: make(map[string]float64, len(cfg.Charter)), Vote: cfg.Vote}
	for k, v := range cfg.Tiers {
		own.Tiers[k] = append([]string(nil), v...)
	}
	for k, v := range cfg.Charter {
		own.Charter[k] = v
	}
	return &Router{cfg: own, tiers: tiers}, nil
}

// Tier returns the autonomy tier of intentType and whether the charter
// lists the type. An unknown type (including the empty string) is Tier 0
// with known false: it fails closed and waits for a human.
func (r *Router) Tier(intentType string) (tier int, known bool) {
	tier, known = r.tiers[intentType]
	return tier, known
}

// HighImpactWindow returns the window over which the caller should count
// HubState.HighImpactRecent (governance.vote.high_impact_window).
func (r *Router) HighImpactWindow() time.Duration { return r.cfg.Vote.HighImpactWindow }

// Route returns the governance decision for sub given the hub's state. It
// reads only sub.Type and sub.Context; it does not validate the rest of the
// submission (intake does). The decision:
//
//   - Tier 0 (listed or unknown type): not approved, requires a human,
//     routed to "human".
//   - Tier 1: approved, "direct", listed for later review.
//   - Tier 2: approved, "direct".
//   - Tier 3: requires a vote, routed to "unified_logic_hub"; the vote of
//     the health, alignment and impact_rate voters is held here and a
//     majority decides Approved. Votes holds every ballot with its reason.
//     A rejected Tier 3 intent does not go to a human: the hub said no.
//   - Tier 4: approved, "direct", emergency override with heavy logging.
//
// Reasoning always starts with the tier line and the mission alignment
// ("Mission alignment: 80%"), then the alignment details, then the vote's
// outcome for Tier 3. The same sub and hub always give the same decision.
func (r *Router) Route(sub intent.Submission, hub HubState) intent.Decision {
	tier, known := r.Tier(sub.Type)
	align, alignReasons := r.Alignment(sub.Context)
	d := intent.Decision{AutonomyTier: tier, Alignment: align}
	d.Reasoning = make([]string, 0, 4+len(alignReasons))
	d.Reasoning = append(d.Reasoning, tierLine(sub.Type, tier, known), alignmentLine(align))
	d.Reasoning = append(d.Reasoning, alignReasons...)
	switch tier {
	case 0:
		d.RequiresHuman = true
		d.RoutedTo = RouteHuman
	case 1, 2, 4:
		d.Approved = true
		d.RoutedTo = RouteDirect
	case 3:
		d.RequiresVote = true
		d.RoutedTo = RouteHub
		d.Votes = r.vote(align, hub)
		yes := 0
		for _, v := range d.Votes {
			if v.Approve {
				yes++
			}
		}
		no := len(d.Votes) - yes
		d.Approved = 2*yes > len(d.Votes)
		outcome := "rejected"
		if d.Approved {
			outcome = "approved"
		}
		d.Reasoning = append(d.Reasoning, fmt.Sprintf("Unified logic vote: %s %d to %d", outcome, yes, no))
	}
	return d
}

// tierLine is the first reasoning sentence of a decision.
func tierLine(typ string, tier int, known bool) string {
	if !known {
		return fmt.Sprintf("unknown intent type %q: Tier 0 (fail closed)", typ)
	}
	switch tier {
	case 0:
		return "Tier 0: human approval required"
	case 1:
		return "Tier 1: auto-execute, listed for later review"
	case 2:
		return "Tier 2: fully autonomous, low risk"
	case 3:
		return "Tier 3: High impact, requires unified logic vote"
	default:
		return "Tier 4: emergency override, heavy logging"
	}
}

// percent formats a 0..1 score as a whole percentage ("80%").
func percent(x float64) string {
	return strconv.Itoa(int(math.Round(x*100))) + "%"
}

// alignmentLines are the reasoning lines of the scores 0..100%, made once:
// every decision has one.
var alignmentLines = func() []string {
	out := make([]string, 101)
	for i := range out {
		out[i] = "Mission alignment: " + strconv.Itoa(i) + "%"
	}
	return out
}()

// alignmentLine is the reasoning line of an alignment score
// ("Mission alignment: 80%").
func alignmentLine(x float64) string {
	if p := math.Round(x * 100); p >= 0 && p <= 100 {
		return alignmentLines[int(p)]
	}
	return "Mission alignment: " + percent(x)
}
