package cortex

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
)

// mix draws intent types in proportion to their weights.
type mix struct {
	types []string  // sorted, positive weights only
	cum   []float64 // cumulative weights
	total float64
}

// newMix checks the cortex.mix weights and builds the picker. Weights must
// be finite and non-negative; types with weight zero are never drawn; at
// least one weight must be positive.
func newMix(weights map[string]float64) (*mix, error) {
	names := make([]string, 0, len(weights))
	for typ := range weights {
		names = append(names, typ)
	}
	sort.Strings(names)
	m := &mix{}
	for _, typ := range names {
		w := weights[typ]
		if math.IsNaN(w) || math.IsInf(w, 0) || w < 0 {
			return nil, fmt.Errorf("cortex.mix.%s (%v) must be a weight of zero or more", typ, w)
		}
		if w == 0 {
			continue
		}
		m.total += w
		m.types = append(m.types, typ)
		m.cum = append(m.cum, m.total)
	}
	if m.total == 0 {
		return nil, fmt.Errorf("cortex.mix must give some intent type a positive weight")
	}
	return m, nil
}

// draw returns a type chosen with probability weight/total.
func (m *mix) draw(r *rand.Rand) string {
	x := r.Float64() * m.total
	i := sort.SearchFloat64s(m.cum, x)
	// SearchFloat64s finds the first cum >= x; a draw equal to a boundary
	// belongs to the next type.
	for i < len(m.cum)-1 && m.cum[i] <= x {
		i++
	}
	if i >= len(m.types) {
		i = len(m.types) - 1
	}
	return m.types[i]
}
