package watchdog

import (
	"context"
	"slices"
	"testing"
	"time"

	"grace/engine/clock"
)

// Each of the seed's four components, driven by its real check from calm
// to its warning level, held there, to its critical level, and back: one
// alert, raised once, escalated once, resolved once, each on the record.
func TestEachComponentRaisesEscalatesAndResolves(t *testing.T) {
	t.Parallel()
	th := Default()
	for _, tc := range []struct {
		name      string
		condition string
		build     func(warn, crit *bool) Component
	}{
		{NameHTM, "queue_depth", func(warn, crit *bool) Component {
			return HTMCheck(th.HTM, func() HTMFigures {
				f := HTMFigures{Accepting: true, QueueDepth: 10, Capacity: 10000, Warn: 1000, Critical: 5000, Workers: 8, Healthy: 8}
				switch {
				case *crit:
					f.QueueDepth = 6000
				case *warn:
					f.QueueDepth = 1500
				}
				return f
			})
		}},
		{NameMesh, "backpressure", func(warn, crit *bool) Component {
			var dropped uint64
			return MeshCheck(th.Mesh, func() MeshFigures {
				switch { // drops per 15 s interval: 30 is 2/s (warn), 3000 is 200/s (critical)
				case *crit:
					dropped += 3000
				case *warn:
					dropped += 30
				}
				return MeshFigures{Running: true, Topics: 3, Subscriptions: 8, Dropped: dropped}
			})
		}},
		{NamePolicy, "cascades", func(warn, crit *bool) Component {
			var cut uint64
			return PolicyCheck(th.Policy, func() PolicyFigures {
				switch {
				case *crit:
					cut += 80
				case *warn:
					cut += 2
				}
				return PolicyFigures{Loaded: true, Rules: 4, CascadesCut: cut}
			})
		}},
		{NameScheduler, "paused", func(warn, crit *bool) Component {
			return SchedulerCheck(th.Scheduler, func() SchedulerFigures {
				f := SchedulerFigures{Running: true, DispatchRate: 5}
				switch {
				case *crit:
					f.Paused, f.PausedSince, f.Waiting = true, epoch.Add(-time.Hour), 10
				case *warn:
					f.Paused, f.PausedSince = true, epoch
				}
				return f
			})
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var warn, crit bool
			clk := clock.NewFake(epoch)
			j := &journal{}
			w, err := New(th, []Component{tc.build(&warn, &crit)}, nil, Options{Clock: clk, Journal: j})
			if err != nil {
				t.Fatal(err)
			}
			w.Boot()
			key := tc.name + "/" + tc.condition
			check := func(want Status) {
				t.Helper()
				clk.Advance(th.Interval)
				w.cycle(context.Background(), clk.Now())
				rep := w.Report()
				c, _ := rep.Component(tc.name)
				firing := slices.IndexFunc(rep.Alerts, func(a Alert) bool { return a.Key == key })
				switch {
				case c.Status != want:
					t.Fatalf("status %s, want %s: %s", c.Status, want, c.Reason)
				case want == OK && firing >= 0, want != OK && (firing < 0 || rep.Alerts[firing].Severity != want):
					t.Fatalf("alerts with %s: %+v", want, rep.Alerts)
				}
			}
			check(OK)
			warn = true
			check(Warn)
			check(Warn)
			crit = true
			check(Critical)
			check(Critical)
			warn, crit = false, false
			check(OK)
			check(OK)
			var got []string
			for _, r := range j.recs {
				if r.Context["key"] == key {
					got = append(got, r.What)
				}
			}
			if want := []string{WhatAlertRaised, WhatAlertEscalated, WhatAlertResolved}; !slices.Equal(got, want) {
				t.Fatalf("records of %s: %v, want %v", key, got, want)
			}
			if c, _ := w.Report().Component(tc.name); c.SLOBreaches != 4 {
				t.Fatalf("%d SLO breaches, want 4", c.SLOBreaches)
			}
		})
	}
}
