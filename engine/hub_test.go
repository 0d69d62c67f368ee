package engine

import (
	"slices"
	"strings"
	"testing"
	"time"

	"grace/engine/clarity"
	"grace/engine/intent"
)

// hubTick advances the clock by one hub interval in heartbeat steps.
func (b *testBundle) hubTick(t *testing.T) {
	t.Helper()
	b.advance(t, b.e.cfg.Hub.Interval)
}

// hubTicksUntil gives the hub at least min intervals, then more (up to 60
// in all) until cond holds: the hub reads the clock through a ticker, which
// drops a tick while the hub is still busy with the last one.
func (b *testBundle) hubTicksUntil(t *testing.T, what string, min int, cond func() bool) {
	t.Helper()
	for i := 0; i < 60; i++ {
		b.hubTick(t)
		if i+1 >= min && cond() {
			return
		}
	}
	eventually(t, what, cond)
}

func troubleIs(kind string) func(clarity.Record) bool {
	return func(r clarity.Record) bool { return r.Context["trouble"] == kind }
}

func TestHubCorrelatesLayer2TroubleWithALayer1Fault(t *testing.T) {
	t.Parallel()
	b := setup(t, func(c *Config) { c.Scheduler.AutoResumeAfter = time.Hour })
	b.start(t)
	b.e.ReportLayer1Fault("scheduler_kernel", "missed heartbeats")
	if err := b.e.InjectSchedulerPause(t.Context(), "kernel down"); err != nil {
		t.Fatal(err)
	}
	b.submit(t, intent.Submission{Type: "query_knowledge"})
	b.hubTick(t)
	r := b.waitRecord(t, WhatTroubleCorrelated, troubleIs(troublePaused))
	why := strings.Join(r.Why, " | ")
	if r.Who != actorHub || r.Context["kernel"] != "scheduler_kernel" ||
		!strings.Contains(why, "because kernel scheduler_kernel stopped") || !strings.Contains(why, "missed heartbeats") {
		t.Fatalf("correlation record = %+v", r)
	}
	if got := b.e.Snapshot().Layer2.HubTroubles; !slices.Contains(got, troublePaused) {
		t.Fatalf("hub troubles = %v", got)
	}
	if err := b.e.ResumeScheduler(t.Context(), "alice", "kernel is back"); err != nil {
		t.Fatal(err)
	}
	b.hubTick(t)
	c := b.waitRecord(t, WhatTroubleCleared, troubleIs(troublePaused))
	if c.Context["kernel"] != "scheduler_kernel" {
		t.Fatalf("cleared record = %+v", c)
	}
	checkRecords(t, b.store.Records())
}

func TestHubAttributesTroubleToLayer2WithoutALayer1Fault(t *testing.T) {
	t.Parallel()
	// The fake clock runs two minutes of kernel heartbeats through the mesh
	// faster than its subscribers drain them; the watchdog would rightly
	// call those drops mesh trouble within the fault's window. This test is
	// about the hub, so the watchdog tolerates them.
	b := setup(t, func(c *Config) {
		c.Watchdog.Mesh.DropRateWarn, c.Watchdog.Mesh.DropRateCritical = 1e9, 2e9
		// A short window keeps the fake clock's jump small, so no kernel
		// misses a heartbeat check while the test races time ahead.
		c.Hub.CorrelationWindow = 3 * time.Second
	})
	b.start(t)
	b.e.ReportLayer1Fault("old_kernel", "panic") // long before: outside the window
	b.advance(t, b.e.cfg.Hub.CorrelationWindow+time.Second)
	b.e.ReportHealth(HealthFact{Component: "edge_gateway", Healthy: false, Detail: "3 subscriptions, minimum 5"})
	r := b.waitRecord(t, WhatTroubleObserved, troubleIs("component:edge_gateway"))
	if !strings.Contains(r.Why[0], "3 subscriptions, minimum 5") || !strings.Contains(r.Why[1], "cause lies in Layer 2") {
		t.Fatalf("record = %+v", r)
	}
	if n := b.store.Count(WhatTroubleCorrelated); n != 0 {
		t.Fatalf("%d correlations with a fault outside the window", n)
	}
	// A fault reported now correlates the trouble already under way.
	b.e.ReportLayer1Fault("bus_kernel", "dependency failure: bus")
	c := b.waitRecord(t, WhatTroubleCorrelated, troubleIs("component:edge_gateway"))
	if c.Context["kernel"] != "bus_kernel" || !strings.Contains(strings.Join(c.Why, " "), "edge_gateway turned unhealthy because kernel bus_kernel stopped") {
		t.Fatalf("late correlation = %+v", c)
	}
	b.e.ReportHealth(HealthFact{Component: "edge_gateway", Healthy: true})
	b.waitRecord(t, WhatTroubleCleared, troubleIs("component:edge_gateway"))
}

func TestHubScalesThePoolWithTheQueue(t *testing.T) {
	t.Parallel()
	b := setup(t, func(c *Config) {
		c.Workers.MaxCount = 5
		c.Scheduler.AutoResumeAfter = time.Hour
		c.Hub.Scaling = ScalingConfig{Enabled: true, Sustain: 10 * time.Second, Step: 2, Cooldown: 10 * time.Second}
	})
	b.start(t)
	if err := b.e.PauseScheduler(t.Context(), "alice", "build a backlog"); err != nil {
		t.Fatal(err)
	}
	for range 12 { // warn depth is 10
		b.submit(t, intent.Submission{Type: "query_knowledge"})
	}
	// 15 s at the warn depth passes the 10 s sustain. The hub may miss a
	// tick while busy (tickers drop ticks), so tick until it has decided.
	b.hubTicksUntil(t, "a scaling decision", 3, func() bool { return b.store.Count(WhatWorkersScaled) > 0 })
	up := b.waitRecord(t, WhatWorkersScaled, nil)
	if up.Result != "scaled_up" || up.Context["from"] != 2 || up.Context["to"] != 4 || up.Who != actorHub {
		t.Fatalf("scale up = %+v", up)
	}
	b.waitRecord(t, WhatWorkersStarted, nil)
	eventually(t, "4 workers", func() bool { return len(liveNames(b.e.Snapshot())) == 4 })
	// Still backed up, and the cooldown has passed: up to the bound.
	b.hubTicksUntil(t, "the max of 5 workers", 3, func() bool { return b.e.Snapshot().Layer2.PoolTarget == 5 })
	if err := b.e.ResumeScheduler(t.Context(), "alice", "drain"); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the queue to drain", func() bool { return b.e.Snapshot().Completed == 12 })
	b.hubTicksUntil(t, "the pool back at workers.count", 6, func() bool { return b.e.Snapshot().Layer2.PoolTarget == 2 })
	b.waitRecord(t, WhatWorkersRetired, nil)
	eventually(t, "2 workers", func() bool { return len(b.e.Snapshot().Workers) == 2 })
	s := b.e.Snapshot().Layer2
	if s.PoolMin != 2 || s.PoolMax != 5 {
		t.Fatalf("bounds = %d..%d", s.PoolMin, s.PoolMax)
	}
	checkRecords(t, b.store.Records())
}
