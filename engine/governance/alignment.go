package governance

import (
	"fmt"
	"sort"
	"strings"
)

// impactSuffix is the mission context key suffix that claims a charter
// priority: "revenue_impact": true claims "revenue".
const impactSuffix = "_impact"

// Alignment scores how well a mission context serves the charter. A key
// "<priority>_impact" whose value is the boolean true claims that charter
// priority; the score is the highest weight among the claimed priorities.
// Any other value (false, "yes", 1) claims nothing. A claim of a priority
// the charter does not have is ignored and said so in the reasons. When
// nothing is claimed (including a nil context) the score is 0 and the
// reasons say no charter priority was claimed. Reasons are in a fixed
// order: claims by weight, highest first, then ignored keys by name.
func (r *Router) Alignment(missionContext map[string]any) (score float64, reasons []string) {
	type claim struct {
		name   string
		weight float64
	}
	var claims []claim
	var ignored []string
	for key, val := range missionContext {
		name, ok := strings.CutSuffix(key, impactSuffix)
		if !ok || name == "" {
			continue
		}
		if b, isBool := val.(bool); !isBool || !b {
			continue
		}
		w, inCharter := r.cfg.Charter[name]
		if !inCharter {
			ignored = append(ignored, key)
			continue
		}
		claims = append(claims, claim{name, w})
	}
	sort.Slice(claims, func(i, j int) bool {
		if claims[i].weight != claims[j].weight {
			return claims[i].weight > claims[j].weight
		}
		return claims[i].name < claims[j].name
	})
	sort.Strings(ignored)
	for i, c := range claims {
		if i == 0 {
			score = c.weight
		}
		reasons = append(reasons, fmt.Sprintf("Mission context claims %s (charter weight %.2f)", c.name, c.weight))
	}
	for _, key := range ignored {
		reasons = append(reasons, fmt.Sprintf("Mission context key %s names no charter priority; ignored", key))
	}
	if len(claims) == 0 {
		reasons = append(reasons, "Mission context claims no charter priority: alignment 0")
	}
	return score, reasons
}
