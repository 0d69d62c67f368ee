package engine

import (
	"math"

	"grace/engine/htm"
)

// validateLayer2 checks the keys of the Layer 2 safeguards, the worker
// pool's bounds and heartbeats, the scheduler's pause guard and the hub.
func (c Config) validateLayer2(v *problems) {
	r := c.HTM.RateLimit
	v.check(finitePositive(r.GlobalRate), "htm.rate_limit.global_rate (%v) must be a positive number", r.GlobalRate)
	v.check(r.GlobalBurst >= 1, "htm.rate_limit.global_burst (%d) must be at least 1", r.GlobalBurst)
	v.check(finitePositive(r.ActorRate), "htm.rate_limit.actor_rate (%v) must be a positive number", r.ActorRate)
	v.check(r.ActorBurst >= 1, "htm.rate_limit.actor_burst (%d) must be at least 1", r.ActorBurst)

	s := c.HTM.Shedding
	if _, err := htm.ParseCriteria(s.Criteria); err != nil {
		v.add("htm.shedding.criteria: %v", err)
	}
	v.tick("htm.shedding.interval", s.Interval)
	v.check(s.MaxBatch >= 1, "htm.shedding.max_batch (%d) must be at least 1", s.MaxBatch)

	w := c.Workers
	v.check(w.MaxCount >= w.Count, "workers.max_count (%d) must not be below workers.count (%d)", w.MaxCount, w.Count)
	v.check(w.Count <= MaxWorkers, "workers.count (%d) must be at most %d", w.Count, MaxWorkers)
	v.check(w.MaxCount <= MaxWorkers, "workers.max_count (%d) must be at most %d", w.MaxCount, MaxWorkers)
	v.tick("workers.heartbeat_interval", w.HeartbeatInterval)
	v.check(w.HeartbeatMisses >= 1, "workers.heartbeat_misses (%d) must be at least 1", w.HeartbeatMisses)

	v.positive("scheduler.auto_resume_after", c.Scheduler.AutoResumeAfter)

	h := c.Hub
	v.tick("hub.interval", h.Interval)
	v.positive("hub.correlation_window", h.CorrelationWindow)
	v.positive("hub.scaling.sustain", h.Scaling.Sustain)
	v.check(h.Scaling.Step >= 1, "hub.scaling.step (%d) must be at least 1", h.Scaling.Step)
	v.check(h.Scaling.Cooldown >= 0, "hub.scaling.cooldown (%v) must not be negative", h.Scaling.Cooldown)
}

func finitePositive(f float64) bool { return !math.IsNaN(f) && !math.IsInf(f, 0) && f > 0 }
