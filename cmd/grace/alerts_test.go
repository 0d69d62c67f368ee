package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"grace/engine/httpapi"
	"grace/engine/watchdog"
	"grace/store"
)

// TestCLIAlerts: grace alerts shows the watchdog's alert history from the
// database when no server answers (the resolved with how they ended),
// --firing only those firing, --json the API's shape; with a server it
// asks GET /v1/alerts.
func TestCLIAlerts(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	db := filepath.Join(c.dir, "data", "grace.db")
	st, err := store.Open(context.Background(), db, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 11, 29, 10, 0, 0, 0, time.UTC)
	cycle := watchdog.CycleRecord{Telemetry: watchdog.Telemetry{At: t0}, Alerts: []watchdog.Alert{
		{ID: "alr_1", Key: "store/commit_latency", Component: "store", Condition: "commit_latency", Severity: watchdog.Critical, Peak: watchdog.Critical,
			Summary: "p99 80ms", FirstSeen: t0, LastSeen: t0.Add(30 * time.Second), Count: 2, ResolvedAt: t0.Add(40 * time.Second), Resolution: "recovered"},
		{ID: "alr_2", Key: "htm/queue_depth", Component: "htm", Condition: "queue_depth", Severity: watchdog.Warn, Peak: watchdog.Warn,
			Summary: "depth 1,200 over 1,000", FirstSeen: t0.Add(time.Minute), LastSeen: t0.Add(2 * time.Minute), Count: 3},
	}}
	if err := st.SaveCycle(context.Background(), cycle); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	r := c.run(t, "alerts", "--db", db)
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if r.code != 0 || len(lines) != 3 || !strings.Contains(r.stderr, "reading the database "+db) || !strings.Contains(lines[1], "htm/queue_depth") || !strings.Contains(lines[1], "firing") ||
		!strings.Contains(lines[2], "store/commit_latency") || !strings.Contains(lines[2], "resolved") || !strings.Contains(lines[2], "recovered") {
		t.Fatalf("grace alerts: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	var got httpapi.AlertsResponse
	r = c.run(t, "alerts", "--firing", "--json", "--db", db)
	r.decode(t, &got)
	if r.code != 0 || len(got.Alerts) != 1 || got.Alerts[0].ID != "alr_2" {
		t.Fatalf("grace alerts --firing --json: exit %d %+v\n%s", r.code, got, r.stderr)
	}

	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.URL.Path != "/v1/alerts" || req.URL.Query().Get("firing") != "true" {
			http.NotFound(w, req)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(httpapi.AlertsResponse{Alerts: []watchdog.Alert{{ID: "alr_srv", Key: "scheduler/dispatch_rate",
			Severity: watchdog.Warn, Peak: watchdog.Critical, Summary: "from the server", FirstSeen: t0, LastSeen: t0, Count: 1}}})
	}))
	defer srv.Close()
	remote := &cli{dir: c.dir, env: []string{"GRACE_API_SERVER=" + srv.URL, "GRACE_API_TOKEN=tok"}}
	if r := remote.run(t, "alerts", "--firing", "--db", db); r.code != 0 || !strings.Contains(r.stdout, "scheduler/dispatch_rate") || strings.Contains(r.stdout, "htm/queue_depth") {
		t.Fatalf("grace alerts --firing with a server: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
}
