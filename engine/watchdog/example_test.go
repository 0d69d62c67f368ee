package watchdog_test

import (
	"context"
	"fmt"
	"time"

	"grace/engine/clock"
	"grace/engine/watchdog"
)

// A watchdog over one component: the HTM check with figures a test
// controls. Run would check every interval; here the fake clock's ticks
// are driven by hand.
func Example() {
	clk := clock.NewFake(time.Date(2025, 11, 15, 12, 0, 0, 0, time.UTC))
	depth := 120
	htm := watchdog.HTMCheck(watchdog.Default().HTM, func() watchdog.HTMFigures {
		return watchdog.HTMFigures{Accepting: true, QueueDepth: depth, Capacity: 10000, Warn: 1000, Critical: 5000, Workers: 8, Healthy: 8}
	})
	checked := make(chan watchdog.Telemetry)
	w, err := watchdog.New(watchdog.Default(), []watchdog.Component{htm}, nil, watchdog.Options{
		Clock:   clk,
		Publish: func(t watchdog.Telemetry) { checked <- t },
		OnAlert: func(a watchdog.Alert, ch watchdog.Change) {
			why := a.Summary
			if ch == watchdog.Resolved {
				why = a.Resolution
			}
			fmt.Printf("%s %s %s (seen %d×): %s\n", ch, a.Severity, a.Key, a.Count, why)
		},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	w.Boot()
	fmt.Println("ready:", w.Report().Ready)

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); w.Run(ctx) }()
	check := func(d int) {
		depth = d
		clk.Advance(watchdog.Default().Interval)
		<-checked
	}
	check(1200)
	check(1300)
	check(5100)
	check(40)
	cancel()
	<-done
	// Output:
	// ready: true
	// raised warn htm_orchestrator/queue_depth (seen 1×): Queue depth 1200/1000 (above warning threshold)
	// escalated critical htm_orchestrator/queue_depth (seen 3×): Queue depth 5100/5000 (critical)
	// resolved critical htm_orchestrator/queue_depth (seen 3×): Cleared: Queue depth 40/1000 (within limits)
}
