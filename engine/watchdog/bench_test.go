package watchdog

import (
	"context"
	"testing"
	"time"

	"grace/engine/clarity"
	"grace/engine/clock"
)

// discard is a journal and history that keep nothing, so a benchmark
// measures the watchdog alone.
type discard struct{}

func (discard) Record(context.Context, ...clarity.Record) error { return nil }
func (discard) SaveCycle(context.Context, CycleRecord) error    { return nil }
func (discard) Alerts(context.Context, AlertQuery) ([]Alert, error) {
	return nil, nil
}
func (discard) Telemetry(context.Context, TelemetryQuery) ([]Telemetry, error) {
	return nil, nil
}

// seedComponents are the four components over fixed figures, with the
// default thresholds.
func seedComponents(c Config) []Component {
	return []Component{
		HTMCheck(c.HTM, func() HTMFigures {
			return HTMFigures{Accepting: true, QueueDepth: 247, Capacity: 10000, Warn: 1000, Critical: 5000, Workers: 8, Healthy: 8, Busy: 5}
		}),
		MeshCheck(c.Mesh, func() MeshFigures {
			return MeshFigures{Running: true, Topics: 6, Subscriptions: 23, EventRate: 120, QueueDepth: 45, Published: 1e6}
		}),
		PolicyCheck(c.Policy, func() PolicyFigures { return PolicyFigures{Loaded: true, Rules: 8, Fired: 5000} }),
		SchedulerCheck(c.Scheduler, func() SchedulerFigures {
			return SchedulerFigures{Running: true, Waiting: 240, Idle: 0, DispatchRate: 4, Dispatched: 100000}
		}),
	}
}

// BenchmarkCycle is one check at the default interval with the seed's four
// components and both SLOs fed for a full 3-day window at 4 events a
// second: the watchdog's whole cost per interval, I/O aside.
func BenchmarkCycle(b *testing.B) {
	cfg := Default()
	clk := clock.NewFake(epoch)
	lat := NewSLO("dispatch_latency", NameScheduler, "99% within 5s", 0.99, cfg.SLO.Period)
	in := NewSLO("intake_errors", NameHTM, "99.9% accepted", 0.999, cfg.SLO.Period)
	for t := epoch.Add(-72 * time.Hour); t.Before(epoch); t = t.Add(250 * time.Millisecond) {
		lat.Record(t, true)
		in.Record(t, true)
	}
	w, err := New(cfg, seedComponents(cfg), []*SLO{lat, in}, Options{Clock: clk, Journal: discard{}, History: discard{}})
	if err != nil {
		b.Fatal(err)
	}
	w.Boot()
	ctx := context.Background()
	b.ReportAllocs()
	now := clk.Now() // a steady state: the SLO windows stay full
	for b.Loop() {
		w.cycle(ctx, now)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(cfg.Interval.Nanoseconds())*100, "%cpu@15s")
}
