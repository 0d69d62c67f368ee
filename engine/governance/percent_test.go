package governance

import (
	"fmt"
	"math"
	"testing"
)

// TestAlignmentLineReadsAsBefore checks the precomputed reasoning lines
// against the wording decisions have always had, across the whole range,
// its rounding edges and scores outside it.
func TestAlignmentLineReadsAsBefore(t *testing.T) {
	t.Parallel()
	xs := []float64{-0.5, -0.004, 0, 0.004, 0.005, 0.125, 0.5, 0.8, 0.994, 0.995, 1, 1.2}
	for i := 0; i <= 1000; i++ {
		xs = append(xs, float64(i)/1000)
	}
	for _, x := range xs {
		want := fmt.Sprintf("Mission alignment: %d%%", int(math.Round(x*100)))
		if got := alignmentLine(x); got != want {
			t.Fatalf("alignmentLine(%v) = %q, want %q", x, got, want)
		}
	}
}
