package governance

import "time"

// Config is the Phase 1 charter: tiers, alignment weights and the vote.
type Config struct {
	// Tiers maps "tier_0".."tier_4" to the intent types of that tier. A
	// type in no tier is Tier 0 (fail closed).
	Tiers map[string][]string `mapstructure:"tiers"`
	// Charter maps a charter priority to its alignment weight (0..1); a
	// mission context key "<priority>_impact": true claims it.
	Charter map[string]float64 `mapstructure:"charter"`
	// Vote configures the unified logic hub's Tier 3 vote.
	Vote VoteConfig `mapstructure:"vote"`
}

// VoteConfig sets the thresholds of the Tier 3 voters.
type VoteConfig struct {
	MinAlignment     float64       `mapstructure:"min_alignment"`      // alignment voter approves at or above
	HighImpactLimit  int           `mapstructure:"high_impact_limit"`  // rate voter: Tier 3 approvals per window
	HighImpactWindow time.Duration `mapstructure:"high_impact_window"` // rate voter's window
}

// Default returns the seed's charter.
func Default() Config {
	return Config{
		Tiers: map[string][]string{
			"tier_0": {"modify_governance", "change_charter", "grant_permissions"},
			"tier_1": {"execute_sandbox", "deploy_model", "modify_config"},
			"tier_2": {"query_knowledge", "generate_summary", "schedule_task"},
			"tier_3": {"self_improve", "extend_grace", "optimize_system"},
			"tier_4": {"emergency_recovery", "critical_incident"},
		},
		Charter: map[string]float64{"resilience": 1.0, "revenue": 0.8, "autonomy": 0.7, "learning": 0.6},
		Vote:    VoteConfig{MinAlignment: 0.5, HighImpactLimit: 30, HighImpactWindow: time.Hour},
	}
}
