package watchdog

import (
	"grace/engine/clock"
	"strings"
	"testing"
	"time"
)

func TestDefaultIsValid(t *testing.T) {
	t.Parallel()
	if err := Default().Validate(); err != nil {
		t.Fatal(err)
	}
	if d := Default(); d.Interval != 15*time.Second || d.ReadinessTimeout != 30*time.Second || d.Mesh.MinSubscriptions != 5 || d.Scheduler.MinDispatchRate != 1 {
		t.Fatalf("the seed's figures: %+v", d)
	}
}

// Contradictory thresholds and unusable intervals are refused with the key
// named.
func TestValidateNamesTheKey(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		edit func(*Config)
		says string
	}{
		{func(c *Config) { c.Interval = -time.Second }, "watchdog.interval (-1s) must be positive"},
		{func(c *Config) { c.ReadinessTimeout = 0 }, "watchdog.readiness_timeout (0s) must be positive"},
		{func(c *Config) { c.ReadinessPoll = -1 }, "watchdog.readiness_poll"},
		{func(c *Config) { c.TelemetryRetention = -time.Hour }, "watchdog.telemetry_retention"},
		{func(c *Config) { c.Mesh.DropRateWarn = 200 }, "watchdog.mesh.drop_rate_warn (200) must not exceed watchdog.mesh.drop_rate_critical (100)"},
		{func(c *Config) { c.Policy.CutsWarn, c.Policy.CutsCritical = 10, 5 }, "watchdog.policy.cuts_warn (10) must not exceed watchdog.policy.cuts_critical (5)"},
		{func(c *Config) { c.Policy.FireRateCritical = 0 }, "watchdog.policy.fire_rate_critical (0) must be positive"},
		{func(c *Config) { c.Mesh.MinSubscriptions = -1 }, "watchdog.mesh.min_subscriptions"},
		{func(c *Config) { c.Scheduler.StallAfter = -time.Minute }, "watchdog.scheduler.stall_after"},
		{func(c *Config) { c.Scheduler.MinDispatchRate = -1 }, "watchdog.scheduler.min_dispatch_rate"},
		{func(c *Config) { c.SLO.Period = time.Minute }, "watchdog.slo.period (1m0s) must be at least 1h0m0s"},
		{func(c *Config) { c.SLO.DispatchLatency.Objective = 1 }, "watchdog.slo.dispatch_latency.objective (1) must be above 0 and below 1"},
		{func(c *Config) { c.SLO.IntakeErrors.Objective = 99 }, "watchdog.slo.intake_errors.objective"},
		{func(c *Config) { c.SLO.DispatchLatency.Threshold = 0 }, "watchdog.slo.dispatch_latency.threshold"},
	} {
		c := Default()
		tc.edit(&c)
		err := c.Validate()
		if err == nil || !strings.Contains(err.Error(), tc.says) {
			t.Errorf("error %v; want one saying %q", err, tc.says)
		}
	}
	// Every problem is reported, not only the first.
	c := Default()
	c.Interval, c.Mesh.DropRateWarn = 0, 1e9
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "watchdog.interval") || !strings.Contains(err.Error(), "drop_rate_warn") {
		t.Fatalf("both problems: %v", err)
	}
}

func TestNewRefusesBadComponents(t *testing.T) {
	t.Parallel()
	ok := Component{Name: "a", Check: func(time.Time) Result { return Result{Ready: true} }}
	for _, tc := range []struct {
		comps []Component
		slos  []*SLO
		says  string
	}{
		{[]Component{{Name: "", Check: ok.Check}}, nil, "no name"},
		{[]Component{{Name: "b"}}, nil, "b has no check"},
		{[]Component{ok, ok}, nil, "a is named twice"},
		{[]Component{ok}, []*SLO{NewSLO("lat", "zzz", "", 0.9, time.Hour)}, `SLO lat belongs to "zzz"`},
	} {
		if _, err := New(Default(), tc.comps, tc.slos, Options{Clock: nil}); err == nil {
			t.Errorf("no error for %+v", tc)
		}
		if _, err := New(Default(), tc.comps, tc.slos, Options{Clock: clock.NewFake(epoch)}); err == nil || !strings.Contains(err.Error(), tc.says) {
			t.Errorf("error %v; want %q", err, tc.says)
		}
	}
}
