package engine

import (
	"context"
	"slices"
	"testing"
	"time"

	"grace/engine/clock"
	"grace/engine/enginetest"
	"grace/engine/intent"
)

// benchHeartbeat is the heartbeat interval of the failover benchmarks.
const benchHeartbeat = 50 * time.Millisecond

// benchmarkFailover starts an engine on the real clock whose first
// attempts hang until cancelled, and b.N times submits an intent, breaks
// the worker running it with fault, and measures until the task is running
// on another worker. It reports the median and the worst in milliseconds
// and in heartbeat intervals.
func benchmarkFailover(b *testing.B, fault, after func(e *Engine, worker string) error) {
	cfg := testConfig()
	cfg.Workers.Count, cfg.Workers.MaxCount = 4, 4
	cfg.Workers.HeartbeatInterval = benchHeartbeat
	st := enginetest.NewStore(1024)
	defer st.Close()
	run := newRunTracker(firstAttemptHeld)
	handlers := newTestHandlers()
	handlers.set("schedule_task", run.handle)
	e, err := New(cfg, Deps{Store: st, Clock: clock.Real{}, Handlers: handlers})
	if err != nil {
		b.Fatal(err)
	}
	if err := e.Start(context.Background()); err != nil {
		b.Fatal(err)
	}
	defer e.Stop()
	next := func() intent.Intent {
		select {
		case in := <-run.started:
			return in
		case <-time.After(waitLimit):
			b.Fatal("no attempt started")
			return intent.Intent{}
		}
	}
	took := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for range b.N {
		if _, err := e.Submit(context.Background(), intent.Submission{Type: "schedule_task", Actor: "bench"}); err != nil {
			b.Fatal(err)
		}
		first := next()
		start := time.Now()
		if err := fault(e, first.Worker); err != nil {
			b.Fatal(err)
		}
		second := next()
		took = append(took, time.Since(start))
		if second.ID != first.ID || second.Worker == first.Worker {
			b.Fatalf("attempt %d of %s on %s after %s", second.Attempts, second.ID, second.Worker, first.Worker)
		}
		if after != nil {
			if err := after(e, first.Worker); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.StopTimer()
	slices.Sort(took)
	median, worst := took[len(took)/2], took[len(took)-1]
	b.ReportMetric(float64(median.Microseconds())/1000, "median-ms")
	b.ReportMetric(float64(median)/float64(benchHeartbeat), "median-heartbeats")
	b.ReportMetric(float64(worst)/float64(benchHeartbeat), "worst-heartbeats")
	if run.mostAtOnce() != 1 {
		b.Fatalf("%d attempts of one intent ran at once", run.mostAtOnce())
	}
}

// BenchmarkKilledWorkerFailover is the figure "a worker killed mid-task:
// its task is running elsewhere within 2 heartbeat intervals":
//
//	go test -run '^$' -bench KilledWorkerFailover -benchtime 200x ./engine/
func BenchmarkKilledWorkerFailover(b *testing.B) {
	benchmarkFailover(b, func(e *Engine, w string) error { return e.KillWorker(context.Background(), w, "bench") }, nil)
}

// BenchmarkHungWorkerFailover measures the same for a worker that hangs
// mid-task, found by its missed heartbeats (workers.heartbeat_misses 3):
//
//	go test -run '^$' -bench HungWorkerFailover -benchtime 50x ./engine/
func BenchmarkHungWorkerFailover(b *testing.B) {
	benchmarkFailover(b,
		func(e *Engine, w string) error { return e.HangWorker(context.Background(), w, "bench") },
		// Released once its task runs elsewhere, so that the zombie stops:
		// its late result is fenced off.
		func(e *Engine, w string) error { return e.ReleaseWorker(context.Background(), w) })
}
