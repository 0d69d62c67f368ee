package engine

import (
	"math"
	"strings"
	"testing"
	"time"
)

func TestValidateNamesTheLayer2Key(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		edit func(*Config)
		want string
	}{
		{func(c *Config) { c.HTM.RateLimit.GlobalRate = 0 }, "htm.rate_limit.global_rate (0) must be a positive number"},
		{func(c *Config) { c.HTM.RateLimit.ActorRate = math.Inf(1) }, "htm.rate_limit.actor_rate (+Inf) must be a positive number"},
		{func(c *Config) { c.HTM.RateLimit.GlobalBurst = 0 }, "htm.rate_limit.global_burst (0) must be at least 1"},
		{func(c *Config) { c.HTM.RateLimit.ActorBurst = -1 }, "htm.rate_limit.actor_burst (-1) must be at least 1"},
		{func(c *Config) { c.HTM.Shedding.Criteria = "priority<5 or age>10m" }, "htm.shedding.criteria: criteria"},
		{func(c *Config) { c.HTM.Shedding.Criteria = "" }, "htm.shedding.criteria: criteria are empty"},
		{func(c *Config) { c.HTM.Shedding.Interval = 0 }, "htm.shedding.interval (0s) must be positive"},
		{func(c *Config) { c.HTM.Shedding.MaxBatch = 0 }, "htm.shedding.max_batch (0) must be at least 1"},
		{func(c *Config) { c.Workers.MaxCount = 4 }, "workers.max_count (4) must not be below workers.count (8)"},
		{func(c *Config) { c.Workers.MaxCount = MaxWorkers + 1 }, "workers.max_count (10001) must be at most 10000"},
		{func(c *Config) { c.Workers.Count, c.Workers.MaxCount = 100_000_000, 100_000_000 }, "workers.count (100000000) must be at most 10000"},
		{func(c *Config) { c.Workers.HeartbeatInterval = 0 }, "workers.heartbeat_interval (0s) must be positive"},
		{func(c *Config) { c.Workers.HeartbeatMisses = 0 }, "workers.heartbeat_misses (0) must be at least 1"},
		{func(c *Config) { c.Scheduler.AutoResumeAfter = -time.Second }, "scheduler.auto_resume_after (-1s) must be positive"},
		{func(c *Config) { c.Hub.Interval = 0 }, "hub.interval (0s) must be positive"},
		{func(c *Config) { c.Hub.CorrelationWindow = 0 }, "hub.correlation_window (0s) must be positive"},
		{func(c *Config) { c.Hub.Scaling.Sustain = 0 }, "hub.scaling.sustain (0s) must be positive"},
		{func(c *Config) { c.Hub.Scaling.Step = 0 }, "hub.scaling.step (0) must be at least 1"},
		{func(c *Config) { c.Hub.Scaling.Cooldown = -time.Second }, "hub.scaling.cooldown (-1s) must not be negative"},
	} {
		t.Run(tc.want, func(t *testing.T) {
			t.Parallel()
			cfg := Default()
			tc.edit(&cfg)
			if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Validate() = %v, want it to say %q", err, tc.want)
			}
		})
	}
}

func TestSafeguardEnabledDefaultsOn(t *testing.T) {
	t.Parallel()
	cfg := Default()
	cfg.Safeguards = map[string]SafeguardConfig{SafeguardLoadShedding: {Enabled: false}}
	if !cfg.SafeguardEnabled(SafeguardRateLimit) || cfg.SafeguardEnabled(SafeguardLoadShedding) {
		t.Fatal("an unlisted safeguard must be on and a listed one as set")
	}
}
