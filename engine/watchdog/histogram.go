package watchdog

import (
	"sync/atomic"
	"time"
)

// LatencyBuckets are the upper bounds, in seconds, of the latency
// histograms: 1 ms to 60 s.
var LatencyBuckets = []float64{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60}

// Histogram counts durations into fixed buckets. Observe is safe for
// concurrent use and lock-free, for the engine's hot paths.
type Histogram struct {
	bounds []float64
	counts []atomic.Uint64 // counts[i]: observations ≤ bounds[i] and > bounds[i-1]; the last is +Inf
	sumNS  atomic.Int64
	n      atomic.Uint64
}

// NewHistogram returns a histogram with the given bucket upper bounds in
// seconds, which must be increasing.
func NewHistogram(bounds []float64) *Histogram {
	return &Histogram{bounds: bounds, counts: make([]atomic.Uint64, len(bounds)+1)}
}

// Observe counts one duration; a negative one counts as zero.
func (h *Histogram) Observe(d time.Duration) {
	d = max(d, 0)
	s := d.Seconds()
	i := 0
	for i < len(h.bounds) && s > h.bounds[i] {
		i++
	}
	h.counts[i].Add(1)
	h.sumNS.Add(int64(d))
	h.n.Add(1)
}

// HistogramSnapshot is a histogram's figures at one moment.
type HistogramSnapshot struct {
	// Bounds are the buckets' upper bounds in seconds; Cumulative[i]
	// counts the observations at or below Bounds[i].
	Bounds     []float64 `json:"bounds"`
	Cumulative []uint64  `json:"cumulative"`
	// Count and Sum (seconds) cover every observation, +Inf included.
	Count uint64  `json:"count"`
	Sum   float64 `json:"sum"`
}

// Snapshot reads the histogram. Concurrent observations may be half
// counted (in a bucket, not yet in Count); Count is then raised to the
// bucket total, so the snapshot is always consistent.
func (h *Histogram) Snapshot() HistogramSnapshot {
	s := HistogramSnapshot{Bounds: h.bounds, Cumulative: make([]uint64, len(h.bounds))}
	var run uint64
	for i := range h.bounds {
		run += h.counts[i].Load()
		s.Cumulative[i] = run
	}
	run += h.counts[len(h.bounds)].Load()
	s.Count = max(h.n.Load(), run)
	s.Sum = time.Duration(h.sumNS.Load()).Seconds()
	return s
}
