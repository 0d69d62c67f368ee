package governance

import (
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"grace/engine/intent"
)

// newRouter builds a router from the default charter after mutate (if any)
// has changed it.
func newRouter(t testing.TB, mutate func(*Config)) *Router {
	t.Helper()
	cfg := Default()
	if mutate != nil {
		mutate(&cfg)
	}
	r, err := NewRouter(cfg)
	if err != nil {
		t.Fatalf("NewRouter: %v", err)
	}
	return r
}

var healthyHub = HubState{Healthy: true, HealthReason: "queue 12/1000, 8 workers"}

func TestRouteSeedExample(t *testing.T) {
	t.Parallel()
	r := newRouter(t, nil)
	d := r.Route(intent.Submission{
		Type:    "extend_grace",
		Actor:   "grace_architect",
		Payload: []byte(`{"feature":"market_intelligence"}`),
		Context: map[string]any{"revenue_impact": true},
	}, healthyHub)

	if !d.Approved || d.AutonomyTier != 3 || !d.RequiresVote || d.RequiresHuman || d.RoutedTo != "unified_logic_hub" {
		t.Fatalf("decision = %+v; want approved Tier 3 vote routed to unified_logic_hub", d)
	}
	if d.Alignment != 0.8 {
		t.Errorf("alignment = %v, want 0.8", d.Alignment)
	}
	want := []string{"Tier 3: High impact, requires unified logic vote", "Mission alignment: 80%"}
	if len(d.Reasoning) < 2 || !reflect.DeepEqual(d.Reasoning[:2], want) {
		t.Errorf("reasoning = %q, want it to start with %q", d.Reasoning, want)
	}
	if len(d.Votes) < 3 {
		t.Fatalf("votes = %+v, want at least three ballots", d.Votes)
	}
	for _, v := range d.Votes {
		if !v.Approve || v.Reason == "" {
			t.Errorf("ballot %+v: want an approval with a reason", v)
		}
	}
}

func TestRouteByTier(t *testing.T) {
	t.Parallel()
	r := newRouter(t, nil)
	tests := []struct {
		typ                                string
		wantTier                           int
		wantApproved, wantVote, wantHuman  bool
		wantRoute, wantFirstReasonContains string
	}{
		{"change_charter", 0, false, false, true, "human", "Tier 0: human approval required"},
		{"launch_missiles", 0, false, false, true, "human", `unknown intent type "launch_missiles": Tier 0 (fail closed)`},
		{"", 0, false, false, true, "human", "Tier 0 (fail closed)"},
		{"deploy_model", 1, true, false, false, "direct", "later review"},
		{"query_knowledge", 2, true, false, false, "direct", "Tier 2"},
		{"optimize_system", 3, true, true, false, "unified_logic_hub", "requires unified logic vote"},
		{"critical_incident", 4, true, false, false, "direct", "emergency override, heavy logging"},
	}
	for _, tt := range tests {
		t.Run(tt.typ, func(t *testing.T) {
			t.Parallel()
			d := r.Route(intent.Submission{Type: tt.typ, Context: map[string]any{"resilience_impact": true}}, healthyHub)
			if d.AutonomyTier != tt.wantTier || d.Approved != tt.wantApproved || d.RequiresVote != tt.wantVote ||
				d.RequiresHuman != tt.wantHuman || d.RoutedTo != tt.wantRoute {
				t.Errorf("decision = %+v; want tier %d approved=%v vote=%v human=%v routed_to=%s",
					d, tt.wantTier, tt.wantApproved, tt.wantVote, tt.wantHuman, tt.wantRoute)
			}
			if len(d.Reasoning) == 0 || !strings.Contains(d.Reasoning[0], tt.wantFirstReasonContains) {
				t.Errorf("reasoning = %q, want first line to contain %q", d.Reasoning, tt.wantFirstReasonContains)
			}
			if (len(d.Votes) > 0) != tt.wantVote {
				t.Errorf("votes = %+v, want ballots only for Tier 3", d.Votes)
			}
		})
	}
}

func TestTier(t *testing.T) {
	t.Parallel()
	r := newRouter(t, func(c *Config) { c.Tiers["tier_2"] = append(c.Tiers["tier_2"], "read_metrics") })
	tests := []struct {
		typ       string
		wantTier  int
		wantKnown bool
	}{
		{"modify_governance", 0, true},
		{"modify_config", 1, true},
		{"read_metrics", 2, true},
		{"self_improve", 3, true},
		{"emergency_recovery", 4, true},
		{"Self_Improve", 0, false},
		{"no_such_type", 0, false},
		{"", 0, false},
	}
	for _, tt := range tests {
		if tier, known := r.Tier(tt.typ); tier != tt.wantTier || known != tt.wantKnown {
			t.Errorf("Tier(%q) = %d, %v; want %d, %v", tt.typ, tier, known, tt.wantTier, tt.wantKnown)
		}
	}
}

func TestAlignment(t *testing.T) {
	t.Parallel()
	r := newRouter(t, nil)
	tests := []struct {
		name       string
		ctx        map[string]any
		want       float64
		wantReason string
	}{
		{"nil context", nil, 0, "claims no charter priority"},
		{"revenue", map[string]any{"revenue_impact": true}, 0.8, "claims revenue"},
		{"highest claim wins", map[string]any{"learning_impact": true, "resilience_impact": true, "revenue_impact": true}, 1.0, "claims resilience"},
		{"autonomy", map[string]any{"autonomy_impact": true, "ticket": "GR-12"}, 0.7, "claims autonomy"},
		{"false claims nothing", map[string]any{"revenue_impact": false}, 0, "claims no charter priority"},
		{"string claims nothing", map[string]any{"revenue_impact": "true"}, 0, "claims no charter priority"},
		{"unknown priority ignored", map[string]any{"vanity_impact": true}, 0, "vanity_impact names no charter priority"},
		{"unknown beside known", map[string]any{"vanity_impact": true, "learning_impact": true}, 0.6, "vanity_impact names no charter priority"},
		{"bare suffix", map[string]any{"_impact": true}, 0, "claims no charter priority"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, reasons := r.Alignment(tt.ctx)
			if got != tt.want {
				t.Errorf("score = %v, want %v", got, tt.want)
			}
			if !strings.Contains(strings.Join(reasons, "\n"), tt.wantReason) {
				t.Errorf("reasons = %q, want one containing %q", reasons, tt.wantReason)
			}
		})
	}
}

func TestTier3Vote(t *testing.T) {
	t.Parallel()
	r := newRouter(t, func(c *Config) { c.Vote.MinAlignment = 0.7; c.Vote.HighImpactLimit = 5 })
	revenue := map[string]any{"revenue_impact": true}
	learning := map[string]any{"learning_impact": true}
	tests := []struct {
		name         string
		ctx          map[string]any
		hub          HubState
		wantApproved bool
		wantBallots  map[string]bool
		wantReason   map[string]string
	}{
		{"all approve", revenue, HubState{Healthy: true, HealthReason: "all green", HighImpactRecent: 4}, true,
			map[string]bool{"health": true, "alignment": true, "impact_rate": true},
			map[string]string{"health": "all green", "alignment": "80% meets the 70% minimum", "impact_rate": "4 high-impact actions in the last 1h, under the limit of 5"}},
		{"unhealthy hub is outvoted", revenue, HubState{Healthy: false, HealthReason: "queue 5200/5000 critical"}, true,
			map[string]bool{"health": false, "alignment": true, "impact_rate": true},
			map[string]string{"health": "unhealthy: queue 5200/5000 critical"}},
		{"low alignment and unhealthy", learning, HubState{Healthy: false}, false,
			map[string]bool{"health": false, "alignment": false, "impact_rate": true},
			map[string]string{"alignment": "60% is below the 70% minimum"}},
		{"rate limit reached and low alignment", learning, HubState{Healthy: true, HighImpactRecent: 5}, false,
			map[string]bool{"health": true, "alignment": false, "impact_rate": false},
			map[string]string{"impact_rate": "5 high-impact actions in the last 1h, at or over the limit of 5"}},
		{"no claim at all", nil, HubState{Healthy: true}, true,
			map[string]bool{"health": true, "alignment": false, "impact_rate": true},
			map[string]string{"alignment": "0% is below"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			d := r.Route(intent.Submission{Type: "self_improve", Context: tt.ctx}, tt.hub)
			if d.Approved != tt.wantApproved {
				t.Errorf("approved = %v, want %v (votes %+v)", d.Approved, tt.wantApproved, d.Votes)
			}
			if d.RequiresHuman {
				t.Errorf("a Tier 3 decision never requires a human: %+v", d)
			}
			got := map[string]bool{}
			for _, v := range d.Votes {
				got[v.Voter] = v.Approve
				if want, ok := tt.wantReason[v.Voter]; ok && !strings.Contains(v.Reason, want) {
					t.Errorf("%s reason = %q, want it to contain %q", v.Voter, v.Reason, want)
				}
			}
			if !reflect.DeepEqual(got, tt.wantBallots) {
				t.Errorf("ballots = %v, want %v", got, tt.wantBallots)
			}
			last := d.Reasoning[len(d.Reasoning)-1]
			if !strings.HasPrefix(last, "Unified logic vote: ") {
				t.Errorf("last reasoning line = %q, want the vote's outcome", last)
			}
		})
	}
}

func TestNewRouterRejectsBadConfig(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		mutate     func(*Config)
		wantKey    string
		wantReason string
	}{
		{"tier out of range", func(c *Config) { c.Tiers["tier_5"] = []string{"x"} }, "governance.tiers.tier_5", "unknown tier"},
		{"tier misspelt", func(c *Config) { c.Tiers["tierone"] = []string{"x"} }, "governance.tiers.tierone", "unknown tier"},
		{"type in two tiers", func(c *Config) { c.Tiers["tier_2"] = append(c.Tiers["tier_2"], "deploy_model") }, "governance.tiers.tier_2", `"deploy_model" is also listed in tier_1`},
		{"empty type", func(c *Config) { c.Tiers["tier_4"] = append(c.Tiers["tier_4"], " ") }, "governance.tiers.tier_4", "empty"},
		{"weight above 1", func(c *Config) { c.Charter["revenue"] = 1.5 }, "governance.charter.revenue", "outside 0..1"},
		{"negative weight", func(c *Config) { c.Charter["learning"] = -0.1 }, "governance.charter.learning", "outside 0..1"},
		{"NaN weight", func(c *Config) { c.Charter["autonomy"] = math.NaN() }, "governance.charter.autonomy", "outside 0..1"},
		{"min alignment above 1", func(c *Config) { c.Vote.MinAlignment = 2 }, "governance.vote.min_alignment", "outside 0..1"},
		{"zero impact limit", func(c *Config) { c.Vote.HighImpactLimit = 0 }, "governance.vote.high_impact_limit", "at least 1"},
		{"zero window", func(c *Config) { c.Vote.HighImpactWindow = 0 }, "governance.vote.high_impact_window", "positive"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := Default()
			tt.mutate(&cfg)
			_, err := NewRouter(cfg)
			var ce *ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("NewRouter error = %v, want a *ConfigError", err)
			}
			if ce.Key != tt.wantKey || !strings.Contains(ce.Reason, tt.wantReason) {
				t.Errorf("error = %v; want key %s and a reason containing %q", err, tt.wantKey, tt.wantReason)
			}
			if !strings.Contains(err.Error(), tt.wantKey) {
				t.Errorf("message %q does not name the key %s", err, tt.wantKey)
			}
		})
	}
}

func TestNewRouterAcceptsEmptyCharterAndTiers(t *testing.T) {
	t.Parallel()
	r, err := NewRouter(Config{Vote: Default().Vote})
	if err != nil {
		t.Fatalf("NewRouter: %v", err)
	}
	d := r.Route(intent.Submission{Type: "query_knowledge", Context: map[string]any{"revenue_impact": true}}, healthyHub)
	if d.AutonomyTier != 0 || d.Approved || d.RoutedTo != RouteHuman || d.Alignment != 0 {
		t.Errorf("with no tiers and no charter, decision = %+v; want Tier 0 to a human with alignment 0", d)
	}
}

func TestRouterKeepsItsOwnCopyOfConfig(t *testing.T) {
	t.Parallel()
	cfg := Default()
	r, err := NewRouter(cfg)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Tiers["tier_2"] = append(cfg.Tiers["tier_2"], "grant_everything")
	cfg.Tiers["tier_0"][0] = "renamed"
	cfg.Charter["revenue"] = 0.1
	if tier, known := r.Tier("modify_governance"); tier != 0 || !known {
		t.Errorf("Tier(modify_governance) = %d, %v after the caller's config changed", tier, known)
	}
	if score, _ := r.Alignment(map[string]any{"revenue_impact": true}); score != 0.8 {
		t.Errorf("alignment = %v after the caller's charter changed, want 0.8", score)
	}
}

func TestRouteIsDeterministic(t *testing.T) {
	t.Parallel()
	r := newRouter(t, nil)
	sub := intent.Submission{Type: "extend_grace", Context: map[string]any{
		"revenue_impact": true, "autonomy_impact": true, "learning_impact": true, "x_impact": true, "y_impact": true,
	}}
	first := r.Route(sub, healthyHub)
	for range 50 {
		if got := r.Route(sub, healthyHub); !reflect.DeepEqual(got, first) {
			t.Fatalf("Route gave %+v, then %+v", first, got)
		}
	}
}

func TestShortDuration(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{"1h0m0s": "1h", "10m0s": "10m", "1h30m0s": "1h30m", "30s": "30s", "2h0m5s": "2h0m5s"} {
		d, err := time.ParseDuration(in)
		if err != nil {
			t.Fatal(err)
		}
		if got := shortDuration(d); got != want {
			t.Errorf("shortDuration(%s) = %s, want %s", in, got, want)
		}
	}
}

func BenchmarkRouteTier3(b *testing.B) {
	r := newRouter(b, nil)
	sub := intent.Submission{Type: "extend_grace", Context: map[string]any{"revenue_impact": true}}
	b.ReportAllocs()
	for b.Loop() {
		r.Route(sub, healthyHub)
	}
}
