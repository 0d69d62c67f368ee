package engine

import (
	"time"

	"grace/engine/governance"
	"grace/engine/kernel"
	"grace/engine/mesh"
	"grace/engine/policy"
	"grace/engine/watchdog"
	"grace/engine/worker"
)

// Config is everything the engine reads from config.yaml. The mapstructure
// tags are the config keys; Default returns the documented defaults.
type Config struct {
	// DB is the SQLite database path; its directory is the data folder
	// (signing key, audit checkpoints, logs, local token).
	DB         string            `mapstructure:"db"`
	Log        LogConfig         `mapstructure:"log"`
	API        APIConfig         `mapstructure:"api"`
	Store      StoreConfig       `mapstructure:"store"`
	Intake     IntakeConfig      `mapstructure:"intake"`
	Governance governance.Config `mapstructure:"governance"`
	Approvals  ApprovalsConfig   `mapstructure:"approvals"`
	HTM        HTMConfig         `mapstructure:"htm"`
	Workers    WorkersConfig     `mapstructure:"workers"`
	Scheduler  SchedulerConfig   `mapstructure:"scheduler"`
	Hub        HubConfig         `mapstructure:"hub"`
	// Watchdog is the Layer 2 watchdog: interval, readiness, thresholds,
	// SLOs, retention.
	Watchdog watchdog.Config `mapstructure:"watchdog"`
	// Mesh is the trigger mesh, Policy the event policy engine, Kernels
	// the Layer 1 control plane (layers.go).
	Mesh    mesh.Config   `mapstructure:"mesh"`
	Policy  policy.Config `mapstructure:"policy"`
	Kernels kernel.Config `mapstructure:"kernels"`
	// Handlers maps an intent type to how it is executed; "default" is used
	// for types without an entry.
	Handlers   map[string]worker.HandlerConfig `mapstructure:"handlers"`
	Cortex     CortexConfig                    `mapstructure:"cortex"`
	Chaos      ChaosConfig                     `mapstructure:"chaos"`
	Safeguards map[string]SafeguardConfig      `mapstructure:"safeguards"`
	Console    ConsoleConfig                   `mapstructure:"console"`
	// Identities are the operators and agents the HTTP API knows by token.
	// With none, a local operator token is generated into the data folder.
	Identities []IdentityConfig `mapstructure:"identities"`
	// Masking hides payload and context values from records and read views.
	Masking MaskingConfig `mapstructure:"masking"`
	// Backend chooses how released tasks reach workers: in process
	// (memory) or over NATS JetStream (config_backend.go).
	Backend BackendConfig `mapstructure:"backend"`
	// Notify is the outgoing notifications: webhooks told of alerts and
	// of intents waiting for approval (config_notify.go).
	Notify NotifyConfig `mapstructure:"notify"`
	// Retention prunes old records (config_retention.go).
	Retention RetentionConfig `mapstructure:"retention"`
}

// LogConfig sets up log/slog output (a file in the data folder by default).
type LogConfig struct {
	Level string `mapstructure:"level"` // debug, info, warn, error
	File  string `mapstructure:"file"`  // relative paths are in the data folder
}

// APIConfig is the HTTP API listener.
type APIConfig struct {
	Listen       string `mapstructure:"listen"`         // host:port; empty disables the API in the console
	Token        string `mapstructure:"token"`          // bearer token; empty: generated into the data folder
	MaxBodyBytes int64  `mapstructure:"max_body_bytes"` // request body limit
	Server       string `mapstructure:"server"`         // URL the CLI talks to
	// Slow clients are cut off: the request headers must arrive within
	// ReadHeaderTimeout and the whole request within ReadTimeout; an
	// answer (an event stream: each event) must be written within
	// WriteTimeout; an idle keep-alive connection closes after IdleTimeout.
	ReadHeaderTimeout time.Duration `mapstructure:"read_header_timeout"`
	ReadTimeout       time.Duration `mapstructure:"read_timeout"`
	WriteTimeout      time.Duration `mapstructure:"write_timeout"`
	IdleTimeout       time.Duration `mapstructure:"idle_timeout"`
	// MaxConnections caps the server's open connections (at it, a new one
	// closes the longest-idle keep-alive connection, or waits while all are
	// busy), well below the process's open-file limit so
	// that the engine's own files are never starved; MaxStreams caps the
	// open event streams (503 past it) and MaxStreamsPerIdentity one
	// identity's (429 past it).
	MaxConnections        int `mapstructure:"max_connections"`
	MaxStreams            int `mapstructure:"max_streams"`
	MaxStreamsPerIdentity int `mapstructure:"max_streams_per_identity"`
}

// StoreConfig tunes the SQLite writer.
type StoreConfig struct {
	Synchronous        string        `mapstructure:"synchronous"`         // FULL (default) or NORMAL
	BatchMax           int           `mapstructure:"batch_max"`           // changes per group commit
	BatchWait          time.Duration `mapstructure:"batch_wait"`          // longest wait to fill a batch
	UpdateWait         time.Duration `mapstructure:"update_wait"`         // longest the workers' updates wait to share a commit
	IndexInterval      time.Duration `mapstructure:"index_interval"`      // full-text catch-up cadence
	CheckpointInterval time.Duration `mapstructure:"checkpoint_interval"` // signed audit checkpoints
}

// IntakeConfig bounds what an agent may submit.
type IntakeConfig struct {
	MaxPayloadBytes int `mapstructure:"max_payload_bytes"`
}

// ApprovalsConfig governs Tier 0 approvals.
type ApprovalsConfig struct {
	Timeout time.Duration `mapstructure:"timeout"` // pending longer than this expires
}

// HTMConfig is the HTM queue.
type HTMConfig struct {
	Capacity      int `mapstructure:"capacity"`       // bound; submissions past it are refused
	WarnDepth     int `mapstructure:"warn_depth"`     // seed: 1000
	CriticalDepth int `mapstructure:"critical_depth"` // seed: 5000
	// RateLimit bounds intake per actor and overall (htm_rate_limit).
	RateLimit RateLimitConfig `mapstructure:"rate_limit"`
	// Shedding drops stale low-priority work past the critical depth
	// (htm_load_shedding).
	Shedding SheddingConfig `mapstructure:"shedding"`
}

// MaxWorkers bounds workers.count and workers.max_count: each worker is a
// goroutine the supervisor pings, and a pool of 10^8 took 24 GiB and
// stopped answering signals before this bound refused it.
const MaxWorkers = 10_000

// WorkersConfig is the worker pool.
type WorkersConfig struct {
	Count       int           `mapstructure:"count"`
	TaskTimeout time.Duration `mapstructure:"task_timeout"`
	MaxAttempts int           `mapstructure:"max_attempts"`
	BackoffBase time.Duration `mapstructure:"backoff_base"`
	BackoffMax  time.Duration `mapstructure:"backoff_max"`
	// MaxCount is the most workers the hub may scale the pool to; Count is
	// the least.
	MaxCount int `mapstructure:"max_count"`
	// HeartbeatInterval is how often the supervisor pings every worker;
	// one that leaves HeartbeatMisses pings in a row unanswered is declared
	// dead (worker_reassignment then reroutes its task).
	HeartbeatInterval time.Duration `mapstructure:"heartbeat_interval"`
	HeartbeatMisses   int           `mapstructure:"heartbeat_misses"`
	// AbandonAfter is how long a handler told to stop (its timeout ran
	// out, its intent was cancelled, its worker was lost) may run on
	// before handler_abandonment gives up waiting for it: its worker is
	// freed, its intent fails without a retry, and the handler is watched
	// until it returns. It also bounds how long Stop waits for handlers.
	AbandonAfter time.Duration `mapstructure:"abandon_after"`
}

// CortexConfig is the demo load generator.
type CortexConfig struct {
	Enabled bool    `mapstructure:"enabled"`
	Rate    float64 `mapstructure:"rate"` // intents per second
	// Mix weights intent types; types absent are not generated.
	Mix map[string]float64 `mapstructure:"mix"`
}

// ChaosConfig configures the chaos library.
type ChaosConfig struct {
	ScenariosDir string `mapstructure:"scenarios_dir"`
	// KeepRuns is how many runs' record databases are kept in the data
	// folder (older ones are removed; their results stay in history).
	KeepRuns int `mapstructure:"keep_runs"`
	// AbortOnCritical halts a run when the watchdog goes critical on a
	// component the scenario does not expect to stress.
	AbortOnCritical bool `mapstructure:"abort_on_critical"`
	// Loop is the autonomous chaos loop.
	Loop ChaosLoopConfig `mapstructure:"loop"`
}

// ChaosLoopConfig configures the autonomous chaos loop.
type ChaosLoopConfig struct {
	// Enabled runs the seed's daily schedule.
	Enabled bool `mapstructure:"enabled"`
	// EscalateAfter is the consecutive passes after which a scenario's
	// difficulty rises.
	EscalateAfter int `mapstructure:"escalate_after"`
	// MaxDifficulty caps escalation.
	MaxDifficulty int `mapstructure:"max_difficulty"`
	// Live runs the loop's scenarios against the live engine instead of
	// isolated instances.
	Live bool `mapstructure:"live"`
	// PlaybooksDir is where the loop writes playbooks ("" means
	// chaos/playbooks in the data folder).
	PlaybooksDir string `mapstructure:"playbooks_dir"`
	// DeniedHold is how long after governance or an operator denies a
	// remediation the loop leaves that scenario's missing safeguard alone:
	// no new finding, no new proposal (0: propose again at the next
	// failing run).
	DeniedHold time.Duration `mapstructure:"denied_hold"`
}

// SafeguardConfig switches one safeguard.
type SafeguardConfig struct {
	Enabled bool `mapstructure:"enabled"`
}

// ConsoleConfig tunes the console.
type ConsoleConfig struct {
	Refresh time.Duration `mapstructure:"refresh"`
	// Keys maps a console action to the keys that trigger it
	// (DefaultConsoleKeys lists the actions and their defaults).
	Keys map[string][]string `mapstructure:"keys"`
	// Popups says whether a Tier 0 arrival pops up over the screen at
	// start (true, the default). False starts the console with popups off:
	// arrivals are named on the status line and wait in the Approvals
	// inbox. The operator turns them on and off with the popups key.
	Popups bool `mapstructure:"popups"`
}

// Default returns the configuration documented in config.yaml.
func Default() Config {
	return Config{
		DB:  "grace-data/grace.db",
		Log: LogConfig{Level: "info", File: "grace.log"},
		API: APIConfig{Listen: "127.0.0.1:7420", MaxBodyBytes: 1 << 20, Server: "http://127.0.0.1:7420",
			ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 30 * time.Second, WriteTimeout: 30 * time.Second, IdleTimeout: 2 * time.Minute,
			MaxConnections: 1024, MaxStreams: 256, MaxStreamsPerIdentity: 16},
		Store: StoreConfig{Synchronous: "FULL", BatchMax: 1024, BatchWait: 200 * time.Microsecond, UpdateWait: 5 * time.Millisecond,
			IndexInterval: 200 * time.Millisecond, CheckpointInterval: 5 * time.Second},
		Intake:     IntakeConfig{MaxPayloadBytes: 64 << 10},
		Governance: governance.Default(),
		Approvals:  ApprovalsConfig{Timeout: 24 * time.Hour},
		HTM: HTMConfig{Capacity: 10000, WarnDepth: 1000, CriticalDepth: 5000,
			RateLimit: defaultRateLimit(), Shedding: defaultShedding()},
		Workers: WorkersConfig{Count: 8, TaskTimeout: 30 * time.Second, MaxAttempts: 3,
			BackoffBase: 500 * time.Millisecond, BackoffMax: 30 * time.Second,
			MaxCount: 32, HeartbeatInterval: time.Second, HeartbeatMisses: 3,
			AbandonAfter: 10 * time.Second},
		Scheduler: defaultScheduler(),
		Hub:       defaultHub(),
		Watchdog:  watchdog.Default(),
		Mesh:      mesh.DefaultConfig(),
		Policy:    policy.DefaultConfig(),
		Kernels:   kernel.DefaultConfig(),
		Handlers:  worker.DefaultHandlers(),
		Cortex: CortexConfig{Enabled: true, Rate: 4, Mix: map[string]float64{
			"query_knowledge": 40, "generate_summary": 25, "schedule_task": 15,
			"execute_sandbox": 8, "deploy_model": 4, "modify_config": 3,
			"extend_grace": 2, "optimize_system": 2, "change_charter": 0.5, "grant_permissions": 0.5,
		}},
		Chaos: ChaosConfig{ScenariosDir: "", KeepRuns: 100, AbortOnCritical: true,
			Loop: ChaosLoopConfig{Enabled: false, EscalateAfter: 5, MaxDifficulty: 10, Live: false, PlaybooksDir: "",
				DeniedHold: 7 * 24 * time.Hour}},
		Safeguards: map[string]SafeguardConfig{
			"htm_rate_limit": {Enabled: true}, "htm_load_shedding": {Enabled: true},
			"mesh_backpressure": {Enabled: true}, "policy_cascade_limit": {Enabled: true},
			"worker_reassignment": {Enabled: true}, "scheduler_auto_resume": {Enabled: true},
			"kernel_auto_recovery": {Enabled: true}, "bus_acl": {Enabled: true},
			"crash_recovery": {Enabled: true}, "handler_abandonment": {Enabled: true},
		},
		Console:    ConsoleConfig{Refresh: time.Second, Keys: DefaultConsoleKeys(), Popups: true},
		Identities: []IdentityConfig{},
		Masking:    MaskingConfig{Fields: []string{"password", "token", "secret", "api_key"}},
		Backend:    defaultBackend(),
		Notify:     defaultNotify(),
		Retention:  defaultRetention(),
	}
}
