package cortex

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"grace/engine"
	"grace/engine/governance"
	"grace/engine/intent"
)

// draws generates n submissions from the mix with a seeded Rand, treating
// every fresh valid one as accepted.
func draws(t *testing.T, weights map[string]float64, n int) (subs []drawn) {
	t.Helper()
	m, err := newMix(weights)
	if err != nil {
		t.Fatal(err)
	}
	g := newGenerator(rand.New(rand.NewPCG(42, 1)), m)
	for range n {
		sub, kind := g.next()
		if kind == drawValid {
			g.accepted(sub)
		}
		subs = append(subs, drawn{sub, kind})
	}
	return subs
}

type drawn struct {
	sub  intent.Submission
	kind drawKind
}

func TestMixProportions(t *testing.T) {
	t.Parallel()
	weights := engine.Default().Cortex.Mix
	weights["never"] = 0
	const n = 100_000
	counts := map[string]int{}
	fresh := 0
	for _, d := range draws(t, weights, n) {
		if d.kind == drawRetry {
			continue
		}
		counts[d.sub.Type]++
		fresh++
	}
	var total float64
	for _, w := range weights {
		total += w
	}
	for typ, w := range weights {
		p := w / total
		want := p * float64(fresh)
		tol := 4*math.Sqrt(float64(fresh)*p*(1-p)) + 1
		if got := float64(counts[typ]); math.Abs(got-want) > tol {
			t.Errorf("%s: %v of %d draws, want %.0f ± %.0f (weight %v)", typ, got, fresh, want, tol, w)
		}
	}
	for typ := range counts {
		if _, ok := weights[typ]; !ok {
			t.Errorf("drew %s, which is not in the mix", typ)
		}
	}
}

func TestSubmissionsLookLikeRealWork(t *testing.T) {
	t.Parallel()
	router, err := governance.NewRouter(governance.Default())
	if err != nil {
		t.Fatal(err)
	}
	const n = 20_000
	all := draws(t, engine.Default().Cortex.Mix, n)
	var fresh, invalid, retries, midPri, highPri, claimed, tier0 int
	keys := map[string]bool{}
	agents := map[string]bool{}
	for _, d := range all {
		s := d.sub
		switch d.kind {
		case drawRetry:
			retries++
			if !keys[s.IdempotencyKey] {
				t.Errorf("a retry carries the unseen key %q", s.IdempotencyKey)
			}
			continue
		case drawInvalid:
			invalid++
			if strings.TrimSpace(s.Actor) != "" && s.Priority >= 0 && s.Priority <= 9 {
				t.Errorf("a deliberately invalid submission is valid: %+v", s)
			}
		case drawValid:
			fresh++
			if s.Priority < 0 || s.Priority > 9 || !slices.Contains(Agents, s.Actor) {
				t.Errorf("valid draw with priority %d, actor %q", s.Priority, s.Actor)
			}
			agents[s.Actor] = true
			if s.Priority >= 3 && s.Priority <= 6 {
				midPri++
			}
			if s.Priority >= 8 {
				highPri++
			}
		}
		if s.IdempotencyKey == "" || keys[s.IdempotencyKey] {
			t.Fatalf("idempotency key %q is empty or reused by a fresh submission", s.IdempotencyKey)
		}
		keys[s.IdempotencyKey] = true
		var payload map[string]any
		if err := json.Unmarshal(s.Payload, &payload); err != nil || len(payload) == 0 {
			t.Fatalf("%s payload %s is not a non-empty JSON object: %v", s.Type, s.Payload, err)
		}
		if score, _ := router.Alignment(s.Context); score > 0 {
			claimed++
		}
		for k := range s.Context {
			if p, ok := strings.CutSuffix(k, "_impact"); ok && !slices.Contains([]string{"resilience", "revenue", "autonomy", "learning"}, p) {
				t.Errorf("context claims %s, which is not a charter priority", k)
			}
		}
		if tier, _ := router.Tier(s.Type); tier == 0 {
			tier0++
		}
	}
	share := func(k, of int) float64 { return float64(k) / float64(of) }
	checks := []struct {
		what     string
		got      float64
		min, max float64
	}{
		{"deliberately invalid share", share(invalid, n), 0.015, 0.025},
		{"retry share", share(retries, n), 0.005, 0.015},
		{"priorities 3-6 among valid", share(midPri, fresh), 0.75, 0.95},
		{"priorities 8-9 among valid", share(highPri, fresh), 0.01, 0.10},
		{"share claiming a charter priority", share(claimed, n-retries), 0.40, 0.95},
		{"Tier 0 share", share(tier0, n-retries), 0.002, 0.03},
		{"distinct agents", float64(len(agents)), 4, float64(len(Agents))},
	}
	for _, c := range checks {
		if c.got < c.min || c.got > c.max {
			t.Errorf("%s = %.4f, want %.4f..%.4f", c.what, c.got, c.min, c.max)
		}
	}
}

func TestPayloadsPerType(t *testing.T) {
	t.Parallel()
	wantKeys := map[string][]string{
		"query_knowledge":    {"query", "sources"},
		"generate_summary":   {"document", "audience"},
		"schedule_task":      {"task", "cron"},
		"execute_sandbox":    {"sandbox", "image", "command"},
		"deploy_model":       {"model", "version", "stage"},
		"modify_config":      {"key", "from", "to"},
		"extend_grace":       {"feature"},
		"optimize_system":    {"target", "goal"},
		"self_improve":       {"skill"},
		"change_charter":     {"priority", "from", "to"},
		"grant_permissions":  {"principal", "permission"},
		"modify_governance":  {"change"},
		"emergency_recovery": {"kernel", "playbook"},
		"critical_incident":  {"incident", "severity"},
		"unheard_of_type":    {"request"},
	}
	for typ, keys := range wantKeys {
		for _, d := range draws(t, map[string]float64{typ: 1}, 30) {
			var payload map[string]any
			if err := json.Unmarshal(d.sub.Payload, &payload); err != nil {
				t.Fatalf("%s: %v", typ, err)
			}
			for _, k := range keys {
				if _, ok := payload[k]; !ok {
					t.Errorf("%s payload %s lacks %q", typ, d.sub.Payload, k)
				}
			}
		}
	}
}

func TestEmergenciesAreUrgent(t *testing.T) {
	t.Parallel()
	for _, d := range draws(t, map[string]float64{"critical_incident": 1, "emergency_recovery": 1}, 500) {
		if d.kind == drawValid && d.sub.Priority < 8 {
			t.Errorf("%s at priority %d, want 8 or 9", d.sub.Type, d.sub.Priority)
		}
	}
}
