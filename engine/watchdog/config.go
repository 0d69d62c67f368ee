package watchdog

import (
	"errors"
	"fmt"
	"math"
	"time"
)

// Config is the watchdog's section of config.yaml (key "watchdog"). The
// HTM queue's depth thresholds are not here: they are htm.warn_depth and
// htm.critical_depth, shared with the queue itself.
type Config struct {
	// Interval is how often every component is checked, alerts are
	// updated and a telemetry snapshot is published (seed: 15s).
	Interval time.Duration `mapstructure:"interval"`
	// ReadinessTimeout is how long the components may take to become ready
	// at boot before the watchdog names those that did not (seed: 30s).
	ReadinessTimeout time.Duration `mapstructure:"readiness_timeout"`
	// ReadinessPoll is how often readiness is probed until then.
	ReadinessPoll time.Duration `mapstructure:"readiness_poll"`
	// TelemetryRetention is how long telemetry snapshots are kept.
	TelemetryRetention time.Duration `mapstructure:"telemetry_retention"`
	// AlertRetention is how long resolved alerts are kept.
	AlertRetention time.Duration `mapstructure:"alert_retention"`

	HTM       HTMThresholds       `mapstructure:"htm"`
	Mesh      MeshThresholds      `mapstructure:"mesh"`
	Policy    PolicyThresholds    `mapstructure:"policy"`
	Scheduler SchedulerThresholds `mapstructure:"scheduler"`
	SLO       SLOConfig           `mapstructure:"slo"`
}

// HTMThresholds grade the HTM orchestrator beyond its queue depth.
type HTMThresholds struct {
	// MinHealthyWorkers: fewer healthy workers than this is critical; any
	// unhealthy worker is a warning.
	MinHealthyWorkers int `mapstructure:"min_healthy_workers"`
}

// MeshThresholds grade the trigger mesh.
type MeshThresholds struct {
	// MinSubscriptions: fewer is a warning (seed: 5); none is critical.
	MinSubscriptions int `mapstructure:"min_subscriptions"`
	// DropRateWarn and DropRateCritical grade backpressure: events dropped
	// per second over the last interval.
	DropRateWarn     float64 `mapstructure:"drop_rate_warn"`
	DropRateCritical float64 `mapstructure:"drop_rate_critical"`
}

// PolicyThresholds grade the event policy engine.
type PolicyThresholds struct {
	// FireRateWarn and FireRateCritical grade policy fires per second over
	// the last interval.
	FireRateWarn     float64 `mapstructure:"fire_rate_warn"`
	FireRateCritical float64 `mapstructure:"fire_rate_critical"`
	// CutsWarn and CutsCritical grade the cascades and cycles cut in one
	// interval (recursion the engine had to stop).
	CutsWarn     int `mapstructure:"cuts_warn"`
	CutsCritical int `mapstructure:"cuts_critical"`
}

// SchedulerThresholds grade the scheduler.
type SchedulerThresholds struct {
	// MinDispatchRate is the tasks per second the scheduler must dispatch
	// while work waits (seed: 1); an empty queue is no breach.
	MinDispatchRate float64 `mapstructure:"min_dispatch_rate"`
	// StallAfter: nothing dispatched for this long while work waits and a
	// worker is idle is critical.
	StallAfter time.Duration `mapstructure:"stall_after"`
	// MaxPause: a paused scheduler is a warning, critical once the pause
	// has lasted this long while work waits.
	MaxPause time.Duration `mapstructure:"max_pause"`
}

// SLOConfig sets the service-level objectives whose error budgets are
// watched with multi-window burn-rate alerts.
type SLOConfig struct {
	// Period is the SLO period the error budget spans. The burn-rate
	// windows scale with it: for 720h they are the SRE workbook's 1h/5m and
	// 6h/30m (critical) and 1d/2h and 3d/6h (warning).
	Period          time.Duration      `mapstructure:"period"`
	DispatchLatency LatencyObjective   `mapstructure:"dispatch_latency"`
	IntakeErrors    AvailabilityTarget `mapstructure:"intake_errors"`
}

// LatencyObjective is "Objective of events take no longer than Threshold".
type LatencyObjective struct {
	Objective float64       `mapstructure:"objective"`
	Threshold time.Duration `mapstructure:"threshold"`
}

// AvailabilityTarget is "Objective of events succeed".
type AvailabilityTarget struct {
	Objective float64 `mapstructure:"objective"`
}

// Default returns the seed's watchdog: a 15 s interval, 30 s readiness,
// minimum 5 mesh subscriptions and 1 dispatch per second while work waits.
func Default() Config {
	return Config{
		Interval:           15 * time.Second,
		ReadinessTimeout:   30 * time.Second,
		ReadinessPoll:      250 * time.Millisecond,
		TelemetryRetention: 168 * time.Hour,
		AlertRetention:     720 * time.Hour,
		HTM:                HTMThresholds{MinHealthyWorkers: 1},
		Mesh:               MeshThresholds{MinSubscriptions: 5, DropRateWarn: 1, DropRateCritical: 100},
		Policy:             PolicyThresholds{FireRateWarn: 1000, FireRateCritical: 10000, CutsWarn: 1, CutsCritical: 50},
		Scheduler:          SchedulerThresholds{MinDispatchRate: 1, StallAfter: time.Minute, MaxPause: 5 * time.Minute},
		SLO: SLOConfig{
			Period:          720 * time.Hour,
			DispatchLatency: LatencyObjective{Objective: 0.99, Threshold: 5 * time.Second},
			IntakeErrors:    AvailabilityTarget{Objective: 0.999},
		},
	}
}

// MinInterval is the shortest watchdog.interval: each sample writes a
// telemetry row, and "1ns" (a slip for "1s") grew the database by 4 MB a
// second.
const MinInterval = 100 * time.Millisecond

// minPeriod is the shortest SLO period: its shortest window is then 0.4 s.
const minPeriod = time.Hour

// Validate checks every key and returns all the problems found, each
// naming its full key ("watchdog.mesh.drop_rate_warn (200) must not exceed
// watchdog.mesh.drop_rate_critical (100)"), joined with errors.Join; nil
// when c is usable. Thresholds that contradict each other (a warning above
// its critical level) and negative or zero intervals are refused.
func (c Config) Validate() error {
	var v problems
	v.positive("watchdog.interval", c.Interval)
	v.check(c.Interval <= 0 || c.Interval >= MinInterval,
		"watchdog.interval (%v) must be at least %v: every sample stores a telemetry snapshot", c.Interval, MinInterval)
	v.positive("watchdog.readiness_timeout", c.ReadinessTimeout)
	v.positive("watchdog.readiness_poll", c.ReadinessPoll)
	v.positive("watchdog.telemetry_retention", c.TelemetryRetention)
	v.positive("watchdog.alert_retention", c.AlertRetention)

	v.check(c.HTM.MinHealthyWorkers >= 0, "watchdog.htm.min_healthy_workers (%d) must not be negative", c.HTM.MinHealthyWorkers)

	m := c.Mesh
	v.check(m.MinSubscriptions >= 0, "watchdog.mesh.min_subscriptions (%d) must not be negative", m.MinSubscriptions)
	v.pair("watchdog.mesh.drop_rate", m.DropRateWarn, m.DropRateCritical)

	p := c.Policy
	v.pair("watchdog.policy.fire_rate", p.FireRateWarn, p.FireRateCritical)
	v.pair("watchdog.policy.cuts", float64(p.CutsWarn), float64(p.CutsCritical))

	s := c.Scheduler
	v.check(finite(s.MinDispatchRate) && s.MinDispatchRate >= 0,
		"watchdog.scheduler.min_dispatch_rate (%v) must be zero or positive", s.MinDispatchRate)
	v.positive("watchdog.scheduler.stall_after", s.StallAfter)
	v.positive("watchdog.scheduler.max_pause", s.MaxPause)

	v.check(c.SLO.Period >= minPeriod, "watchdog.slo.period (%v) must be at least %v", c.SLO.Period, minPeriod)
	v.objective("watchdog.slo.dispatch_latency.objective", c.SLO.DispatchLatency.Objective)
	v.positive("watchdog.slo.dispatch_latency.threshold", c.SLO.DispatchLatency.Threshold)
	v.objective("watchdog.slo.intake_errors.objective", c.SLO.IntakeErrors.Objective)
	return errors.Join(v...)
}

// problems collects config errors.
type problems []error

func (p *problems) check(ok bool, format string, args ...any) {
	if !ok {
		*p = append(*p, fmt.Errorf(format, args...))
	}
}

func (p *problems) positive(key string, d time.Duration) {
	p.check(d > 0, "%s (%v) must be positive", key, d)
}

// pair checks a warn/critical pair of thresholds, keyed prefix+"_warn" and
// prefix+"_critical", where higher is worse: both positive (a level of 0
// would always be reached), the warning not above the critical level.
func (p *problems) pair(prefix string, warn, critical float64) {
	ok := true
	for _, k := range []struct {
		suffix string
		v      float64
	}{{"_warn", warn}, {"_critical", critical}} {
		if !finite(k.v) || k.v <= 0 {
			p.check(false, "%s%s (%v) must be positive", prefix, k.suffix, k.v)
			ok = false
		}
	}
	if ok {
		p.check(warn <= critical, "%s_warn (%v) must not exceed %s_critical (%v)", prefix, warn, prefix, critical)
	}
}

func (p *problems) objective(key string, v float64) {
	p.check(finite(v) && v > 0 && v < 1, "%s (%v) must be above 0 and below 1 (0.99 is 99%%)", key, v)
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
