package engine

import (
	"strings"
	"testing"
	"time"

	"grace/engine/worker"
)

func TestDefaultConfigIsValid(t *testing.T) {
	t.Parallel()
	if err := Default().Validate(); err != nil {
		t.Fatalf("Default().Validate() = %v", err)
	}
}

func TestValidateNamesTheKey(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		edit func(*Config)
		want string
	}{
		{func(c *Config) { c.HTM.WarnDepth = 6000 }, "htm.warn_depth (6000) must be below htm.critical_depth (5000)"},
		{func(c *Config) { c.HTM.CriticalDepth = 20000 }, "htm.critical_depth (20000) must not exceed htm.capacity (10000)"},
		{func(c *Config) { c.HTM.Capacity = 0 }, "htm.capacity (0) must be at least 1"},
		{func(c *Config) { c.Workers.Count = 0 }, "workers.count must be at least 1"},
		{func(c *Config) { c.Workers.MaxAttempts = 0 }, "workers.max_attempts must be at least 1"},
		{func(c *Config) { c.Workers.TaskTimeout = 0 }, "workers.task_timeout (0s) must be positive"},
		{func(c *Config) { c.Workers.BackoffMax = time.Millisecond }, "workers.backoff_max (1ms) must not be below workers.backoff_base"},
		{func(c *Config) { c.Store.Synchronous = "OFF" }, `store.synchronous ("OFF") must be FULL or NORMAL`},
		{func(c *Config) { c.Store.BatchWait = -time.Second }, "store.batch_wait (-1s) must be positive"},
		{func(c *Config) { c.Store.UpdateWait = -time.Millisecond }, "store.update_wait (-1ms) must be from 0 (off) to 1s"},
		{func(c *Config) { c.Store.UpdateWait = 2 * time.Second }, "store.update_wait (2s) must be from 0 (off) to 1s"},
		{func(c *Config) { c.Store.BatchMax = 0 }, "store.batch_max (0) must be at least 1"},
		{func(c *Config) { c.Store.BatchMax = 70000 }, "store.batch_max (70000) must be at most 65536"},
		{func(c *Config) { c.API.Listen = "localhost" }, `api.listen ("localhost") must be host:port or empty`},
		{func(c *Config) { c.API.Listen = "127.0.0.1:99999" }, `api.listen ("127.0.0.1:99999") must be host:port or empty`},
		{func(c *Config) { c.API.Server = "ftp://x" }, "api.server"},
		{func(c *Config) { c.API.MaxConnections = 0 }, "api.max_connections (0) must be positive"},
		{func(c *Config) { c.API.MaxStreams = 0 }, "api.max_streams (0) must be positive"},
		{func(c *Config) { c.API.MaxStreamsPerIdentity = -1 }, "api.max_streams_per_identity (-1) must be positive"},
		{func(c *Config) { c.API.MaxStreams = 1024 }, "api.max_streams (1024) must be below api.max_connections (1024): each stream holds a connection"},
		{func(c *Config) { c.API.MaxConnections = 100 }, "api.max_streams (256) must be below api.max_connections (100)"},
		{func(c *Config) { c.API.MaxStreamsPerIdentity = 300 }, "api.max_streams_per_identity (300) must not be above api.max_streams (256)"},
		{func(c *Config) { c.Safeguards["warp_drive"] = SafeguardConfig{} }, "safeguards.warp_drive is not a known safeguard"},
		{func(c *Config) { c.Cortex.Mix["query_knowledge"] = -1 }, "cortex.mix.query_knowledge (-1) must be a weight of zero or more"},
		{func(c *Config) { c.Cortex.Rate = 0 }, "cortex.rate must be positive when cortex.enabled is true"},
		{func(c *Config) { c.Intake.MaxPayloadBytes = 0 }, "intake.max_payload_bytes (0) must be positive"},
		{func(c *Config) { c.Approvals.Timeout = 0 }, "approvals.timeout (0s) must be positive"},
		{func(c *Config) { c.Log.Level = "loud" }, `log.level ("loud") must be one of`},
		{func(c *Config) { c.DB = "" }, "db must not be empty"},
		{func(c *Config) { c.Console.Refresh = 0 }, "console.refresh (0s) must be positive"},
		// Every key that is how often a loop runs has the same floor: 1ns spun cores.
		{func(c *Config) { c.Kernels.HeartbeatInterval = time.Nanosecond }, "kernels.heartbeat_interval (1ns) must be at least 10ms (it is how often a loop runs)"},
		{func(c *Config) { c.Watchdog.ReadinessPoll = time.Nanosecond }, "watchdog.readiness_poll (1ns) must be at least 10ms (it is how often a loop runs)"},
		{func(c *Config) { c.Mesh.EpisodeQuiet = time.Microsecond }, "mesh.episode_quiet (1µs) must be at least 10ms (it is how often a loop runs)"},
		{func(c *Config) { c.Policy.AlertInterval = time.Millisecond }, "policy.alert_interval (1ms) must be at least 10ms (it is how often a loop runs)"},
		{func(c *Config) { c.Backend.NATS.HeartbeatInterval = time.Nanosecond }, "backend.nats.heartbeat_interval (1ns) must be at least 10ms (it is how often a loop runs)"},
		{func(c *Config) { c.Governance.Tiers["tier_9"] = []string{"x"} }, "governance.tiers.tier_9"},
		{func(c *Config) { c.Handlers["query_knowledge"] = worker.HandlerConfig{Kind: "magic"} }, "handlers.query_knowledge.kind"},
	} {
		t.Run(tc.want, func(t *testing.T) {
			t.Parallel()
			cfg := Default()
			cfg.Safeguards = map[string]SafeguardConfig{}
			cfg.Cortex.Mix = map[string]float64{"query_knowledge": 1}
			cfg.Governance.Tiers = map[string][]string{"tier_2": {"query_knowledge"}}
			cfg.Handlers = map[string]worker.HandlerConfig{"default": {Kind: "noop"}}
			tc.edit(&cfg)
			err := cfg.Validate()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Validate() = %v, want it to say %q", err, tc.want)
			}
		})
	}
}

func TestValidateReportsEveryProblem(t *testing.T) {
	t.Parallel()
	cfg := Default()
	cfg.Workers.Count = 0
	cfg.Intake.MaxPayloadBytes = -1
	cfg.Store.Synchronous = "fast"
	err := cfg.Validate()
	for _, key := range []string{"workers.count", "intake.max_payload_bytes", "store.synchronous"} {
		if err == nil || !strings.Contains(err.Error(), key) {
			t.Fatalf("Validate() = %v, want it to name %s", err, key)
		}
	}
}

func TestNewRefusesAnInvalidConfig(t *testing.T) {
	t.Parallel()
	if _, err := New(testConfig(), Deps{}); err == nil || !strings.Contains(err.Error(), "Store is required") {
		t.Fatalf("New without a store = %v", err)
	}
	cfg := testConfig()
	cfg.HTM.WarnDepth = 100
	b := setup(t) // for a store
	if _, err := New(cfg, Deps{Store: b.store}); err == nil || !strings.Contains(err.Error(), "htm.warn_depth") {
		t.Fatalf("New = %v, want the htm.warn_depth problem", err)
	}
}
