package watchdog

import (
	"slices"
	"testing"
	"time"
)

func TestHistogramCountsIntoCumulativeBuckets(t *testing.T) {
	t.Parallel()
	h := NewHistogram([]float64{0.01, 0.1, 1})
	for _, d := range []time.Duration{-time.Second, 5 * time.Millisecond, 10 * time.Millisecond, 50 * time.Millisecond, 2 * time.Second} {
		h.Observe(d)
	}
	s := h.Snapshot()
	if !slices.Equal(s.Cumulative, []uint64{3, 4, 4}) || s.Count != 5 {
		t.Fatalf("buckets %v, count %d", s.Cumulative, s.Count)
	}
	if want := 2.065; s.Sum < want-1e-9 || s.Sum > want+1e-9 {
		t.Fatalf("sum %v, want %v", s.Sum, want)
	}
}

// Observing is cheap enough for the engine's hot paths.
func BenchmarkHistogramObserve(b *testing.B) {
	h := NewHistogram(LatencyBuckets)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		h.Observe(time.Duration(i%5000) * time.Millisecond)
	}
}
