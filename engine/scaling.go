package engine

import (
	"time"

	"grace/engine/htm"
)

// considerScaling is the hub's scaling decision, taken every hub.interval
// with hub.scaling.enabled. When the queue has stayed at or past its warn
// depth for hub.scaling.sustain, the pool's target grows by
// hub.scaling.step up to workers.max_count; when it has stayed below for as
// long, the target shrinks by the step down to workers.count (the
// supervisor retires idle workers only, so no running task is cut). Two
// decisions are at least hub.scaling.cooldown apart. Each is narrated.
func (e *Engine) considerScaling(m *hubMind, s healthSample) {
	now := s.at
	if s.depth.Level != htm.LevelOK {
		m.calmSince = time.Time{}
		if m.warnSince.IsZero() {
			m.warnSince = now
		}
	} else {
		m.warnSince = time.Time{}
		if m.calmSince.IsZero() {
			m.calmSince = now
		}
	}
	sc := e.cfg.Hub.Scaling
	if !sc.Enabled || (!m.lastScale.IsZero() && now.Sub(m.lastScale) < sc.Cooldown) {
		return
	}
	least, most := e.cfg.Workers.Count, e.cfg.Workers.MaxCount
	from := s.target
	to := from
	var since time.Time
	switch {
	case !m.warnSince.IsZero() && now.Sub(m.warnSince) >= sc.Sustain && from < most:
		to, since = min(from+sc.Step, most), m.warnSince
	case !m.calmSince.IsZero() && now.Sub(m.calmSince) >= sc.Sustain && from > least:
		to, since = max(from-sc.Step, least), m.calmSince
	default:
		return
	}
	e.pool.setTarget(to)
	m.lastScale = now
	e.log.Info("hub scaled the worker pool", "from", from, "to", to, "queue_depth", s.depth.Len)
	e.note(scaledRecord(now, from, to, least, most, s, now.Sub(since), sc))
	e.super.wake()
}
