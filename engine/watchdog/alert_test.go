package watchdog

import (
	"slices"
	"strings"
	"testing"
	"time"
)

// A lasting condition is one alert: raised once, counted while it lasts,
// escalated, de-escalated and resolved, each change on the record once.
func TestAlertLifecycle(t *testing.T) {
	t.Parallel()
	b := setup(t, "queue")
	b.w.Boot()
	k := b.knobs["queue"]

	if rep := b.check(t); len(rep.Alerts) != 0 || rep.Status != OK {
		t.Fatalf("all good: %+v", rep)
	}

	k.set(true, Warn, "Queue depth 1200/1000 (above warning threshold)")
	rep := b.check(t)
	b.check(t)
	rep2 := b.check(t)
	if len(rep.Alerts) != 1 || len(rep2.Alerts) != 1 {
		t.Fatalf("a lasting warning is one alert: %+v then %+v", rep.Alerts, rep2.Alerts)
	}
	a := rep2.Alerts[0]
	if a.ID != rep.Alerts[0].ID || a.Count != 3 || a.Severity != Warn || a.Key != "queue/level" ||
		!a.FirstSeen.Equal(rep.CheckedAt) || !a.LastSeen.Equal(rep2.CheckedAt) || !a.Firing() {
		t.Fatalf("after 3 checks: %+v", a)
	}
	if n := b.j.count(WhatAlertRaised); n != 1 {
		t.Fatalf("%d alert_raised records for one lasting condition", n)
	}

	k.set(true, Critical, "Queue depth 5200/5000 (critical)")
	rep = b.check(t)
	if a := rep.Alerts[0]; a.ID != rep2.Alerts[0].ID || a.Severity != Critical || a.Peak != Critical || a.Count != 4 {
		t.Fatalf("escalated: %+v", a)
	}
	esc := b.j.last(WhatAlertEscalated)
	if esc.Where != "queue" || !strings.Contains(strings.Join(esc.Why, " "), "warn → critical") || esc.Risk != 0.9 {
		t.Fatalf("escalation record: %+v", esc)
	}

	k.set(true, Warn, "Queue depth 1500/1000 (above warning threshold)")
	b.check(t)
	k.set(true, OK, "Queue depth 12/1000 (within limits)")
	rep = b.check(t)
	if len(rep.Alerts) != 0 {
		t.Fatalf("resolved alert still firing: %+v", rep.Alerts)
	}
	res := b.j.last(WhatAlertResolved)
	if res.Context["alert_id"] != a.ID || !strings.Contains(res.Why[0], "Queue depth 12/1000") {
		t.Fatalf("resolution record: %+v", res)
	}
	want := []string{WhatAlertRaised, WhatTelemetryIssue, WhatTelemetryIssue, WhatTelemetryIssue,
		WhatAlertEscalated, WhatTelemetryIssue, WhatAlertDeescalated, WhatTelemetryIssue, WhatAlertResolved}
	got := slices.DeleteFunc(b.j.whats(), func(w string) bool { return w == WhatReady })
	if !slices.Equal(got, want) {
		t.Fatalf("records:\n got %v\nwant %v", got, want)
	}
	stored := b.h.alerts[a.ID]
	if stored.Firing() || stored.Peak != Critical || stored.Count != 5 || stored.Resolution == "" {
		t.Fatalf("stored alert: %+v", stored)
	}

	// The same condition later is a new alert.
	k.set(true, Warn, "again")
	if rep := b.check(t); len(rep.Alerts) != 1 || rep.Alerts[0].ID == a.ID {
		t.Fatalf("recurrence: %+v", rep.Alerts)
	}
}

// An alert left firing by an earlier run is continued when its condition
// still holds, and resolved when it no longer does or its component is
// gone.
func TestAlertsAdoptedFromAnEarlierRun(t *testing.T) {
	t.Parallel()
	b := setup(t, "queue", "mesh")
	old := Alert{ID: "alr_old", Key: "queue/level", Component: "queue", Condition: "level", Severity: Warn, Peak: Warn,
		Summary: "deep", FirstSeen: epoch.Add(-time.Hour), LastSeen: epoch.Add(-time.Hour), Count: 7}
	gone := Alert{ID: "alr_gone", Key: "kernel/heartbeat", Component: "kernel", Condition: "heartbeat", Severity: Critical,
		Peak: Critical, FirstSeen: epoch, LastSeen: epoch, Count: 1}
	b.h.alerts[old.ID], b.h.alerts[gone.ID] = old, gone
	b.knobs["queue"].set(true, Warn, "still deep")
	b.w.Boot()
	b.w.adopt(t.Context())
	rep := b.check(t)
	if len(rep.Alerts) != 1 || rep.Alerts[0].ID != "alr_old" || rep.Alerts[0].Count != 8 {
		t.Fatalf("continued: %+v", rep.Alerts)
	}
	if g := b.h.alerts["alr_gone"]; g.Firing() || !strings.Contains(g.Resolution, "no longer watched") {
		t.Fatalf("alert of an unwatched component: %+v", g)
	}
	if b.j.count(WhatAlertRaised) != 0 {
		t.Fatal("an adopted alert was raised again")
	}
}
