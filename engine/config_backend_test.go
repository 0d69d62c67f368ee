package engine

import (
	"strings"
	"testing"
	"time"
)

func TestValidateBackendNamesTheKey(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		edit func(*Config)
		want string
	}{
		{func(c *Config) { c.Backend.Kind = "kafka" }, `backend.kind ("kafka") must be memory or nats`},
		{func(c *Config) { c.Backend.NATS.URL = "localhost:4222" }, `backend.nats.url ("localhost:4222") must be embedded or nats://host:port`},
		{func(c *Config) { c.Backend.NATS.URL = "nats://a:1,http://b" }, "backend.nats.url"},
		{func(c *Config) { c.Backend.NATS.Listen = "4222" }, `backend.nats.listen ("4222") must be host:port`},
		{func(c *Config) { c.Backend.NATS.AckWait = 500 * time.Millisecond }, "backend.nats.ack_wait (500ms) must be at least 1s"},
		{func(c *Config) { c.Backend.NATS.MaxDeliver = 1 }, "backend.nats.max_deliver (1) must be at least 2"},
		{func(c *Config) { c.Backend.NATS.Replicas = 2 }, "backend.nats.replicas (2) must be 1, 3 or 5"},
		{func(c *Config) { c.Backend.NATS.HeartbeatInterval = 0 }, "backend.nats.heartbeat_interval (0s) must be positive"},
		{func(c *Config) { c.Backend.NATS.HeartbeatInterval = 20 * time.Second }, "backend.nats.ack_wait (30s) must exceed two backend.nats.heartbeat_interval (20s)"},
	} {
		c := Default()
		tc.edit(&c)
		err := c.Validate()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Validate() = %v, want it to contain %q", err, tc.want)
		}
	}
	good := Default()
	good.Backend.Kind, good.Backend.NATS.URL = BackendNATS, "nats://10.0.0.1:4222, nats://10.0.0.2:4222"
	if err := good.Validate(); err != nil {
		t.Errorf("a cluster URL list: %v", err)
	}
}
