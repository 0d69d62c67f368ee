package httpapi

import (
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"grace/engine"
	"grace/engine/clock"
	"grace/engine/enginetest"
	"grace/engine/intent"
	"grace/engine/watchdog"
	"grace/engine/worker"
)

// scrape GETs /metrics without a token and parses the answer with the
// Prometheus client library's own text parser.
func scrape(t *testing.T, h http.Handler) map[string]*dto.MetricFamily {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("GET /metrics = %d: %s", rec.Code, rec.Body)
	}
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Fatalf("content type %q", ct)
	}
	p := expfmt.NewTextParser(model.LegacyValidation)
	fams, err := p.TextToMetricFamilies(rec.Body)
	if err != nil {
		t.Fatalf("the text format does not parse: %v", err)
	}
	return fams
}

// value returns the value of the family's sample whose labels include
// want (name=value pairs).
func value(t *testing.T, fams map[string]*dto.MetricFamily, name string, want ...string) float64 {
	t.Helper()
	f := fams[name]
	if f == nil {
		t.Fatalf("no metric %s", name)
	}
next:
	for _, m := range f.Metric {
		have := map[string]string{}
		for _, l := range m.Label {
			have[l.GetName()] = l.GetValue()
		}
		for i := 0; i+1 < len(want); i += 2 {
			if have[want[i]] != want[i+1] {
				continue next
			}
		}
		switch {
		case m.Gauge != nil:
			return m.Gauge.GetValue()
		case m.Counter != nil:
			return m.Counter.GetValue()
		case m.Histogram != nil:
			return float64(m.Histogram.GetSampleCount())
		}
	}
	t.Fatalf("no %s sample with %v", name, want)
	return 0
}

// /metrics serves a running engine's figures in a format Prometheus
// parses: queue depths by state, counters, latency histograms, component
// health, alerts firing and SLOs.
func TestMetricsOfARunningEngine(t *testing.T) {
	t.Parallel()
	st := enginetest.NewStore(64)
	t.Cleanup(func() { _ = st.Close() })
	cfg := engine.Default()
	cfg.Handlers = map[string]worker.HandlerConfig{"default": {Kind: worker.KindNoop}}
	clk := clock.NewFake(time.Date(2025, 11, 15, 12, 0, 0, 0, time.UTC))
	eng, err := engine.New(cfg, engine.Deps{Store: st, Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	events := eng.Subscribe(t.Context())
	if err := eng.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(eng.Stop)
	for range 3 {
		if _, err := eng.Submit(t.Context(), intent.Submission{Type: "query_knowledge", Actor: "agent.m"}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := eng.Submit(t.Context(), intent.Submission{Type: "change_charter", Actor: "agent.m"}); err != nil {
		t.Fatal(err)
	}
	for done := 0; done < 3; {
		if ev := <-events; ev.Intent.State == intent.StateCompleted {
			done++
		}
	}
	clk.Advance(cfg.Watchdog.Interval)
	for ev := range events {
		if ev.Kind == engine.EventTelemetry {
			break
		}
	}

	fams := scrape(t, NewHandler(eng, Options{Token: "secret"}))
	for _, tc := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"grace_ready", nil, 1},
		{"grace_intents", []string{"state", "completed"}, 3},
		{"grace_intents", []string{"state", "pending_approval"}, 1},
		{"grace_intents", []string{"state", "shed"}, 0},
		{"grace_pending_approvals", nil, 1},
		{"grace_intents_dispatched_total", nil, 3},
		{"grace_intents_completed_total", nil, 3},
		{"grace_dispatch_latency_seconds", nil, 3},
		{"grace_task_duration_seconds", nil, 3},
		{"grace_component_status", []string{"component", "htm_orchestrator"}, 0},
		{"grace_component_ready", []string{"component", "scheduler"}, 1},
		{"grace_slo_breaches_total", []string{"component", "scheduler"}, 0},
		{"grace_alerts_firing", []string{"severity", "critical"}, 0},
		{"grace_slo_events_total", []string{"slo", "dispatch_latency", "outcome", "good"}, 3},
		{"grace_slo_burn_rate", []string{"slo", "intake_errors", "window", "1h"}, 0},
		{"grace_watchdog_checks_total", nil, 1},
		{"grace_queue_critical_depth", nil, 5000},
		{"grace_intents_finished_total", []string{"type", "query_knowledge", "state", "completed"}, 3},
		{"grace_intents_finished_total", []string{"type", "query_knowledge", "state", "failed"}, 0},
		{"grace_queue_depth_by_type", []string{"type", "query_knowledge"}, 0},
	} {
		if got := value(t, fams, tc.name, tc.labels...); got != tc.want {
			t.Errorf("%s%v = %v, want %v", tc.name, tc.labels, got, tc.want)
		}
	}
	if fams["go_goroutines"] == nil {
		t.Error("no Go runtime metrics")
	}
	if typ := fams["grace_dispatch_latency_seconds"].GetType(); typ != dto.MetricType_HISTOGRAM {
		t.Errorf("dispatch latency is a %v", typ)
	}
}

// The collector passes the client library's pedantic checks: no duplicate
// series, consistent descriptions.
func TestMetricsArePedanticallyValid(t *testing.T) {
	t.Parallel()
	clk := clock.NewFake(time.Now())
	eng, err := engine.New(engine.Default(), engine.Deps{Store: newMetricsStore(t), Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	events := eng.Subscribe(t.Context())
	if err := eng.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(eng.Stop)
	clk.Advance(engine.Default().Watchdog.Interval) // a check: SLOs and components reported
	for ev := range events {
		if ev.Kind == engine.EventTelemetry {
			break
		}
	}
	if len(eng.Health().SLOs) == 0 {
		t.Fatal("no SLO to report")
	}
	reg := prometheus.NewPedanticRegistry()
	if err := reg.Register(&engineCollector{api: eng}); err != nil {
		t.Fatal(err)
	}
	if _, err := reg.Gather(); err != nil {
		t.Fatal(err)
	}
	// A series that appears after registration (a paused type's) is of a
	// description the collector gave when registered.
	if err := eng.PauseType(t.Context(), "alice", "generate_summary", "rollout"); err != nil {
		t.Fatal(err)
	}
	if err := eng.PauseActor(t.Context(), "alice", "agent.runaway", "quarantine"); err != nil {
		t.Fatal(err)
	}
	fams, err := reg.Gather()
	if err != nil {
		t.Fatalf("after a type and an actor pause: %v", err)
	}
	for name, label := range map[string]string{"grace_type_paused_waiting": "generate_summary", "grace_actor_paused_waiting": "agent.runaway"} {
		if !slices.ContainsFunc(fams, func(f *dto.MetricFamily) bool {
			return f.GetName() == name && len(f.Metric) == 1 && f.Metric[0].GetLabel()[0].GetValue() == label
		}) {
			t.Errorf("no %s{%q} after the pause", name, label)
		}
	}
}

func newMetricsStore(t *testing.T) *enginetest.Store {
	st := enginetest.NewStore(64)
	t.Cleanup(func() { _ = st.Close() })
	return st
}

// snapshotOnly is an operator API without MetricsSource (a remote engine).
type snapshotOnly struct{ engine.OperatorAPI }

// Its snapshot has two abandoned handlers still running, of three.
func (snapshotOnly) Snapshot() engine.Snapshot {
	return engine.Snapshot{QueueDepth: 7, Layer2: engine.Layer2Facts{HandlersAbandoned: 3,
		RunawayHandlers: []engine.RunawayHandler{{IntentID: "int_a", Type: "deploy_model"}, {IntentID: "int_b", Type: "deploy_model"}}}}
}

// Without the engine's histograms /metrics still serves the snapshot's
// figures, and still parses.
func TestMetricsFromASnapshotOnly(t *testing.T) {
	t.Parallel()
	fams := scrape(t, NewHandler(snapshotOnly{}, Options{Token: "secret"}))
	for name, want := range map[string]float64{"grace_queue_depth": 7, "grace_handlers_abandoned_total": 3, "grace_runaway_handlers": 2} {
		if v := value(t, fams, name); v != want {
			t.Fatalf("%s = %v, want %v", name, v, want)
		}
	}
	if v := value(t, fams, "grace_dispatch_latency_seconds"); v != 0 {
		t.Fatalf("empty histogram has %v samples", v)
	}
}

// retentionOnly is an operator API whose watchdog reports a retention
// component that has pruned.
type retentionOnly struct{ engine.OperatorAPI }

func (retentionOnly) Snapshot() engine.Snapshot {
	return engine.Snapshot{Health: engine.HealthReport{Components: []watchdog.ComponentReport{{
		Name: engine.ComponentRetention, Status: watchdog.Warn, Ready: true,
		Metrics: map[string]float64{"retention_pruned_entries": 2119351, "retention_anchor_seq": 2119351, "retention_failed_in_a_row": 1},
	}}}}
}

// With retention on, /metrics says how much was pruned, where the chain
// starts and whether prunes are failing, for an alert rule on the disk.
func TestRetentionMetrics(t *testing.T) {
	t.Parallel()
	fams := scrape(t, NewHandler(retentionOnly{}, Options{Token: "secret"}))
	for name, want := range map[string]float64{"grace_retention_pruned_entries_total": 2119351, "grace_retention_anchor_seq": 2119351,
		"grace_retention_failed_prunes": 1} {
		if v := value(t, fams, name); v != want {
			t.Errorf("%s = %v, want %v", name, v, want)
		}
	}
	if typ := fams["grace_retention_pruned_entries_total"].GetType(); typ != dto.MetricType_COUNTER {
		t.Errorf("pruned entries is a %v", typ)
	}
	if fams := scrape(t, NewHandler(snapshotOnly{}, Options{Token: "secret"})); fams["grace_retention_anchor_seq"] != nil {
		t.Error("retention metrics without retention")
	}
}

// TestRequestMetrics: /metrics counts the API's requests by route pattern
// and status code, and times them by route: an unknown path is counted as
// unmatched (probing cannot grow the labels), a held ?wait= read apart from
// plain reads, and the event stream is counted but not timed.
func TestRequestMetrics(t *testing.T) {
	t.Parallel()
	b := setup(t, Options{})
	b.call(t, "POST", "/v1/intents", `{"type":"query_knowledge","actor":"a"}`)
	var sub SubmitResponse
	b.call(t, "POST", "/v1/intents", `{"type":"query_knowledge","actor":"a"}`).decode(t, &sub)
	b.call(t, "POST", "/v1/intents", `{"type":`)
	b.call(t, "GET", "/v1/intents/"+sub.ID, "")
	b.call(t, "GET", "/v1/intents/"+sub.ID+"?wait=10ms", "")
	b.call(t, "GET", "/v1/no-such-route-1", "")
	b.call(t, "GET", "/v1/no-such-route-2", "")
	b.call(t, "GET", "/v1/intents", "", "Authorization", "Bearer forged")
	fams := scrape(t, b.srv.Config.Handler)
	for _, c := range []struct {
		route, code string
		want        float64
	}{
		{"POST /v1/intents", "202", 2},
		{"POST /v1/intents", "400", 1},
		{"GET /v1/intents/{id}", "200", 1},
		{waitRoute, "200", 1},
		{unmatchedRoute, "404", 2},
		{"GET /v1/intents", "401", 1},
	} {
		if v := value(t, fams, "grace_http_requests_total", "route", c.route, "code", c.code); v != c.want {
			t.Errorf("requests %s %s = %v, want %v", c.route, c.code, v, c.want)
		}
	}
	if v := value(t, fams, "grace_http_request_duration_seconds", "route", "POST /v1/intents"); v != 3 {
		t.Errorf("timed submissions = %v, want 3", v)
	}
	reg := prometheus.NewPedanticRegistry()
	for _, c := range newRequestMetrics().collectors() {
		if err := reg.Register(c); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := reg.Gather(); err != nil {
		t.Fatal(err)
	}
}

// The store's collector passes the pedantic checks, and sends each file's
// size under its name.
func TestStoreMetrics(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewPedanticRegistry()
	read := func() StoreFigures {
		return StoreFigures{GroupCommits: 4, Changes: 9, Records: 12, IndexLag: 2, FileBytes: map[string]int64{"wal": 4096, "db": 8192}}
	}
	if err := reg.Register(storeCollector{read: read}); err != nil {
		t.Fatal(err)
	}
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, f := range fams {
		for _, m := range f.Metric {
			name := f.GetName()
			if len(m.GetLabel()) > 0 {
				name += "{" + m.GetLabel()[0].GetValue() + "}"
			}
			got[name] = m.GetCounter().GetValue() + m.GetGauge().GetValue()
		}
	}
	want := map[string]float64{"grace_store_group_commits_total": 4, "grace_store_changes_total": 9, "grace_store_records_total": 12,
		"grace_store_failed_batches_total": 0, "grace_store_index_lag": 2, "grace_store_file_bytes{db}": 8192, "grace_store_file_bytes{wal}": 4096}
	if !maps.Equal(got, want) {
		t.Fatalf("store metrics = %v\nwant %v", got, want)
	}
}
