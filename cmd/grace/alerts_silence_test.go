package main

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"grace/engine"
	"grace/engine/clarity"
	"grace/engine/httpapi"
	"grace/engine/watchdog"
	"grace/store"
)

// TestCLIAlertSilences: usage mistakes exit 2 naming the flag or value
// and need no server; with no server answering, a silence says so (as
// grace scheduler pause does); against a real grace serve, grace alerts
// silence mutes a firing alert, grace alerts marks it SILENCED (and
// --json "silenced"), grace alerts silences lists it, grace alerts
// unsilence ends it (once: a second end is refused), an unknown ID and a
// bad --until are errors naming them; all of it on the record.
func TestCLIAlertSilences(t *testing.T) {
	t.Parallel()
	c, url := newServerCLI(t)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"alerts", "silence", "--for", "2h", "--reason", "r"}, "takes one MATCH"},
		{[]string{"alerts", "silence", "scheduler", "--for", "2h", "--reason", "r"}, `MATCH "scheduler" is not a silence match`},
		{[]string{"alerts", "silence", "sched*/x", "--for", "2h", "--reason", "r"}, `MATCH "sched*/x"`},
		{[]string{"alerts", "silence", "scheduler/*", "--reason", "r"}, "--for or --until is required"},
		{[]string{"alerts", "silence", "scheduler/*", "--for", "2h", "--until", "2026-03-01T06:00:00Z", "--reason", "r"}, "--for and --until go one at a time"},
		{[]string{"alerts", "silence", "scheduler/*", "--for", "2 hours", "--reason", "r"}, `--for "2 hours"`},
		{[]string{"alerts", "silence", "scheduler/*", "--for", "0s", "--reason", "r"}, `--for "0s": a duration must be positive`},
		{[]string{"alerts", "silence", "scheduler/*", "--for", "31d", "--reason", "r"}, `--for "31d": a silence lasts at most 30d`},
		{[]string{"alerts", "silence", "scheduler/*", "--for", "1ns", "--reason", "r"}, `--for "1ns": a silence lasts at least 1m`},
		{[]string{"alerts", "silence", "scheduler/*", "--for", "500ms", "--reason", "r"}, `--for "500ms": a silence lasts at least 1m`},
		{[]string{"alerts", "silence", "scheduler/*", "--until", "noon", "--reason", "r"}, `--until "noon"`},
		{[]string{"alerts", "silence", "scheduler/*", "--for", "2h"}, "--reason is required"},
		{[]string{"alerts", "silence", "scheduler/*", "--for", "2h", "--reason", "r", "--firing"}, "unknown flag: --firing"},
		{[]string{"alerts", "unsilence", "sil_x"}, "--reason is required"},
		{[]string{"alerts", "unsilence", "--reason", "r"}, "takes one silence ID"},
		{[]string{"alerts", "unsilence", " ", "--reason", "r"}, "the silence ID is empty"},
		{[]string{"alerts", "silences", "extra"}, "unknown command"},
	} {
		c.wantUsage(t, tc.want, tc.args...)
	}
	c.run(t, "alerts", "silence", "scheduler/*", "--for", "2h", "--reason", "r").wantFail(t, exitFailure, "no server answers at "+url)
	// Listing reads the database instead, as grace alerts does: none yet.
	if r := c.run(t, "alerts", "silences"); r.code != exitFailure || !strings.Contains(r.stderr, "grace: no server at "+url+"; reading the database") ||
		!strings.Contains(r.stderr, "no database there") {
		t.Fatalf("alerts silences with no server and no database: exit %d %q", r.code, r.stderr)
	}
	c.run(t, "alerts", "unsilence", "sil_x", "--reason", "r").wantFail(t, exitFailure, "no server answers at "+url)

	startServe(t, c, writeServeConfig(t, c.dir, url, "watchdog:\n  interval: 100ms\n"), url)
	if r := c.run(t, "alerts", "silences"); r.code != 0 || r.stdout != "" || r.stderr != "grace: no active silences\n" {
		t.Fatalf("alerts silences with none: exit %d %q %q", r.code, r.stdout, r.stderr)
	}
	// The scheduler paused while work waits raises scheduler/paused.
	if r := c.run(t, "scheduler", "pause", "--reason", "hold for the test"); r.code != 0 {
		t.Fatalf("scheduler pause: %d %s", r.code, r.stderr)
	}
	c.run(t, "intent", "submit", "--type", "query_knowledge")
	waitFor(t, 20*time.Second, "scheduler/paused to fire", func() bool {
		return strings.Contains(c.run(t, "alerts", "--firing").stdout, "scheduler/paused")
	})

	r := c.run(t, "alerts", "silence", " scheduler/* ", "--for", "2h", "--reason", "scheduler migration")
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if r.code != 0 || len(lines) != 2 || !strings.HasPrefix(lines[0], "silenced scheduler/* until ") || !strings.Contains(lines[0], "(2h0m0s) by ") ||
		!strings.Contains(lines[1], "scheduler/paused") {
		t.Fatalf("alerts silence: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	id := lines[0][strings.LastIndex(lines[0], " ")+1:]
	if !strings.HasPrefix(id, "sil_") {
		t.Fatalf("no silence ID at the end of %q", lines[0])
	}
	r = c.run(t, "alerts", "--firing")
	if rows := strings.Split(strings.TrimSpace(r.stdout), "\n"); r.code != 0 || !strings.Contains(rows[0], "SILENCED") || !strings.Contains(r.stdout, "scheduler/paused") ||
		!strings.Contains(r.stdout, "until ") {
		t.Fatalf("alerts --firing under the silence: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	if r := c.run(t, "health"); !strings.Contains(r.stdout, "scheduler/paused") || !strings.Contains(r.stdout, "; silenced until ") {
		t.Fatalf("health under the silence: %s\n%s", r.stdout, r.stderr)
	}
	var got httpapi.AlertsResponse
	c.run(t, "alerts", "--firing", "--json").decode(t, &got)
	marked := false
	for _, al := range got.Alerts {
		if al.Key == "scheduler/paused" {
			marked = al.Silenced != nil && al.Silenced.ID == id
		}
	}
	if !marked {
		t.Fatalf("alerts --firing --json: %+v; want scheduler/paused silenced by %s", got, id)
	}

	var window watchdog.Silence
	c.run(t, "alerts", "silence", "*", "--until", time.Now().Add(time.Hour).UTC().Format(time.RFC3339), "--reason", "window", "--json").decode(t, &window)
	if window.Match != "*" || window.State != watchdog.SilenceActive || !strings.HasPrefix(window.ID, "sil_") {
		t.Fatalf("alerts silence --json: %+v", window)
	}
	c.run(t, "alerts", "silence", "*", "--until", "2020-01-01T00:00:00Z", "--reason", "r").wantFail(t, exitFailure, "alerts silence: --until: until 2020-01-01T00:00:00Z is not in the future")
	c.run(t, "alerts", "silence", "*", "--until", time.Now().Add(30*time.Second).UTC().Format(time.RFC3339), "--reason", "r").
		wantFail(t, exitFailure, "ahead; a silence lasts at least 1m")
	var list httpapi.SilencesResponse
	c.run(t, "alerts", "silences", "--json").decode(t, &list)
	if len(list.Silences) != 2 || list.Silences[0].ID != window.ID || list.Silences[1].ID != id {
		t.Fatalf("alerts silences --json: %+v", list)
	}
	if r := c.run(t, "alerts", "silences"); r.code != 0 || !strings.HasPrefix(r.stdout, "ID") || !strings.Contains(r.stdout, id) || !strings.Contains(r.stdout, "scheduler migration") {
		t.Fatalf("alerts silences: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}

	r = c.run(t, "alerts", "unsilence", id, "--reason", "migration done")
	if r.code != 0 || !strings.HasPrefix(r.stdout, "ended silence "+id+" of scheduler/* (by ") || !strings.HasSuffix(r.stdout, "): migration done\n") {
		t.Fatalf("alerts unsilence: exit %d\n%q\n%s", r.code, r.stdout, r.stderr)
	}
	c.run(t, "alerts", "unsilence", id, "--reason", "again").wantFail(t, exitFailure, "the silence has already ended")
	c.run(t, "alerts", "unsilence", "sil_nope", "--reason", "x").wantFail(t, exitFailure, "no such silence")
	var ended watchdog.Silence
	c.run(t, "alerts", "unsilence", window.ID, "--reason", "window over", "--json").decode(t, &ended)
	if ended.ID != window.ID || ended.State != watchdog.SilenceEnded || ended.EndReason != "window over" {
		t.Fatalf("alerts unsilence --json: %+v", ended)
	}
	if r := c.run(t, "alerts", "silences", "--all"); r.code != 0 || strings.Count(r.stdout, "\nsil_") != 2 || !strings.Contains(r.stdout, ": migration done") ||
		!strings.Contains(r.stdout, ": window over") {
		t.Fatalf("alerts silences --all: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	if r := c.run(t, "alerts", "--firing"); !strings.Contains(r.stdout, "scheduler/paused") || strings.Contains(r.stdout, "until ") {
		t.Fatalf("alerts --firing after the silences ended: %s", r.stdout)
	}
	for _, action := range []string{"alert_silenced", "alert_silence_ended"} {
		if r := c.run(t, "narratives", "search", "--action", action); !strings.Contains(r.stdout, action) {
			t.Fatalf("%s is not on the record: %q %q", action, r.stdout, r.stderr)
		}
	}
}

// TestCLIAlertsSilencedFromDatabase: with no server answering, grace
// alerts reads the database and marks the firing alert that a stored
// active silence matches; a resolved one and one an ended silence matched
// are not marked.
func TestCLIAlertsSilencedFromDatabase(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	db := filepath.Join(c.dir, "data", "grace.db")
	ctx := context.Background()
	st, err := store.Open(ctx, db, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC().Truncate(time.Second)
	cycle := watchdog.CycleRecord{Telemetry: watchdog.Telemetry{At: now}, Alerts: []watchdog.Alert{
		{ID: "alr_1", Key: "htm/queue_depth", Component: "htm", Condition: "queue_depth", Severity: watchdog.Warn, Peak: watchdog.Warn,
			Summary: "depth", FirstSeen: now, LastSeen: now, Count: 1},
		{ID: "alr_2", Key: "mesh/drops", Component: "mesh", Condition: "drops", Severity: watchdog.Warn, Peak: watchdog.Warn,
			Summary: "drops", FirstSeen: now, LastSeen: now, Count: 1},
	}}
	if err := st.SaveCycle(ctx, cycle); err != nil {
		t.Fatal(err)
	}
	rec := clarity.Record{Who: "alice", What: "alert_silenced", Where: "alert_silences", Why: []string{"test"}, How: "operator_command", Result: "silenced"}
	for _, s := range []watchdog.Silence{
		{ID: "sil_on", Match: "htm/*", Reason: "r", By: "alice", CreatedAt: now.Add(-time.Minute), EndsAt: now.Add(time.Hour), State: watchdog.SilenceActive},
		{ID: "sil_off", Match: "mesh/*", Reason: "r", By: "bob", CreatedAt: now.Add(-time.Hour), EndsAt: now.Add(time.Hour), State: watchdog.SilenceEnded,
			EndedAt: now.Add(-time.Minute), EndedBy: "bob", EndReason: "done"},
		// Its time passed while no engine ran: the next start expires it.
		{ID: "sil_past", Match: "mesh/*", Reason: "r", By: "carol", CreatedAt: now.Add(-2 * time.Hour), EndsAt: now.Add(-time.Hour), State: watchdog.SilenceActive},
		// Ended more than 30 days ago: no longer kept, nor listed.
		{ID: "sil_gone", Match: "mesh/*", Reason: "r", By: "bob", CreatedAt: now.Add(-40 * 24 * time.Hour), EndsAt: now.Add(-39 * 24 * time.Hour),
			State: watchdog.SilenceEnded, EndedAt: now.Add(-31 * 24 * time.Hour), EndedBy: "bob", EndReason: "done"},
		// Its time passed more than 30 days ago, while no engine ran.
		{ID: "sil_long_past", Match: "mesh/*", Reason: "r", By: "carol", CreatedAt: now.Add(-32 * 24 * time.Hour), EndsAt: now.Add(-31 * 24 * time.Hour),
			State: watchdog.SilenceActive},
	} {
		if err := st.SaveSilence(ctx, s, rec); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	var got httpapi.AlertsResponse
	c.run(t, "alerts", "--json", "--db", db).decode(t, &got)
	if len(got.Alerts) != 2 {
		t.Fatalf("alerts: %+v", got)
	}
	for _, al := range got.Alerts {
		switch {
		case al.Key == "htm/queue_depth" && (al.Silenced == nil || al.Silenced.ID != "sil_on" || al.Silenced.By != "alice"):
			t.Fatalf("htm/queue_depth: %+v, want silenced by sil_on", al.Silenced)
		case al.Key == "mesh/drops" && al.Silenced != nil:
			t.Fatalf("mesh/drops marked by an ended silence: %+v", al.Silenced)
		}
	}
	r := c.run(t, "alerts", "--db", db)
	if !strings.Contains(r.stdout, "SILENCED") || !strings.Contains(r.stdout, "(alice)") || strings.Contains(r.stdout, "(bob)") {
		t.Fatalf("grace alerts: %s\n%s", r.stdout, r.stderr)
	}

	// grace alerts silences reads them from the database too, saying so.
	r = c.run(t, "alerts", "silences", "--db", db)
	if r.code != 0 || !strings.Contains(r.stderr, "reading the database "+db) || !strings.Contains(r.stdout, "sil_on") ||
		strings.Contains(r.stdout, "sil_off") || strings.Contains(r.stdout, "sil_past") {
		t.Fatalf("alerts silences from the database: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	var all httpapi.SilencesResponse
	c.run(t, "alerts", "silences", "--all", "--json", "--db", db).decode(t, &all)
	states := map[string]string{}
	for _, s := range all.Silences {
		states[s.ID] = s.State
	}
	if len(states) != 3 || states["sil_on"] != watchdog.SilenceActive || states["sil_off"] != watchdog.SilenceEnded || states["sil_past"] != watchdog.SilenceExpired {
		t.Fatalf("alerts silences --all from the database: %v", states)
	}
}

// TestCLISilencesPastTheCap: a server keeping engine.MaxActiveSilences
// active silences (all loaded at its start) refuses one more: grace
// alerts silence exits non-zero saying so and where to end one, and
// nothing is made.
func TestCLISilencesPastTheCap(t *testing.T) {
	t.Parallel()
	c, url := newServerCLI(t)
	db := filepath.Join(c.dir, "grace-data", "grace.db") // the default
	ctx := context.Background()
	st, err := store.Open(ctx, db, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	rec := clarity.Record{Who: "alice", What: "alert_silenced", Where: "alert_silences", Why: []string{"test"}, How: "operator_command", Result: "silenced"}
	var wg sync.WaitGroup
	errs := make(chan error, engine.MaxActiveSilences)
	for i := range engine.MaxActiveSilences {
		wg.Go(func() {
			s := watchdog.Silence{ID: fmt.Sprintf("sil_%04d", i), Match: fmt.Sprintf("probe/c%d", i), Reason: "r", By: "alice",
				CreatedAt: now, EndsAt: now.Add(time.Hour), State: watchdog.SilenceActive}
			if err := st.SaveSilence(ctx, s, rec); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	startServe(t, c, writeServeConfig(t, c.dir, url, ""), url)
	c.run(t, "alerts", "silence", "scheduler/*", "--for", "2h", "--reason", "migration").
		wantFail(t, exitFailure, fmt.Sprintf("alerts silence: silence alerts: too many active alert silences: %d are active and at most %d may be", engine.MaxActiveSilences, engine.MaxActiveSilences))
	r := c.run(t, "alerts", "silence", "scheduler/*", "--for", "2h", "--reason", "migration")
	if !strings.Contains(r.stderr, "nothing was made") || !strings.Contains(r.stderr, "grace alerts unsilence ID --reason R ends one") {
		t.Fatalf("the refusal: %q", r.stderr)
	}
	var list httpapi.SilencesResponse
	c.run(t, "alerts", "silences", "--json").decode(t, &list)
	if len(list.Silences) != engine.MaxActiveSilences {
		t.Fatalf("%d active silences listed, want %d", len(list.Silences), engine.MaxActiveSilences)
	}
}
