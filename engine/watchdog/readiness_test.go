package watchdog

import (
	"strings"
	"testing"
	"time"
)

// A component that never becomes ready is named when the readiness timeout
// passes, on the record and as a critical alert; when it comes up later,
// the alert resolves.
func TestReadinessNamesTheComponentThatNeverBecomesReady(t *testing.T) {
	t.Parallel()
	b := setup(t, "htm", "mesh")
	b.knobs["mesh"].set(false, OK, "")
	b.w.Boot()
	rep := b.w.Report()
	if rep.Ready || rep.Readiness.State != ReadinessWaiting || len(rep.Readiness.NotReady) != 1 || rep.Readiness.NotReady[0].Component != "mesh" {
		t.Fatalf("after boot: %+v", rep.Readiness)
	}
	// Probes until the deadline: nothing is raised while waiting.
	for range 10 {
		b.clock.Advance(b.w.cfg.ReadinessPoll)
		if b.w.probe(b.clock.Now()) {
			t.Fatal("readiness resolved before its deadline")
		}
	}
	b.clock.Advance(b.w.cfg.ReadinessTimeout)
	if !b.w.probe(b.clock.Now()) {
		t.Fatal("readiness did not resolve at its deadline")
	}
	b.w.flushReadiness(t.Context())
	r := b.w.Report().Readiness
	if r.State != ReadinessTimedOut || len(r.NotReady) != 1 || r.NotReady[0].Component != "mesh" || r.NotReady[0].Reason != "still loading" {
		t.Fatalf("timed out: %+v", r)
	}
	rec := b.j.last(WhatReadinessTimedOut)
	if !strings.Contains(rec.Why[0], "mesh") || strings.Contains(rec.Why[0], "htm") || rec.Result != "not_ready" {
		t.Fatalf("timeout record: %+v", rec)
	}

	rep = b.check(t)
	if rep.Ready || len(rep.Alerts) != 1 || rep.Alerts[0].Key != "mesh/readiness" || rep.Alerts[0].Severity != Critical {
		t.Fatalf("after the deadline: ready %v, alerts %+v", rep.Ready, rep.Alerts)
	}
	if c, _ := rep.Component("mesh"); c.Status != Critical || !strings.Contains(c.Reason, "still loading") || c.SLOBreaches != 1 {
		t.Fatalf("mesh: %+v", c)
	}

	b.knobs["mesh"].set(true, OK, "up")
	rep = b.check(t)
	if !rep.Ready || len(rep.Alerts) != 0 || rep.Readiness.State != ReadinessTimedOut {
		t.Fatalf("mesh up: ready %v alerts %+v readiness %+v", rep.Ready, rep.Alerts, rep.Readiness)
	}
}

// Components all ready at boot resolve readiness at once, with one record.
func TestReadinessAtBoot(t *testing.T) {
	t.Parallel()
	b := setup(t, "htm", "scheduler")
	b.w.Boot()
	rep := b.w.Report()
	if !rep.Ready || rep.Readiness.State != ReadinessReady || !rep.Readiness.At.Equal(epoch) {
		t.Fatalf("readiness: %+v", rep.Readiness)
	}
	b.w.flushReadiness(t.Context())
	b.w.flushReadiness(t.Context())
	if n := b.j.count(WhatReady); n != 1 {
		t.Fatalf("%d layer2_ready records", n)
	}
}

// A component that becomes ready while the watchdog polls resolves
// readiness then.
func TestReadinessWaitsForASlowComponent(t *testing.T) {
	t.Parallel()
	b := setup(t, "policy")
	b.knobs["policy"].set(false, OK, "")
	b.w.Boot()
	b.clock.Advance(3 * time.Second)
	b.knobs["policy"].set(true, OK, "loaded")
	if !b.w.probe(b.clock.Now()) {
		t.Fatal("not resolved")
	}
	if r := b.w.Report().Readiness; r.State != ReadinessReady || r.At.Sub(r.Started) != 3*time.Second || len(r.NotReady) != 0 {
		t.Fatalf("readiness: %+v", r)
	}
}
