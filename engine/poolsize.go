package engine

import "context"

// reconcile brings the pool to its target size: while fewer members hold
// a slot than the target it starts workers (after a death with
// worker_reassignment on, or when the hub scales up), and while more are
// alive than the target it retires idle ones, newest first (the hub scaled
// down; busy workers are left to finish and retired on a later pass). Each
// change is narrated. It runs on the supervisor's goroutine.
func (e *Engine) reconcile(ctx context.Context) {
	if ctx.Err() != nil {
		return
	}
	now := e.clock.Now()
	target := e.pool.size()
	if occ := e.pool.occupied(); occ < target {
		names := make([]string, 0, target-occ)
		for range target - occ {
			w := e.pool.add()
			e.startWorker(ctx, w)
			names = append(names, w.name)
		}
		e.log.Info("workers started", "workers", names, "target", target)
		e.note(workersStartedRecord(now, names, occ, target))
		e.wake()
	}
	if alive, _ := e.pool.counts(); alive > target {
		ws := e.pool.retireIdle(alive - target)
		if len(ws) == 0 {
			return
		}
		names := make([]string, len(ws))
		for i, w := range ws {
			w.cancel(errRetired)
			names[i] = w.name
		}
		e.log.Info("workers retired", "workers", names, "target", target)
		e.note(workersRetiredRecord(now, names, alive, target))
	}
}
