package engine

// Snapshot returns the engine's live figures from in-memory counters,
// without store I/O: queue depth and thresholds, intents per state
// (non-terminal ones as they stand since start-up recovery, terminal ones
// reached since), workers, dispatch and completion rates per second over
// the last 10 s of the engine's clock, and the newest 50 records. Ready is
// true while the engine is started and not stopped.
func (e *Engine) Snapshot() Snapshot {
	now := e.clock.Now()
	d := e.queue.Depth()
	snap := Snapshot{
		At: now, QueueDepth: d.Len, QueueWarn: d.Warn, QueueCritical: d.Critical,
		Workers: e.pool.infos(), Recent: e.recent.newest(),
	}
	e.stats.fill(now, &snap)
	for _, w := range snap.Workers {
		if w.Busy {
			snap.WorkersBusy++
		} else {
			snap.WorkersIdle++
		}
	}
	snap.Ready = e.ready.Load()
	return snap
}
