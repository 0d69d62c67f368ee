package httpapi

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"grace/engine"
)

// /metrics counts finished chaos runs by state and shows the run in
// progress, from the chaos events alone.
func TestChaosMetrics(t *testing.T) {
	t.Parallel()
	api := newFake()
	h := NewHandler(api, Options{Token: testToken, Chaos: &fakeChaos{}})
	t.Cleanup(h.Close)
	waitFor(t, "the meter's subscription", func() bool { return api.subscribers() == 1 })
	metric := func(name string, labels ...string) func() float64 {
		return func() float64 { return value(t, scrape(t, h), name, labels...) }
	}
	running, passed, failed := metric("grace_chaos_running"), metric("grace_chaos_runs_total", "state", "passed"), metric("grace_chaos_runs_total", "state", "failed")
	if running() != 0 || passed() != 0 || metric("grace_chaos_runs_total", "state", "halted")() != 0 {
		t.Fatal("chaos metrics do not start at 0")
	}
	publish := func(run, phase, state string) {
		api.publish(engine.Event{Kind: engine.EventChaos, Chaos: &engine.ChaosProgress{RunID: run, Index: 1, Total: 1, Phase: phase, State: state}})
	}
	publish("r1", engine.ChaosPhaseInject, "")
	waitFor(t, "a run in progress", func() bool { return running() == 1 })
	publish("r1", engine.ChaosPhaseDone, engine.ChaosPassed)
	waitFor(t, "the run counted", func() bool { return passed() == 1 && running() == 0 })
	publish("r1", engine.ChaosPhaseDone, engine.ChaosPassed) // a repeat counts once
	publish("r2", engine.ChaosPhaseWatch, "")
	api.publish(engine.Event{Kind: "intent"}) // not chaos
	publish("r2", engine.ChaosPhaseDone, engine.ChaosFailed)
	waitFor(t, "the second run counted", func() bool { return failed() == 1 })
	if passed() != 1 || running() != 0 {
		t.Fatalf("passed %v running %v", passed(), running())
	}

	reg := prometheus.NewPedanticRegistry()
	if err := reg.Register(&engineCollector{api: api, chaos: h.meter}); err != nil {
		t.Fatal(err)
	}
	if _, err := reg.Gather(); err != nil {
		t.Fatal(err)
	}
	h.Close()
	waitFor(t, "Close to end the meter's subscription", func() bool { return api.subscribers() == 0 })
}

// Without a chaos service there are no chaos metrics and no subscription.
func TestNoChaosMetricsWithoutAService(t *testing.T) {
	t.Parallel()
	api := newFake()
	fams := scrape(t, NewHandler(api, Options{Token: testToken}))
	if fams["grace_chaos_running"] != nil || fams["grace_chaos_runs_total"] != nil || api.subscribers() != 0 {
		t.Fatal("chaos metrics without a chaos service")
	}
}
