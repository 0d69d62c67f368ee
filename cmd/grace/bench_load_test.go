package main

import (
	"math"
	"runtime/metrics"
	"strings"
	"testing"
	"time"
)

// TestHistQuantile: the quantile of what a histogram counted between two
// reads is the upper bound of its bucket; an unbounded last bucket gives
// its lower bound, and nothing counted gives no figure.
func TestHistQuantile(t *testing.T) {
	buckets := []float64{0, 0.001, 0.002, 0.004, math.Inf(1)}
	before := &metrics.Float64Histogram{Counts: []uint64{5, 5, 5, 5}, Buckets: buckets}
	for _, c := range []struct {
		counts []uint64
		q      float64
		want   time.Duration
		ok     bool
	}{
		{[]uint64{95, 9, 5, 5}, 0.99, 2 * time.Millisecond, true},   // 90+4: the 99th of 94 is in the second bucket
		{[]uint64{95, 9, 5, 5}, 0.5, time.Millisecond, true},        // the median is in the first
		{[]uint64{5, 5, 5, 105}, 0.99, 4 * time.Millisecond, true},  // beyond the last bound: its lower bound
		{[]uint64{5, 5, 5, 5}, 0.99, 0, false},                      // nothing counted since
		{[]uint64{5, 5, 105, 5}, 0.999, 4 * time.Millisecond, true}, // all in the third bucket
	} {
		after := &metrics.Float64Histogram{Counts: c.counts, Buckets: buckets}
		got, ok := histQuantile(before, after, c.q)
		if got != c.want || ok != c.ok {
			t.Errorf("counts %v q %v: got %v %v, want %v %v", c.counts, c.q, got, ok, c.want, c.ok)
		}
	}
}

// TestLoadNoteSaysHowBusyTheProcessWas: a stretch that burned CPU says how
// many cores it used and the scheduler's latency.
func TestLoadNoteSaysHowBusyTheProcessWas(t *testing.T) {
	w := watchLoad()
	// Two goroutines handing a token back and forth: CPU, and goroutines
	// made runnable thousands of times.
	ping, pong := make(chan int), make(chan int)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for v := range ping {
			pong <- v + 1
		}
	}()
	for start, v := time.Now(), 0; time.Since(start) < 50*time.Millisecond; {
		ping <- v
		v = <-pong
	}
	close(ping)
	<-done
	note := w.note()
	if processCPU() > 0 && !strings.Contains(note, " cores") {
		t.Errorf("note %q does not say how many cores the process used", note)
	}
	if !strings.Contains(note, "scheduler latency p99") {
		t.Errorf("note %q does not give the scheduler latency", note)
	}
}
