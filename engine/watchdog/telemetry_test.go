package watchdog

import (
	"context"
	"encoding/json"
	"reflect"
	"runtime"
	"testing"
	"time"
)

// A snapshot is in the seed's shape: per component the fixed fields and
// the check's figures side by side; and it reads back as it was written.
func TestTelemetryHasTheSeedsShape(t *testing.T) {
	t.Parallel()
	b := setup(t)
	htm := HTMCheck(Default().HTM, func() HTMFigures {
		return HTMFigures{Accepting: true, QueueDepth: 127, Capacity: 10000, Warn: 1000, Critical: 5000, Workers: 8, Healthy: 8}
	})
	w, err := New(testConfig(), []Component{htm}, nil, Options{Clock: b.clock, Publish: func(tel Telemetry) { b.tel <- tel }})
	if err != nil {
		t.Fatal(err)
	}
	w.Boot()
	w.cycle(t.Context(), b.clock.Now())
	tel := <-b.tel
	raw, err := json.Marshal(tel)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Layer      string                    `json:"layer"`
		Components map[string]map[string]any `json:"components"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	c := doc.Components[NameHTM]
	if doc.Layer != "layer2_orchestration" || c["ready"] != true || c["healthy"] != true || c["queue_depth"] != 127.0 ||
		c["worker_count"] != 8.0 || c["slo_breaches"] != 0.0 || c["status"] != "ok" {
		t.Fatalf("snapshot: %s", raw)
	}
	var back Telemetry
	if err := json.Unmarshal(raw, &back); err != nil {
		t.Fatal(err)
	}
	if !back.At.Equal(tel.At) {
		t.Fatalf("time %v, want %v", back.At, tel.At)
	}
	back.At = tel.At
	if !reflect.DeepEqual(back, tel) {
		t.Fatalf("read back:\n%+v\nwant\n%+v", back, tel)
	}
	if len(tel.Issues()) != 0 {
		t.Fatalf("a calm snapshot has issues: %v", tel.Issues())
	}
}

// Run checks on the clock's interval, probes readiness until it resolves,
// and stops, leaving no goroutine, when its context is cancelled.
func TestRunChecksEveryIntervalAndStops(t *testing.T) {
	t.Parallel()
	b := setup(t, "htm", "mesh")
	b.knobs["mesh"].set(false, OK, "")
	b.w.Boot()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	done := make(chan struct{})
	go func() {
		defer close(done)
		b.w.Run(ctx)
	}()
	waitFor(t, ctx, func() bool { return b.clock.Waiters() == 2 }) // the interval ticker and the readiness poll
	b.knobs["mesh"].set(true, OK, "up")
	b.clock.Advance(b.w.cfg.ReadinessPoll)
	waitFor(t, ctx, func() bool { return b.w.Report().Readiness.State != ReadinessWaiting })
	if r := b.w.Report().Readiness; r.State != ReadinessReady {
		t.Fatalf("readiness: %+v", r)
	}
	for i := range 3 {
		b.clock.Advance(b.w.cfg.Interval)
		select {
		case tel := <-b.tel:
			if !tel.Ready {
				t.Fatalf("check %d: not ready", i)
			}
		case <-ctx.Done():
			t.Fatalf("no telemetry after %d checks", i)
		}
	}
	cancel()
	<-done
	if n := b.j.count(WhatReady); n != 1 {
		t.Fatalf("%d readiness records", n)
	}
}

// waitFor yields until cond holds or ctx ends.
func waitFor(t *testing.T, ctx context.Context, cond func() bool) {
	t.Helper()
	for !cond() {
		if ctx.Err() != nil {
			t.Fatal("condition never held")
		}
		runtime.Gosched()
	}
}
