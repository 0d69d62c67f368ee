package engine

import (
	"strings"
	"time"
)

// The backends that carry the HTM queue's released work to workers.
const (
	// BackendMemory runs every task in this process (the default).
	BackendMemory = "memory"
	// BackendNATS publishes released tasks to a NATS JetStream work-queue
	// stream that `grace worker` processes pull from (package engine/dist).
	BackendNATS = "nats"
	// NATSEmbedded as backend.nats.url starts an in-process nats-server
	// with JetStream in the data folder.
	NATSEmbedded = "embedded"
)

// BackendConfig chooses how released tasks reach workers.
type BackendConfig struct {
	// Kind is "memory" (in-process workers) or "nats" (JetStream).
	Kind string     `mapstructure:"kind"`
	NATS NATSConfig `mapstructure:"nats"`
}

// NATSConfig is the JetStream backend (backend.kind: nats).
type NATSConfig struct {
	// URL is the server to connect to (nats://host:port, comma-separated
	// for a cluster), or "embedded" to start one in this process.
	URL string `mapstructure:"url"`
	// Listen is the embedded server's client address (loopback by
	// default; port 0 picks a free one).
	Listen string `mapstructure:"listen"`
	// StoreDir holds the embedded server's JetStream files; "" means
	// <data folder>/nats.
	StoreDir string `mapstructure:"store_dir"`
	// AckWait is how long a task may go unacknowledged (a worker sends
	// progress every third of it while it runs) before JetStream delivers
	// it again: the failover time for a worker that died.
	AckWait time.Duration `mapstructure:"ack_wait"`
	// MaxDeliver bounds deliveries of one attempt's message; past it the
	// attempt times out on the control plane and is retried as a new one.
	MaxDeliver int `mapstructure:"max_deliver"`
	// Replicas is the task stream's replication factor (1, or 3 on a
	// three-node cluster).
	Replicas int `mapstructure:"replicas"`
	// HeartbeatInterval is how often workers announce themselves; a worker
	// silent for two intervals is considered gone.
	HeartbeatInterval time.Duration `mapstructure:"heartbeat_interval"`
}

// defaultBackend is the backend part of Default.
func defaultBackend() BackendConfig {
	return BackendConfig{Kind: BackendMemory, NATS: NATSConfig{
		URL: NATSEmbedded, Listen: "127.0.0.1:4222", StoreDir: "",
		AckWait: 30 * time.Second, MaxDeliver: 5, Replicas: 1, HeartbeatInterval: time.Second,
	}}
}

// validateBackend checks the backend.* keys.
func (c Config) validateBackend(v *problems) {
	b := c.Backend
	v.check(b.Kind == BackendMemory || b.Kind == BackendNATS, "backend.kind (%q) must be memory or nats", b.Kind)
	n := b.NATS
	if n.URL != NATSEmbedded {
		ok := n.URL != ""
		for _, u := range strings.Split(n.URL, ",") {
			u = strings.TrimSpace(u)
			ok = ok && (strings.HasPrefix(u, "nats://") || strings.HasPrefix(u, "tls://")) && len(u) > len("nats://")
		}
		shown := strings.Split(n.URL, ",") // without a password or token
		for i, u := range shown {
			shown[i] = MaskURL(u)
		}
		v.check(ok, "backend.nats.url (%q) must be embedded or nats://host:port (comma-separated for a cluster)", strings.Join(shown, ","))
	}
	if err := checkHostPort(n.Listen); err != nil {
		v.add("backend.nats.listen (%q) must be host:port: %v", n.Listen, err)
	}
	v.check(n.AckWait >= time.Second, "backend.nats.ack_wait (%v) must be at least 1s", n.AckWait)
	v.check(n.MaxDeliver >= 2, "backend.nats.max_deliver (%d) must be at least 2 (one redelivery after a worker dies)", n.MaxDeliver)
	v.check(n.Replicas == 1 || n.Replicas == 3 || n.Replicas == 5, "backend.nats.replicas (%d) must be 1, 3 or 5", n.Replicas)
	v.tick("backend.nats.heartbeat_interval", n.HeartbeatInterval)
	v.check(n.AckWait > 2*n.HeartbeatInterval, "backend.nats.ack_wait (%v) must exceed two backend.nats.heartbeat_interval (%v)",
		n.AckWait, n.HeartbeatInterval)
}
