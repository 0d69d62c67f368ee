package httpapi

import (
	"testing"
	"time"

	"grace/engine"
	"grace/engine/clock"
	"grace/engine/enginetest"
	"grace/engine/intent"
	"grace/engine/worker"
)

// /metrics counts the alerts a silence mutes apart from the alerts firing,
// and the silences in force: an operator who silenced the queue's alert
// sees it still fires, and that nobody is told.
func TestMetricsCountSilencedAlerts(t *testing.T) {
	t.Parallel()
	st := enginetest.NewStore(64)
	t.Cleanup(func() { _ = st.Close() })
	cfg := engine.Default()
	cfg.Handlers = map[string]worker.HandlerConfig{"default": {Kind: worker.KindNoop}}
	cfg.HTM.WarnDepth, cfg.HTM.CriticalDepth = 2, 100
	clk := clock.NewFake(time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC))
	eng, err := engine.New(cfg, engine.Deps{Store: st, Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	events := eng.Subscribe(t.Context())
	if err := eng.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(eng.Stop)
	check := func() {
		t.Helper()
		clk.Advance(cfg.Watchdog.Interval)
		for ev := range events {
			if ev.Kind == engine.EventTelemetry {
				return
			}
		}
	}
	if err := eng.PauseScheduler(t.Context(), "alice", "hold the queue"); err != nil {
		t.Fatal(err)
	}
	for range 4 {
		if _, err := eng.Submit(t.Context(), intent.Submission{Type: "query_knowledge", Actor: "agent.m"}); err != nil {
			t.Fatal(err)
		}
	}
	check()
	h := NewHandler(eng, Options{Token: "secret"})
	fams := scrape(t, h)
	if got := value(t, fams, "grace_alerts_firing", "severity", "warn"); got < 1 {
		t.Fatalf("grace_alerts_firing{warn} = %v with 4 queued over a warn depth of 2, want at least 1", got)
	}
	if got := value(t, fams, "grace_alerts_silenced", "severity", "warn"); got != 0 {
		t.Fatalf("grace_alerts_silenced{warn} = %v before any silence, want 0", got)
	}
	if got := value(t, fams, "grace_alert_silences_active"); got != 0 {
		t.Fatalf("grace_alert_silences_active = %v, want 0", got)
	}

	if _, err := eng.SilenceAlerts(t.Context(), engine.SilenceRequest{Match: "*", For: time.Hour, Reason: "queue held on purpose", Operator: "alice"}); err != nil {
		t.Fatal(err)
	}
	check()
	fams = scrape(t, h)
	firing := value(t, fams, "grace_alerts_firing", "severity", "warn")
	if got := value(t, fams, "grace_alerts_silenced", "severity", "warn"); got != firing || got < 1 {
		t.Errorf("grace_alerts_silenced{warn} = %v, want every warn alert firing (%v) under a silence of *", got, firing)
	}
	if got := value(t, fams, "grace_alert_silences_active"); got != 1 {
		t.Errorf("grace_alert_silences_active = %v, want 1", got)
	}
}
