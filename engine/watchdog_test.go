package engine

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"grace/engine/clock"
	"grace/engine/enginetest"
	"grace/engine/intent"
	"grace/engine/watchdog"
)

// gate blocks the handlers of an intent type until opened.
type gate struct {
	once sync.Once
	ch   chan struct{}
}

func newGate(b *testBundle, typ string) *gate {
	g := &gate{ch: make(chan struct{})}
	b.handlers.set(typ, func(ctx context.Context, _ intent.Intent) error {
		select {
		case <-g.ch:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	})
	return g
}

func (g *gate) open() { g.once.Do(func() { close(g.ch) }) }

// check advances the clock by one watchdog interval and waits for the
// check's telemetry event, and for the workers to answer the heartbeat
// round the jump set off (a busy machine could otherwise leave three
// checks' rounds unanswered, and a healthy worker would look dead); it
// returns the watchdog's report.
func (b *testBundle) check(t *testing.T) HealthReport {
	t.Helper()
	round := b.e.super.round.Load()
	b.clock.Advance(b.e.cfg.Watchdog.Interval)
	at := b.clock.Now()
	limit := time.After(waitLimit)
	for {
		select {
		case ev, ok := <-b.events:
			if !ok {
				t.Fatal("event stream closed while waiting for a check")
			}
			b.seen = append(b.seen, ev)
			if ev.Kind == EventTelemetry && ev.Telemetry.At.Equal(at) {
				rep := b.e.Health()
				b.answered(t, round)
				return rep
			}
		case <-limit:
			t.Fatalf("no check at %v within %v", at, waitLimit)
		}
	}
}

// alert returns the firing alert of key, or fails.
func alertOf(t *testing.T, rep HealthReport, key string) watchdog.Alert {
	t.Helper()
	for _, a := range rep.Alerts {
		if a.Key == key {
			return a
		}
	}
	t.Fatalf("no alert %s firing; firing: %+v", key, rep.Alerts)
	return watchdog.Alert{}
}

func firing(rep HealthReport, key string) bool {
	for _, a := range rep.Alerts {
		if a.Key == key {
			return true
		}
	}
	return false
}

// recordsAbout returns the watchdog records of one alert key.
func (b *testBundle) recordsAbout(key string) []string {
	var out []string
	for _, r := range b.store.Records() {
		if r.Who == watchdog.Actor && r.Context["key"] == key {
			out = append(out, r.What)
		}
	}
	return out
}

// The HTM queue driven past its warn and then its critical depth: one
// alert, raised once, escalated, and resolved when the queue drains, each
// step a 5W1H record; telemetry and Snapshot show it all along.
func TestWatchdogHTMDepthAlert(t *testing.T) {
	t.Parallel()
	b := setup(t, func(c *Config) { c.Hub.Scaling.Enabled = false }) // two workers throughout
	g := newGate(b, "query_knowledge")
	defer g.open()
	b.start(t)
	if s := b.e.Snapshot(); !s.Ready || s.Health.Readiness.State != watchdog.ReadinessReady || len(s.Health.Components) != 4 {
		t.Fatalf("after start: ready %v, health %+v", s.Ready, s.Health)
	}
	if rep := b.check(t); rep.Status != watchdog.OK || len(rep.Alerts) != 0 {
		t.Fatalf("idle engine: %+v", rep)
	}

	for range 2 { // two run
		in := b.submit(t, intent.Submission{Type: "query_knowledge"})
		b.waitState(t, in.ID, intent.StateRunning)
	}
	for range 12 { // twelve wait: past the warn depth of 10
		b.submit(t, intent.Submission{Type: "query_knowledge"})
	}
	rep := b.check(t)
	a := alertOf(t, rep, "htm_orchestrator/queue_depth")
	if a.Severity != watchdog.Warn || !strings.Contains(a.Summary, "12/10") {
		t.Fatalf("warn: %+v", a)
	}
	b.check(t)
	for range 40 { // 52 waiting: past the critical depth of 50
		b.submit(t, intent.Submission{Type: "query_knowledge"})
	}
	rep = b.check(t)
	if c := alertOf(t, rep, "htm_orchestrator/queue_depth"); c.ID != a.ID || c.Severity != watchdog.Critical || c.Count != 3 {
		t.Fatalf("escalated: %+v", c)
	}
	snap := b.e.Snapshot()
	if c, _ := snap.Health.Component(watchdog.NameHTM); c.Status != watchdog.Critical || c.SLOBreaches != 3 || c.Metrics["queue_depth"] != 52 {
		t.Fatalf("snapshot's HTM: %+v", c)
	}
	if tel, ok := b.e.LatestTelemetry(); !ok || tel.Components[watchdog.NameHTM].Metrics["queue_depth"] != 52 || tel.Healthy {
		t.Fatalf("telemetry: %+v", tel)
	}

	g.open()
	for n := 0; n < 54; {
		if ev := <-b.events; ev.Intent.State == intent.StateCompleted {
			n++
		}
	}
	rep = b.check(t)
	if firing(rep, "htm_orchestrator/queue_depth") {
		t.Fatalf("still firing after the queue drained: %+v", rep.Alerts)
	}
	want := []string{watchdog.WhatAlertRaised, watchdog.WhatAlertEscalated, watchdog.WhatAlertResolved}
	if got := b.recordsAbout("htm_orchestrator/queue_depth"); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("records of the alert: %v, want %v", got, want)
	}
	checkRecords(t, b.store.Records())
	if b.store.Count(watchdog.WhatTelemetryIssue) < 3 {
		t.Fatalf("%d telemetry issue records for three troubled checks", b.store.Count(watchdog.WhatTelemetryIssue))
	}
	// Work waited past 5 s of fake time: the dispatch-latency SLO saw it.
	if st := rep.SLOs[0]; st.Name != "dispatch_latency" || st.Bad == 0 {
		t.Fatalf("dispatch latency SLO: %+v", st)
	}
	m := b.e.Metrics()
	if m.DispatchLatency.Count != 54 || m.TaskDuration.Count != 54 {
		t.Fatalf("histograms: %d dispatches, %d runs", m.DispatchLatency.Count, m.TaskDuration.Count)
	}
}

// A paused intent type is a warning naming it, critical once it holds work
// past watchdog.scheduler.max_pause, and resolved by its resume; the
// intents it holds are not work the scheduler fails to dispatch: idle
// workers beside them are no stall and no slow dispatch rate.
func TestWatchdogTypePauseAlert(t *testing.T) {
	t.Parallel()
	b := setup(t, func(c *Config) {
		c.Safeguards["scheduler_auto_resume"] = SafeguardConfig{Enabled: false}
		c.Watchdog.Scheduler.MaxPause = 40 * time.Second
		c.Watchdog.Scheduler.StallAfter = 20 * time.Second
	})
	b.start(t)
	if err := b.e.PauseType(t.Context(), "ops", "generate_summary", "model rollout"); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		b.submit(t, intent.Submission{Type: "generate_summary"})
	}
	rep := b.check(t)
	a := alertOf(t, rep, "scheduler/types_paused")
	if a.Severity != watchdog.Warn || !strings.Contains(a.Summary, "generate_summary since") || !strings.Contains(a.Summary, "ops: model rollout), 3 waiting") {
		t.Fatalf("type paused: %+v", a)
	}
	b.check(t)
	rep = b.check(t) // 45 s into the pause, past stall_after with two idle workers
	if c := alertOf(t, rep, "scheduler/types_paused"); c.ID != a.ID || c.Severity != watchdog.Critical {
		t.Fatalf("long type pause: %+v", c)
	}
	for _, key := range []string{"scheduler/stalled", "scheduler/dispatch_rate"} {
		if firing(rep, key) {
			t.Fatalf("%s fires for intents a type pause holds: %+v", key, rep.Alerts)
		}
	}
	if err := b.e.ResumeType(t.Context(), "ops", "generate_summary", "done"); err != nil {
		t.Fatal(err)
	}
	rep = b.check(t)
	if firing(rep, "scheduler/types_paused") {
		t.Fatalf("still firing after the resume: %+v", rep.Alerts)
	}
}

// A paused scheduler is a warning, critical once the pause outlasts
// watchdog.scheduler.max_pause with work waiting, and resolved by a resume.
func TestWatchdogSchedulerPauseAlert(t *testing.T) {
	t.Parallel()
	b := setup(t, func(c *Config) {
		c.Safeguards["scheduler_auto_resume"] = SafeguardConfig{Enabled: false}
		c.Watchdog.Scheduler.MaxPause = 40 * time.Second
	})
	b.start(t)
	if err := b.e.PauseScheduler(t.Context(), "ops", "maintenance"); err != nil {
		t.Fatal(err)
	}
	b.submit(t, intent.Submission{Type: "query_knowledge"})
	rep := b.check(t)
	a := alertOf(t, rep, "scheduler/paused")
	if a.Severity != watchdog.Warn || !strings.Contains(a.Summary, "ops: maintenance") {
		t.Fatalf("paused: %+v", a)
	}
	b.check(t)
	rep = b.check(t) // 45 s into the pause
	if c := alertOf(t, rep, "scheduler/paused"); c.ID != a.ID || c.Severity != watchdog.Critical {
		t.Fatalf("long pause: %+v", c)
	}
	if err := b.e.ResumeScheduler(t.Context(), "ops", "done"); err != nil {
		t.Fatal(err)
	}
	rep = b.check(t)
	if firing(rep, "scheduler/paused") {
		t.Fatalf("still firing after resume: %+v", rep.Alerts)
	}
	want := []string{watchdog.WhatAlertRaised, watchdog.WhatAlertEscalated, watchdog.WhatAlertResolved}
	if got := b.recordsAbout("scheduler/paused"); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("records: %v", got)
	}
}

// Submissions refused for a full queue are intake errors: the HTM's
// overflow alert fires at once, and so does the intake-error burn-rate
// alert, critical (a page) for a burn this fast.
func TestWatchdogIntakeErrorBurn(t *testing.T) {
	t.Parallel()
	b := setup(t, func(c *Config) {
		c.HTM.Capacity, c.HTM.CriticalDepth, c.HTM.WarnDepth = 4, 4, 2
		c.Hub.Scaling.Enabled = false
	})
	g := newGate(b, "query_knowledge")
	defer g.open()
	b.start(t)
	for range 2 { // two run
		in := b.submit(t, intent.Submission{Type: "query_knowledge"})
		b.waitState(t, in.ID, intent.StateRunning)
	}
	for range 4 { // four fill the queue
		b.submit(t, intent.Submission{Type: "query_knowledge"})
	}
	for range 3 {
		_, err := b.e.Submit(t.Context(), intent.Submission{Type: "query_knowledge", Actor: "agent.x"})
		if !errors.Is(err, ErrQueueFull) {
			t.Fatalf("want a full queue, got %v", err)
		}
	}
	b.submit(t, intent.Submission{Type: "no_such_type"}) // Tier 0: pending, not queued, accepted
	if _, err := b.e.Submit(t.Context(), intent.Submission{Actor: "agent.x"}); err == nil {
		t.Fatal("an invalid submission was accepted")
	}
	rep := b.check(t)
	if a := alertOf(t, rep, "htm_orchestrator/queue_overflow"); a.Severity != watchdog.Critical || !strings.Contains(a.Summary, "3 submissions refused") {
		t.Fatalf("overflow: %+v", a)
	}
	slo := rep.SLOs[1]
	if slo.Name != "intake_errors" || slo.Good != 7 || slo.Bad != 3 || slo.Status != watchdog.Critical {
		t.Fatalf("intake SLO (invalid input not counted): %+v", slo)
	}
	if a := alertOf(t, rep, "htm_orchestrator/slo_intake_errors"); a.Severity != watchdog.Critical {
		t.Fatalf("burn-rate alert: %+v", a)
	}
	if r := recordOf(t, b.store.Records(), watchdog.WhatAlertRaised); r.How == "" || r.Who != watchdog.Actor {
		t.Fatalf("record: %+v", r)
	}
}

// A component that never becomes ready keeps the engine not ready; when
// the readiness timeout passes it is named, on the record and in a
// critical alert.
func TestWatchdogNamesAComponentThatNeverStarts(t *testing.T) {
	t.Parallel()
	stuck := watchdog.Component{Name: "kernel_bus", Check: func(time.Time) watchdog.Result {
		return watchdog.Result{Ready: false, NotReadyReason: "bus never connected"}
	}}
	b := setupWith(t, Deps{Components: []watchdog.Component{stuck}})
	b.start(t)
	s := b.e.Snapshot()
	if s.Ready || s.Health.Readiness.State != watchdog.ReadinessWaiting {
		t.Fatalf("with a component not ready: ready %v, readiness %+v", s.Ready, s.Health.Readiness)
	}
	b.check(t)
	rep := b.check(t) // 30 s: the readiness timeout
	if rep.Readiness.State != watchdog.ReadinessTimedOut || len(rep.Readiness.NotReady) != 1 || rep.Readiness.NotReady[0].Component != "kernel_bus" {
		t.Fatalf("readiness: %+v", rep.Readiness)
	}
	if a := alertOf(t, rep, "kernel_bus/readiness"); a.Severity != watchdog.Critical || !strings.Contains(a.Summary, "bus never connected") {
		t.Fatalf("alert: %+v", a)
	}
	r := recordOf(t, b.store.Records(), watchdog.WhatReadinessTimedOut)
	if !strings.Contains(r.Why[0], "kernel_bus") || strings.Contains(r.Why[0], watchdog.NameHTM) {
		t.Fatalf("record names %q", r.Why[0])
	}
	if b.e.Snapshot().Ready {
		t.Fatal("ready with a component that never started")
	}
}

func TestNewRefusesAComponentNamedTwice(t *testing.T) {
	t.Parallel()
	c := watchdog.Component{Name: watchdog.NameHTM, Check: func(time.Time) watchdog.Result { return watchdog.Result{} }}
	cfg := testConfig()
	if _, err := New(cfg, Deps{Store: newTestStore(t), Components: []watchdog.Component{c}}); err == nil || !strings.Contains(err.Error(), "htm_orchestrator is already watched") {
		t.Fatalf("error %v", err)
	}
}

// setupWith is setup with extra watchdog components.
func setupWith(t *testing.T, extra Deps) *testBundle {
	t.Helper()
	st, clk := newTestStore(t), clock.NewFake(epoch)
	b := &testBundle{store: st, clock: clk, handlers: newTestHandlers()}
	e, err := New(testConfig(), Deps{Store: st, Clock: clk, Handlers: b.handlers, Rand: func() float64 { return 0 },
		Components: extra.Components})
	if err != nil {
		t.Fatal(err)
	}
	b.e = e
	t.Cleanup(e.Stop) // runs before the store closes
	b.events = e.Subscribe(t.Context())
	return b
}

func newTestStore(t *testing.T) *enginetest.Store {
	st := enginetest.NewStore(64)
	t.Cleanup(func() { _ = st.Close() })
	return st
}

// The unified logic hub hears of a component the watchdog finds unhealthy,
// and of its recovery, once each.
func TestWatchdogReportsComponentHealthToTheHub(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	status := watchdog.OK
	bus := watchdog.Component{Name: "kernel_bus", Check: func(time.Time) watchdog.Result {
		mu.Lock()
		defer mu.Unlock()
		return watchdog.Result{Ready: true, Findings: []watchdog.Finding{{Condition: "link", Status: status, Reason: "link " + status.String()}}}
	}}
	b := setupWith(t, Deps{Components: []watchdog.Component{bus}})
	b.start(t)
	b.check(t)
	mu.Lock()
	status = watchdog.Critical
	mu.Unlock()
	b.check(t)
	b.check(t)
	r := b.waitRecord(t, WhatTroubleObserved, troubleIs("component:kernel_bus"))
	if !strings.Contains(strings.Join(r.Why, " "), "link critical") {
		t.Fatalf("hub record: %+v", r)
	}
	mu.Lock()
	status = watchdog.OK
	mu.Unlock()
	b.check(t)
	b.waitRecord(t, WhatTroubleCleared, troubleIs("component:kernel_bus"))
	if n := len(b.allRecords(WhatTroubleObserved)); n != 1 {
		t.Fatalf("%d trouble records for one lasting trouble", n)
	}
}

// Every snapshot and every alert change is published on the trigger mesh,
// where policy rules can match it.
func TestWatchdogPublishesOnTheMesh(t *testing.T) {
	t.Parallel()
	b := setup(t, func(c *Config) { c.Scheduler.AutoResumeAfter = time.Hour })
	b.start(t)
	if err := b.e.PauseScheduler(t.Context(), "ops", "maintenance"); err != nil {
		t.Fatal(err)
	}
	b.check(t)
	b.check(t)
	published := map[string]uint64{}
	for _, ts := range b.e.layers.mesh.Stats().Topics {
		published[ts.Name] = ts.Published
	}
	if published[TopicTelemetry] != 2 || published[TopicAlert] != 1 {
		t.Fatalf("published: %d snapshots, %d alerts; want 2 and 1 (the pause)", published[TopicTelemetry], published[TopicAlert])
	}
	f := telemetryFields(latestTelemetry(t, b.e))
	if f["scheduler.status"] != "warn" || f["scheduler.paused"] != "1" || f["alerts_firing"] != "1" {
		t.Fatalf("telemetry fields: %v", f)
	}
}

func latestTelemetry(t *testing.T, e *Engine) watchdog.Telemetry {
	t.Helper()
	tel, ok := e.LatestTelemetry()
	if !ok {
		t.Fatal("no telemetry")
	}
	return tel
}

// Contradictory watchdog thresholds and unusable intervals stop the engine
// at New, naming the key.
func TestConfigRefusesContradictoryWatchdogSettings(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		edit func(*Config)
		says string
	}{
		{func(c *Config) { c.Watchdog.Mesh.DropRateWarn = 500 }, "watchdog.mesh.drop_rate_warn (500) must not exceed watchdog.mesh.drop_rate_critical (100)"},
		{func(c *Config) { c.Watchdog.Interval = -time.Second }, "watchdog.interval (-1s) must be positive"},
	} {
		cfg := testConfig()
		tc.edit(&cfg)
		if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), tc.says) {
			t.Errorf("Validate: %v; want %q", err, tc.says)
		}
		if _, err := New(cfg, Deps{Store: newTestStore(t)}); err == nil || !strings.Contains(err.Error(), tc.says) {
			t.Errorf("New: %v; want %q", err, tc.says)
		}
	}
}
