package engine

// Snapshot returns the engine's live figures from in-memory counters,
// without store I/O: queue depth and thresholds, intents per state
// (non-terminal ones as they stand since start-up recovery, terminal ones
// reached since), workers, dispatch and completion rates per second over
// the last 10 s of the engine's clock, the newest 50 records, and the
// Layer 2 safeguards' facts. Health is the watchdog's latest verdict; Ready
// is true while the engine is started, not stopped, and every component
// the watchdog watches is ready. A worker declared dead counts as neither
// busy nor idle. Remote workers (Deps.Remote) follow the pool's in Workers,
// with their Host, and count in neither figure: Remote sums them up.
func (e *Engine) Snapshot() Snapshot {
	now := e.clock.Now()
	d := e.queue.Depth()
	snap := Snapshot{
		At: now, QueueDepth: d.Len, QueueDelayed: d.Delayed, QueueWarn: d.Warn, QueueCritical: d.Critical,
		Workers: e.pool.infos(now), Recent: e.recent.newest(),
	}
	e.stats.fill(now, &snap)
	snap.ByType = e.stats.byType(e.queuedByType())
	for _, w := range snap.Workers {
		switch {
		case !w.Healthy:
		case w.Busy:
			snap.WorkersBusy++
		default:
			snap.WorkersIdle++
		}
	}
	snap.Health = e.Health()
	snap.Ready = e.ready.Load() && snap.Health.Ready
	snap.Layer2 = e.layer2Facts(snap.Workers)
	e.fillLayers(&snap)
	if e.remote != nil { // after the figures above: remote workers count in none of them
		rw := e.remote.Workers(now)
		snap.Workers = append(snap.Workers, rw...)
		snap.Remote = remoteFigures(orDefault(e.cfg.Backend.Kind, "remote"), rw)
	}
	return snap
}

// typeLabel is typ when the charter lists it, else OtherTypes: the key of
// the per-type figures, which an agent's made-up types cannot grow.
func (e *Engine) typeLabel(typ string) string {
	if _, known := e.router.Tier(typ); known {
		return typ
	}
	return OtherTypes
}

// queuedByType counts the queued intents by type label.
func (e *Engine) queuedByType() map[string]int {
	raw := e.queue.CountByType()
	out := make(map[string]int, len(raw))
	for typ, n := range raw {
		out[e.typeLabel(typ)] += n
	}
	return out
}
