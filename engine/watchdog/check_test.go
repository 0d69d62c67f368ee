package watchdog

import (
	"strings"
	"testing"
	"time"
)

// finding returns the named finding of r.
func finding(t *testing.T, r Result, condition string) Finding {
	t.Helper()
	for _, f := range r.Findings {
		if f.Condition == condition {
			return f
		}
	}
	t.Fatalf("no %s finding in %+v", condition, r.Findings)
	return Finding{}
}

// twoReadings builds a check over before, then after, and returns the
// second check's result, span seconds after the first: counters give their
// difference.
func twoReadings[F any](build func(read func() F) Component, before, after F, span time.Duration) Result {
	cur := before
	c := build(func() F { return cur })
	c.Check(epoch)
	cur = after
	return c.Check(epoch.Add(span))
}

// checkCase is one row of a check's table: figures edited from a base,
// and the finding expected.
type checkCase[F any] struct {
	name      string
	edit      func(*F)
	condition string
	want      Status
	says      string
}

func runChecks[F any](t *testing.T, build func(read func() F) Component, base F, cases []checkCase[F]) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			after := base
			tc.edit(&after)
			r := twoReadings(build, base, after, 10*time.Second)
			got := finding(t, r, tc.condition)
			if got.Status != tc.want || !strings.Contains(got.Reason, tc.says) {
				t.Fatalf("%s = %s %q; want %s containing %q", tc.condition, got.Status, got.Reason, tc.want, tc.says)
			}
			if r.Status() < tc.want {
				t.Fatalf("component status %s below the finding's %s", r.Status(), tc.want)
			}
		})
	}
}

func TestHTMCheck(t *testing.T) {
	t.Parallel()
	build := func(read func() HTMFigures) Component { return HTMCheck(Default().HTM, read) }
	base := HTMFigures{Accepting: true, Capacity: 10000, Warn: 1000, Critical: 5000, Workers: 8, Healthy: 8, Refused: 4}
	runChecks(t, build, base, []checkCase[HTMFigures]{
		{"calm", func(*HTMFigures) {}, "queue_depth", OK, "within limits"},
		{"at warn", func(f *HTMFigures) { f.QueueDepth = 1000 }, "queue_depth", Warn, "1000/1000 (above warning"},
		{"at critical", func(f *HTMFigures) { f.QueueDepth = 5000 }, "queue_depth", Critical, "5000/5000 (critical)"},
		{"a worker down", func(f *HTMFigures) { f.Healthy = 7 }, "workers", Warn, "1 of 8 workers unhealthy"},
		{"no worker", func(f *HTMFigures) { f.Healthy = 0 }, "workers", Critical, "below the minimum of 1"},
		{"old refusals", func(*HTMFigures) {}, "queue_overflow", OK, "No submission refused"},
		{"overflow", func(f *HTMFigures) { f.Refused = 7 }, "queue_overflow", Critical, "3 submissions refused"},
		{"no runaway", func(*HTMFigures) {}, "runaway_handlers", OK, "No abandoned handler"},
		{"runaways", func(f *HTMFigures) {
			f.Runaways = []Runaway{{"deploy_model", "int_1", epoch.Add(-time.Hour)}, {"deploy_model", "int_2", epoch}, {"x", "int_3", epoch}, {"y", "int_4", epoch}}
		}, "runaway_handlers", Warn, "4 handler(s) ignored being told to stop and run on, abandoned: deploy_model (int_1) abandoned 1h0m10s ago; deploy_model (int_2) abandoned 10s ago; x (int_3) abandoned 10s ago; 1 more"},
	})
	if r := build(func() HTMFigures { return HTMFigures{} }).Check(epoch); r.Ready || r.NotReadyReason == "" {
		t.Fatalf("a queue not accepting work is not ready: %+v", r)
	}
}

func TestSchedulerCheck(t *testing.T) {
	t.Parallel()
	th := Default().Scheduler
	build := func(read func() SchedulerFigures) Component { return SchedulerCheck(th, read) }
	base := SchedulerFigures{Running: true, Waiting: 20, Idle: 0, DispatchRate: 4, Dispatched: 100}
	runChecks(t, build, base, []checkCase[SchedulerFigures]{
		{"keeping up", func(*SchedulerFigures) {}, "dispatch_rate", OK, "4.0/s with 20 intents waiting"},
		{"slow", func(f *SchedulerFigures) { f.DispatchRate = 0.5 }, "dispatch_rate", Warn, "0.5/s below the minimum 1.0/s"},
		{"idle queue is no breach", func(f *SchedulerFigures) { f.DispatchRate, f.Waiting = 0, 0 }, "dispatch_rate", OK, "nothing waiting"},
		// Work recovered at start waits for the first dispatches: a rate
		// over the engine's first seconds is no slow scheduler.
		{"just started", func(f *SchedulerFigures) { f.DispatchRate, f.RateWarmup = 0, true }, "dispatch_rate", OK, "the engine has just started"},
		{"paused", func(f *SchedulerFigures) { f.Paused, f.PausedSince, f.PauseReason = true, epoch, "operator" }, "paused", Warn, "(operator)"},
	})

	// A pause becomes critical once it lasts watchdog.scheduler.max_pause with work waiting.
	f := SchedulerFigures{Running: true, Paused: true, PausedSince: epoch, Waiting: 5}
	c := build(func() SchedulerFigures { return f })
	if got := finding(t, c.Check(epoch.Add(th.MaxPause-time.Second)), "paused"); got.Status != Warn {
		t.Fatalf("short pause: %+v", got)
	}
	if got := finding(t, c.Check(epoch.Add(th.MaxPause)), "paused"); got.Status != Critical || !strings.Contains(got.Reason, "5 intents waiting") {
		t.Fatalf("long pause: %+v", got)
	}

	// A stall: work waits, a worker is idle, nothing is dispatched.
	f = SchedulerFigures{Running: true, Waiting: 3, Idle: 2, Dispatched: 10}
	c = build(func() SchedulerFigures { return f })
	c.Check(epoch)
	if got := finding(t, c.Check(epoch.Add(th.StallAfter/2)), "stalled"); got.Status != OK {
		t.Fatalf("half a stall: %+v", got)
	}
	if got := finding(t, c.Check(epoch.Add(th.StallAfter)), "stalled"); got.Status != Critical || !strings.Contains(got.Reason, "2 workers are idle") {
		t.Fatalf("stall: %+v", got)
	}
	f.Dispatched++
	if got := finding(t, c.Check(epoch.Add(th.StallAfter+time.Second)), "stalled"); got.Status != OK {
		t.Fatalf("progress clears the stall: %+v", got)
	}
	if r := build(func() SchedulerFigures { return SchedulerFigures{} }).Check(epoch); r.Ready {
		t.Fatal("a scheduler whose loop is not running is ready")
	}

	// Paused types: each named; critical once one holds work past max_pause.
	f = SchedulerFigures{Running: true}
	c = build(func() SchedulerFigures { return f })
	if got := finding(t, c.Check(epoch), "types_paused"); got.Status != OK {
		t.Fatalf("no type paused: %+v", got)
	}
	f.PausedTypes = []PausedType{{Type: "deploy_model", Since: epoch, Reason: "by ops: canary", Waiting: 3}, {Type: "modify_config", Since: epoch.Add(-time.Hour)}}
	if got := finding(t, c.Check(epoch.Add(time.Minute)), "types_paused"); got.Status != Warn ||
		got.Reason != "2 intent type(s) paused: deploy_model since 2025-11-15T12:00:00Z (by ops: canary), 3 waiting; modify_config since 2025-11-15T11:00:00Z, 0 waiting" {
		t.Fatalf("types paused: %+v", got)
	}
	if got := finding(t, c.Check(epoch.Add(th.MaxPause)), "types_paused"); got.Status != Critical || !strings.Contains(got.Reason, "deploy_model paused for 5m0s (limit 5m0s) (by ops: canary), 3 waiting") {
		t.Fatalf("a type holding work past max_pause: %+v", got)
	}

	// Paused actors: likewise, in their own finding.
	if got := finding(t, c.Check(epoch), "actors_paused"); got.Status != OK || got.Reason != "No actor paused" {
		t.Fatalf("no actor paused: %+v", got)
	}
	f.PausedActors = []PausedActor{{Actor: "agent.runaway", Since: epoch, Reason: "by ops: loops", Waiting: 2}}
	if got := finding(t, c.Check(epoch.Add(time.Minute)), "actors_paused"); got.Status != Warn ||
		got.Reason != "1 actor(s) paused: agent.runaway since 2025-11-15T12:00:00Z (by ops: loops), 2 waiting" {
		t.Fatalf("actor paused: %+v", got)
	}
	if got := finding(t, c.Check(epoch.Add(th.MaxPause)), "actors_paused"); got.Status != Critical || !strings.Contains(got.Reason, "agent.runaway paused for 5m0s (limit 5m0s) (by ops: loops), 2 waiting") {
		t.Fatalf("an actor holding work past max_pause: %+v", got)
	}
}

func TestMeshCheck(t *testing.T) {
	t.Parallel()
	build := func(read func() MeshFigures) Component { return MeshCheck(Default().Mesh, read) }
	base := MeshFigures{Running: true, Topics: 4, Subscriptions: 12, Dropped: 50, Published: 1000}
	runChecks(t, build, base, []checkCase[MeshFigures]{
		{"enough subscriptions", func(*MeshFigures) {}, "subscriptions", OK, "12 subscriptions on 4 topics"},
		{"few subscriptions", func(f *MeshFigures) { f.Subscriptions = 4 }, "subscriptions", Warn, "4 subscriptions, below the minimum of 5"},
		{"no subscription", func(f *MeshFigures) { f.Subscriptions = 0 }, "subscriptions", Critical, "No subscriptions"},
		{"no drops", func(*MeshFigures) {}, "backpressure", OK, "0 events dropped"},
		{"some drops", func(f *MeshFigures) { f.Dropped += 20 }, "backpressure", Warn, "20 events dropped since the last check, 2.0/s"},
		{"a flood of drops", func(f *MeshFigures) { f.Dropped += 5000 }, "backpressure", Critical, "500.0/s"},
	})
	if r := build(func() MeshFigures { return MeshFigures{} }).Check(epoch); r.Ready {
		t.Fatal("a mesh that does not run is ready")
	}
}

func TestPolicyCheck(t *testing.T) {
	t.Parallel()
	build := func(read func() PolicyFigures) Component { return PolicyCheck(Default().Policy, read) }
	base := PolicyFigures{Loaded: true, Rules: 6, Fired: 100, CascadesCut: 2, CyclesCut: 1}
	runChecks(t, build, base, []checkCase[PolicyFigures]{
		{"loaded", func(*PolicyFigures) {}, "loaded", OK, "6 rules loaded"},
		{"not loaded", func(f *PolicyFigures) { f.Loaded = false }, "loaded", Critical, "not loaded"},
		{"calm", func(f *PolicyFigures) { f.Fired += 50 }, "fire_rate", OK, "5.0/s"},
		{"busy", func(f *PolicyFigures) { f.Fired += 20000 }, "fire_rate", Warn, "2000.0/s"},
		{"storm", func(f *PolicyFigures) { f.Fired += 200000 }, "fire_rate", Critical, "20000.0/s"},
		{"no cuts", func(*PolicyFigures) {}, "cascades", OK, "No cascade"},
		{"a cascade cut", func(f *PolicyFigures) { f.CascadesCut++ }, "cascades", Warn, "1 event chains cut"},
		{"recursion", func(f *PolicyFigures) { f.CyclesCut += 60 }, "cascades", Critical, "60 event chains cut"},
	})
}
