package store

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"grace/engine/watchdog"
)

// telemetryAt is a small telemetry snapshot at at.
func telemetryAt(at time.Time, depth float64) watchdog.Telemetry {
	return watchdog.Telemetry{Layer: watchdog.Layer, At: at, Ready: true, Healthy: depth < 1000, Status: watchdog.OK,
		Components: map[string]watchdog.ComponentTelemetry{
			watchdog.NameHTM: {Ready: true, Healthy: true, Reason: "calm", Metrics: map[string]float64{"queue_depth": depth, "worker_count": 8}},
		}}
}

func alert(id string, at time.Time) watchdog.Alert {
	return watchdog.Alert{ID: id, Key: "htm_orchestrator/queue_depth", Component: watchdog.NameHTM, Condition: "queue_depth",
		Severity: watchdog.Warn, Peak: watchdog.Warn, Summary: "Queue depth 1200/1000", FirstSeen: at, LastSeen: at, Count: 1}
}

// Snapshots and alerts read back as written; an alert's row follows its
// changes; what is past retention goes.
func TestTelemetryHistory(t *testing.T) {
	t.Parallel()
	tb := setup(t)
	ctx := context.Background()
	a := alert("alr_1", t0)
	for i := range 4 {
		at := t0.Add(time.Duration(i) * time.Hour)
		c := watchdog.CycleRecord{Telemetry: telemetryAt(at, float64(100*i))}
		switch i {
		case 0:
			c.Alerts = []watchdog.Alert{a}
		case 2:
			a.Severity, a.Peak, a.Count, a.LastSeen = watchdog.Critical, watchdog.Critical, 3, at
			c.Alerts = []watchdog.Alert{a, alert("alr_2", at)}
		}
		if err := tb.s.SaveCycle(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	tel, err := tb.s.Telemetry(ctx, watchdog.TelemetryQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if len(tel) != 4 || tel[0].Components[watchdog.NameHTM].Metrics["queue_depth"] != 300 || !tel[3].At.Equal(t0) {
		t.Fatalf("snapshots: %+v", tel)
	}
	want := telemetryAt(t0.Add(3*time.Hour), 300)
	tel[0].At = want.At // read back in UTC, the same instant
	if !reflect.DeepEqual(tel[0], want) {
		t.Fatalf("newest snapshot:\n%+v\nwant\n%+v", tel[0], want)
	}
	if tel, _ := tb.s.Telemetry(ctx, watchdog.TelemetryQuery{Since: t0.Add(time.Hour), Until: t0.Add(2 * time.Hour)}); len(tel) != 2 {
		t.Fatalf("bounded: %d snapshots", len(tel))
	}

	firing, err := tb.s.Alerts(ctx, watchdog.AlertQuery{Firing: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(firing) != 2 || firing[1].ID != "alr_1" || firing[1].Severity != watchdog.Critical || firing[1].Count != 3 || !firing[1].FirstSeen.Equal(t0) {
		t.Fatalf("firing: %+v", firing)
	}

	// Resolve alr_1 and move on past both retentions.
	a.ResolvedAt, a.Resolution = t0.Add(4*time.Hour), "Cleared: Queue depth 10/1000"
	now := t0.Add(5 * time.Hour)
	err = tb.s.SaveCycle(ctx, watchdog.CycleRecord{Telemetry: telemetryAt(now, 10), Alerts: []watchdog.Alert{a},
		TelemetryBefore: t0.Add(2 * time.Hour), AlertsBefore: now})
	if err != nil {
		t.Fatal(err)
	}
	if tel, _ := tb.s.Telemetry(ctx, watchdog.TelemetryQuery{}); len(tel) != 3 {
		t.Fatalf("after retention: %d snapshots, want 3", len(tel))
	}
	all, _ := tb.s.Alerts(ctx, watchdog.AlertQuery{})
	if len(all) != 1 || all[0].ID != "alr_2" {
		t.Fatalf("after retention the resolved alert should be gone: %+v", all)
	}

	// Readers on a read-only store see the same; writing is refused.
	if err := tb.s.Close(); err != nil {
		t.Fatal(err)
	}
	ro, err := Open(ctx, tb.path, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	if got, err := ro.Alerts(ctx, watchdog.AlertQuery{Firing: true, Limit: 5}); err != nil || len(got) != 1 {
		t.Fatalf("read-only alerts: %+v, %v", got, err)
	}
	if err := ro.SaveCycle(ctx, watchdog.CycleRecord{Telemetry: telemetryAt(now, 1)}); !errors.Is(err, ErrReadOnly) {
		t.Fatalf("read-only save: %v", err)
	}
}

// A database from before migration 3 gains the telemetry and alerts tables
// and keeps its records.
func TestMigrationFromVersion2(t *testing.T) {
	t.Parallel()
	tb := setup(t)
	ctx := context.Background()
	writeRecords(t, tb.s, 3, "alice")
	if err := tb.s.Close(); err != nil {
		t.Fatal(err)
	}
	db := tb.rawDB(t)
	mustExec(t, db, "DROP TABLE telemetry")
	mustExec(t, db, "DROP TABLE alerts")
	mustExec(t, db, "PRAGMA user_version = 2")
	db.Close()

	tb.reopen(t)
	db = tb.rawDB(t)
	if v := count(t, db, "PRAGMA user_version"); v != int64(schemaVersion) {
		t.Fatalf("user_version = %d after reopening, want %d", v, schemaVersion)
	}
	if err := tb.s.SaveCycle(ctx, watchdog.CycleRecord{Telemetry: telemetryAt(t0, 1), Alerts: []watchdog.Alert{alert("alr_x", t0)}}); err != nil {
		t.Fatal(err)
	}
	if n := count(t, db, "SELECT count(*) FROM telemetry") + count(t, db, "SELECT count(*) FROM alerts"); n != 2 {
		t.Fatalf("%d rows in the new tables", n)
	}
	if es, err := tb.s.Search(ctx, searchAll); err != nil || len(es) != 3 {
		t.Fatalf("records after migrating: %d, %v", len(es), err)
	}
}
