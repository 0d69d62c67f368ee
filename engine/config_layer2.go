package engine

import "time"

// The safeguards this package enforces, by their config names
// (safeguards.<name>.enabled).
const (
	// SafeguardRateLimit refuses submissions past htm.rate_limit.
	SafeguardRateLimit = "htm_rate_limit"
	// SafeguardLoadShedding sheds queued work matching
	// htm.shedding.criteria while the queue is at its critical depth.
	SafeguardLoadShedding = "htm_load_shedding"
	// SafeguardWorkerReassignment reroutes a dead worker's task and
	// refills the pool.
	SafeguardWorkerReassignment = "worker_reassignment"
	// SafeguardSchedulerAutoResume undoes a pause that outlasts
	// scheduler.auto_resume_after while work waits.
	SafeguardSchedulerAutoResume = "scheduler_auto_resume"
	// SafeguardHandlerAbandonment frees the worker of a handler that runs
	// on workers.abandon_after past being told to stop (see abandon.go).
	SafeguardHandlerAbandonment = "handler_abandonment"
)

// SafeguardEnabled reports whether the safeguard called name is on. A
// safeguard the config does not list is on (config.yaml: "unlisted
// safeguards stay on").
func (c Config) SafeguardEnabled(name string) bool {
	s, ok := c.Safeguards[name]
	return !ok || s.Enabled
}

// HandlerAbandonAfter is how long a handler told to stop is waited for
// before handler_abandonment gives up on it (workers.abandon_after), or
// zero, to wait for it however long, when that safeguard is off. A remote
// worker (grace worker) frees its slot by it.
func (c Config) HandlerAbandonAfter() time.Duration {
	if !c.SafeguardEnabled(SafeguardHandlerAbandonment) {
		return 0
	}
	return c.Workers.AbandonAfter
}

// RateLimitConfig is intake's token buckets (safeguards.htm_rate_limit):
// one shared by all actors and one per actor. A submission needs a token
// from both; Tier 4 intents (emergencies) need only their actor's.
type RateLimitConfig struct {
	GlobalRate  float64 `mapstructure:"global_rate"`  // submissions per second, all actors together
	GlobalBurst int     `mapstructure:"global_burst"` // submissions the shared bucket holds
	ActorRate   float64 `mapstructure:"actor_rate"`   // submissions per second per actor
	ActorBurst  int     `mapstructure:"actor_burst"`  // submissions one actor's bucket holds
}

// SheddingConfig is load shedding (safeguards.htm_load_shedding).
type SheddingConfig struct {
	// Criteria select what may be shed (see htm.ParseCriteria).
	Criteria string `mapstructure:"criteria"`
	// Interval is how often the queue depth is checked (and how often
	// rate-limit refusals are narrated).
	Interval time.Duration `mapstructure:"interval"`
	// MaxBatch bounds the intents shed by one decision.
	MaxBatch int `mapstructure:"max_batch"`
}

// SchedulerConfig is the dispatch loop's pause guard.
type SchedulerConfig struct {
	// AutoResumeAfter is how long a pause may last while work waits
	// before scheduler_auto_resume undoes it: the scheduler's or an intent
	// type's (PauseType), each on its own clock and counting only the
	// intents it holds. An actor's (PauseActor, a quarantine) is lifted by
	// a person only.
	AutoResumeAfter time.Duration `mapstructure:"auto_resume_after"`
}

// HubConfig is the unified logic hub's health loop.
type HubConfig struct {
	// Interval is how often the hub samples health facts.
	Interval time.Duration `mapstructure:"interval"`
	// CorrelationWindow is how long a reported Layer 1 fault stays a
	// candidate cause of Layer 2 trouble.
	CorrelationWindow time.Duration `mapstructure:"correlation_window"`
	// Scaling grows and shrinks the worker pool with the queue.
	Scaling ScalingConfig `mapstructure:"scaling"`
}

// ScalingConfig is how the hub scales the worker pool between
// workers.count and workers.max_count.
type ScalingConfig struct {
	Enabled bool `mapstructure:"enabled"`
	// Sustain is how long the queue must stay at or past its warn depth
	// (or below it, with idle workers) before the hub scales up (down).
	Sustain time.Duration `mapstructure:"sustain"`
	// Step is how many workers one decision adds or removes.
	Step int `mapstructure:"step"`
	// Cooldown is the least time between two scaling decisions.
	Cooldown time.Duration `mapstructure:"cooldown"`
}

func defaultRateLimit() RateLimitConfig {
	return RateLimitConfig{GlobalRate: 1000, GlobalBurst: 2000, ActorRate: 100, ActorBurst: 200}
}

func defaultShedding() SheddingConfig {
	return SheddingConfig{Criteria: "priority<5 and age>10m", Interval: time.Second, MaxBatch: 1000}
}

func defaultScheduler() SchedulerConfig {
	return SchedulerConfig{AutoResumeAfter: 2 * time.Minute}
}

func defaultHub() HubConfig {
	return HubConfig{Interval: 5 * time.Second, CorrelationWindow: 2 * time.Minute,
		Scaling: ScalingConfig{Enabled: true, Sustain: 30 * time.Second, Step: 2, Cooldown: time.Minute}}
}
