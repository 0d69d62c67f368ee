package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"grace/engine"
)

// healthDoc is the part of "grace health --json" the tests read.
type healthDoc struct {
	Mode       string `json:"mode"`
	Ready      bool   `json:"ready"`
	Status     string `json:"status"`
	Components []struct {
		Name, Status, Reason string
		Ready                bool
	} `json:"components"`
	Alerts []struct {
		Key, Severity string
		Count         int
	} `json:"alerts"`
}

// With no server, health grades the queue the database holds against the
// HTM thresholds, and exits non-zero: nothing runs intents, so Grace is not
// ready (a probe after a crash must fail), critical first when it is.
func TestHealthEmbeddedGradesTheStoredQueue(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.env = append(c.env, "GRACE_HTM_WARN_DEPTH=1", "GRACE_HTM_CRITICAL_DEPTH=2")
	submit := func() {
		if r := c.run(t, "intent", "submit", "--type", "query_knowledge", "--actor", "agent-1"); r.code != 0 {
			t.Fatalf("submit: %s", r.stderr)
		}
	}
	submit()
	r := c.run(t, "health", "--json")
	var h healthDoc
	r.decode(t, &h)
	lines := r.stderrLines()
	if r.code != exitFailure || h.Mode != "embedded" || h.Ready || h.Status != "warn" || len(h.Components) != 1 || h.Alerts == nil ||
		!strings.HasPrefix(lines[len(lines)-1], "grace: not ready: no engine is running") {
		t.Fatalf("one queued, warn at 1, no engine: exit %d %s %s", r.code, r.stdout, r.stderr)
	}
	submit()
	submit()
	r = c.run(t, "health", "--json")
	r.decode(t, &h)
	lines = r.stderrLines()
	if r.code != exitFailure || h.Status != "critical" || h.Components[0].Name != "htm_orchestrator" ||
		!strings.Contains(h.Components[0].Reason, "Queue depth 3/2 (critical)") ||
		!strings.HasPrefix(lines[len(lines)-1], "grace: critical: htm_orchestrator (Queue depth 3/2") {
		t.Fatalf("3 queued, critical at 2: exit %d %s %s", r.code, r.stdout, r.stderr)
	}
}

// Against a running server, health shows the watchdog's verdict: the
// queue past its critical depth is a critical component and one alert, and
// health exits non-zero; /readyz names each component; /metrics parses.
func TestHealthOfARunningServer(t *testing.T) {
	t.Parallel()
	c, url := newServerCLI(t)
	cfg := writeConfig(t, "api: {listen: "+strings.TrimPrefix(url, "http://")+", server: "+url+`}
cortex: {enabled: false}
handlers: {default: {kind: sim, latency: 1h}}
htm: {capacity: 100, warn_depth: 1, critical_depth: 2}
workers: {count: 1}
hub: {scaling: {enabled: false}}
watchdog: {interval: 100ms}
`)
	startServe(t, c, cfg, url)

	r := c.run(t, "health", "--json", "--config", cfg)
	var h healthDoc
	r.decode(t, &h)
	if r.code != 0 || h.Mode != "server" || !h.Ready || h.Status != "ok" || len(h.Components) < 2 {
		t.Fatalf("idle server: exit %d %s %s", r.code, r.stdout, r.stderr)
	}
	for range 3 { // one runs for an hour, two wait: the critical depth
		if r := c.run(t, "intent", "submit", "--type", "query_knowledge", "--actor", "agent-1", "--config", cfg); r.code != 0 {
			t.Fatalf("submit: %s", r.stderr)
		}
	}
	waitFor(t, 20*time.Second, "a critical verdict", func() bool {
		r = c.run(t, "health", "--json", "--config", cfg)
		h = healthDoc{}
		r.decode(t, &h)
		return h.Status == "critical"
	})
	if r.code != exitFailure || len(h.Alerts) == 0 || h.Alerts[0].Key != "htm_orchestrator/queue_depth" || h.Alerts[0].Severity != "critical" {
		t.Fatalf("critical server: exit %d %s %s", r.code, r.stdout, r.stderr)
	}
	// A token the server refuses learns nothing of its figures: it must
	// not read as healthy.
	c.as("not-the-token").run(t, "health", "--config", cfg).wantFail(t, exitFailure,
		"refused the API token (set api.token, or use the data folder's api.token): invalid bearer token: no identity has it; its health is unknown (it says ready: true)")
	r = c.run(t, "health", "--config", cfg)
	if r.code != exitFailure || !strings.Contains(r.stdout, "✗ critical  Queue depth 2/2 (critical)") ||
		!strings.Contains(r.stdout, "htm_orchestrator/queue_depth") || !strings.Contains(r.stderr, "grace: critical: htm_orchestrator") {
		t.Fatalf("health in words: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}

	resp, err := http.Get(url + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	var rz struct{ Checks map[string]string }
	decodeBody(t, resp, &rz)
	if rz.Checks["htm_orchestrator"] != "ok" || rz.Checks["scheduler"] != "ok" {
		t.Fatalf("/readyz checks: %v", rz.Checks)
	}
	resp, err = http.Get(url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	p := expfmt.NewTextParser(model.LegacyValidation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("/metrics does not parse: %v", err)
	}
	if f := fams["grace_alerts_firing"]; f == nil || len(f.Metric) != 2 {
		t.Fatalf("grace_alerts_firing: %v", f)
	}
	// The store: the three submissions were committed, to files that exist.
	if f := fams["grace_store_records_total"]; f == nil || f.Metric[0].GetCounter().GetValue() < 6 {
		t.Fatalf("grace_store_records_total: %v (3 submissions wrote at least 6 records)", f)
	}
	files := map[string]float64{}
	for _, m := range fams["grace_store_file_bytes"].GetMetric() {
		files[m.GetLabel()[0].GetValue()] = m.GetGauge().GetValue()
	}
	if files["db"] <= 0 || files["wal"] <= 0 || files["search"] <= 0 {
		t.Fatalf("grace_store_file_bytes: %v", files)
	}
	if f := fams["grace_store_failed_batches_total"]; f == nil || f.Metric[0].GetCounter().GetValue() != 0 {
		t.Fatalf("grace_store_failed_batches_total: %v", f)
	}
}

// Contradictory watchdog thresholds and a negative interval stop grace
// at start, naming the key, from a file, the environment or --set.
func TestBadWatchdogSettingsStopGrace(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	f := writeConfig(t, "watchdog:\n  policy: {cuts_warn: 100, cuts_critical: 50}\n")
	c.run(t, "health", "--config", f).wantFail(t, exitFailure,
		"watchdog.policy.cuts_warn (100) must not exceed watchdog.policy.cuts_critical (50)")
	env := &cli{dir: c.dir, env: append(c.env, "GRACE_WATCHDOG_INTERVAL=-15s")}
	env.run(t, "health").wantFail(t, exitFailure, "watchdog.interval (-15s) must be positive")
	c.run(t, "--set", "watchdog.mesh.drop_rate_warn=1000", "health").wantFail(t, exitFailure,
		"watchdog.mesh.drop_rate_warn (1000) must not exceed watchdog.mesh.drop_rate_critical (100)")
}

// decodeBody reads a JSON answer and closes it.
func decodeBody(t *testing.T, resp *http.Response, v any) {
	t.Helper()
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatalf("%s: %v", resp.Request.URL, err)
	}
}

// A running server's abandoned handlers still running are named, the
// longest abandoned first, five at most.
func TestHealthNamesRunawayHandlers(t *testing.T) {
	t.Parallel()
	at := time.Now().Add(-3 * time.Minute)
	var rs []engine.RunawayHandler
	for i := range 6 {
		rs = append(rs, engine.RunawayHandler{IntentID: fmt.Sprintf("int_%d", i), Type: "deploy_model", Worker: "worker_2", Attempt: 1,
			Cause: "its 30s timeout ran out", AbandonedAt: at})
	}
	rows := runawayRows(rs)
	if len(rows) != 6 || rows[5][1] != "1 more (grace intent get ID tells each)" {
		t.Fatalf("rows = %q", rows)
	}
	if r := rows[0]; r[0] != "runaway handler" || !strings.HasPrefix(r[1], "deploy_model int_0 (attempt 1 on worker_2) abandoned 3m0s ago: told to stop when its 30s timeout ran out") {
		t.Fatalf("first row = %q", r)
	}
	if rows := runawayRows(nil); len(rows) != 0 {
		t.Fatalf("rows without runaways = %q", rows)
	}
}

// intent get of an intent whose abandoned handler still runs says so.
func TestIntentGetNamesItsRunawayHandler(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 29, 10, 0, 0, 0, time.UTC)
	rs := []engine.RunawayHandler{
		{IntentID: "int_other", Attempt: 1, Worker: "worker_1", AbandonedAt: now},
		{IntentID: "int_x", Attempt: 2, Worker: "worker_4", Cause: "its 30s timeout ran out", AbandonedAt: now.Add(-90 * time.Second)},
	}
	rows := runawayRowsOf(rs, "int_x", now)
	if len(rows) != 1 || rows[0][0] != "runaway" ||
		rows[0][1] != "the handler of attempt 2 on worker_4 still runs, abandoned 1m30s ago: told to stop when its 30s timeout ran out, it ignored it; nothing it does counts" {
		t.Fatalf("rows = %q", rows)
	}
	if rows := runawayRowsOf(rs, "int_none", now); len(rows) != 0 {
		t.Fatalf("rows for an intent without a runaway = %q", rows)
	}
}
