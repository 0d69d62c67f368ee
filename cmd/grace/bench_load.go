package main

import (
	"fmt"
	"math"
	"runtime"
	"runtime/metrics"
	"time"
)

// schedLatencies is the Go runtime's histogram of how long goroutines
// waited, runnable, for a core: on a machine short of CPU it grows before
// anything else does.
const schedLatencies = "/sched/latencies:seconds"

// loadWatch measures how busy the process was over a stretch of a bench:
// its CPU time and the scheduler's latencies.
type loadWatch struct {
	start time.Time
	cpu   time.Duration
	sched *metrics.Float64Histogram
}

// watchLoad starts a loadWatch.
func watchLoad() loadWatch {
	return loadWatch{start: time.Now(), cpu: processCPU(), sched: readSched()}
}

// readSched returns the scheduler latency histogram so far (nil where the
// runtime does not keep it).
func readSched() *metrics.Float64Histogram {
	s := []metrics.Sample{{Name: schedLatencies}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindFloat64Histogram {
		return nil
	}
	return s[0].Value.Float64Histogram()
}

// note says, for the stretch since w started, how many of the machine's
// cores the process used and the 99th percentile of the scheduler's
// latency: what a latency tail on a shared machine comes from.
func (w loadWatch) note() string {
	wall := time.Since(w.start)
	var note string
	if cpu := processCPU() - w.cpu; cpu > 0 && wall > 0 {
		note = fmt.Sprintf("the process used %.2f of %d cores", cpu.Seconds()/wall.Seconds(), runtime.NumCPU())
	}
	if after := readSched(); w.sched != nil && after != nil {
		if p99, ok := histQuantile(w.sched, after, 0.99); ok {
			if note != "" {
				note += "; "
			}
			note += fmt.Sprintf("scheduler latency p99 %s (runnable goroutines waiting for a core)", fmtLatency(p99))
		}
	}
	return note
}

// withLoad appends load's note to note.
func withLoad(note string, load loadWatch) string {
	if l := load.note(); l != "" {
		return note + "; " + l
	}
	return note
}

// histQuantile returns the q quantile of what after counted since before
// (the upper bound of the bucket it falls in, or the lower bound of an
// unbounded last bucket); false when nothing was counted.
func histQuantile(before, after *metrics.Float64Histogram, q float64) (time.Duration, bool) {
	if len(before.Counts) != len(after.Counts) {
		return 0, false
	}
	var total uint64
	for i := range after.Counts {
		total += after.Counts[i] - before.Counts[i]
	}
	if total == 0 {
		return 0, false
	}
	need := uint64(math.Ceil(q * float64(total)))
	var seen uint64
	for i := range after.Counts {
		seen += after.Counts[i] - before.Counts[i]
		if seen >= need {
			bound := after.Buckets[i+1]
			if math.IsInf(bound, 1) {
				bound = after.Buckets[i]
			}
			return time.Duration(bound * float64(time.Second)), true
		}
	}
	return 0, false
}

// fmtLatency writes d in ms, or µs below a millisecond.
func fmtLatency(d time.Duration) string {
	if d < time.Millisecond {
		return fmt.Sprintf("%d µs", d.Microseconds())
	}
	return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond))
}
