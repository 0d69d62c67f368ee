package governance

import (
	"fmt"
	"math"
	"sort"
	"strings"
	"time"
)

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
	// TwoPersonTypes are the Tier 0 intent types that need approvals from
	// two different operators (the engine enforces it; the router ignores it).
	TwoPersonTypes []string `mapstructure:"two_person_types"`
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
		Charter:        map[string]float64{"resilience": 1.0, "revenue": 0.8, "autonomy": 0.7, "learning": 0.6},
		Vote:           VoteConfig{MinAlignment: 0.5, HighImpactLimit: 30, HighImpactWindow: time.Hour},
		TwoPersonTypes: []string{},
	}
}

// ConfigError is a governance setting that cannot be used. Key is the full
// config key at fault ("governance.tiers.tier_7", "governance.charter.revenue",
// "governance.vote.min_alignment"), so the message can be traced to a line of
// config.yaml.
type ConfigError struct {
	Key    string
	Reason string
}

// Error returns "<key>: <reason>".
func (e *ConfigError) Error() string { return e.Key + ": " + e.Reason }

// MaxTier is the highest autonomy tier.
const MaxTier = 4

// Validate checks c and returns the first problem found as a *ConfigError,
// or nil. Problems are looked for in a fixed order (tiers, then charter,
// then vote; keys in sorted order), so the same config always reports the
// same error. An empty Tiers map is valid: every type is then Tier 0. An
// empty Charter is valid too: every alignment score is then 0.
func (c Config) Validate() error {
	_, err := c.tierIndex()
	if err != nil {
		return err
	}
	for _, name := range sortedKeys(c.Charter) {
		w := c.Charter[name]
		key := "governance.charter." + name
		switch {
		case strings.TrimSpace(name) == "":
			return &ConfigError{Key: "governance.charter", Reason: "a charter priority has an empty name"}
		case math.IsNaN(w) || w < 0 || w > 1:
			return &ConfigError{Key: key, Reason: fmt.Sprintf("weight %v is outside 0..1", w)}
		}
	}
	v := c.Vote
	switch {
	case math.IsNaN(v.MinAlignment) || v.MinAlignment < 0 || v.MinAlignment > 1:
		return &ConfigError{Key: "governance.vote.min_alignment", Reason: fmt.Sprintf("%v is outside 0..1", v.MinAlignment)}
	case v.HighImpactLimit < 1:
		return &ConfigError{Key: "governance.vote.high_impact_limit", Reason: fmt.Sprintf("%d must be at least 1", v.HighImpactLimit)}
	case v.HighImpactWindow <= 0:
		return &ConfigError{Key: "governance.vote.high_impact_window", Reason: fmt.Sprintf("%v must be positive", v.HighImpactWindow)}
	}
	return nil
}

// tierIndex maps each listed intent type to its tier, rejecting unknown tier
// keys, empty type names and a type listed in two tiers.
func (c Config) tierIndex() (map[string]int, error) {
	idx := make(map[string]int)
	for _, key := range sortedKeys(c.Tiers) {
		tier, ok := parseTierKey(key)
		if !ok {
			return nil, &ConfigError{Key: "governance.tiers." + key,
				Reason: "unknown tier (want tier_0, tier_1, tier_2, tier_3 or tier_4)"}
		}
		for _, typ := range c.Tiers[key] {
			if strings.TrimSpace(typ) == "" {
				return nil, &ConfigError{Key: "governance.tiers." + key, Reason: "an intent type is empty"}
			}
			if prev, dup := idx[typ]; dup && prev != tier {
				return nil, &ConfigError{Key: "governance.tiers." + key,
					Reason: fmt.Sprintf("intent type %q is also listed in tier_%d; a type belongs to one tier", typ, prev)}
			}
			idx[typ] = tier
		}
	}
	return idx, nil
}

// parseTierKey turns "tier_0".."tier_4" into 0..4.
func parseTierKey(key string) (int, bool) {
	if len(key) != len("tier_0") || !strings.HasPrefix(key, "tier_") {
		return 0, false
	}
	d := key[len(key)-1]
	if d < '0' || d > '0'+MaxTier {
		return 0, false
	}
	return int(d - '0'), true
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
