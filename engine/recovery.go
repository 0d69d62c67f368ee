package engine

import (
	"context"
	"fmt"

	"grace/engine/clarity"
	"grace/engine/intent"
)

// SafeguardCrashRecovery recovers, at start, the intents the previous
// engine left unfinished (recoverUnfinished).
const SafeguardCrashRecovery = "crash_recovery"

// recoverUnfinished rebuilds the engine's live state from the store's non-terminal
// intents, oldest first: pending approvals stay pending and their
// deadlines are tracked again (one already past expires on the next tick);
// queued intents go back into the HTM queue with their retry delays; an
// intent that was running when the previous engine stopped is written back
// to queued with an intent_requeued_after_restart record and queued again
// (at-least-once). When anything was recovered a
// startup_recovery_completed record gives the counts.
//
// With safeguards.crash_recovery off nothing is recovered: the unfinished
// intents stay as the previous engine left them (running ones never run
// again, queued ones wait in the store only, pending approvals do not
// expire), and a warning says how many.
func (e *Engine) recoverUnfinished(ctx context.Context) error {
	ins, err := e.store.NonTerminal(ctx)
	if err != nil {
		return fmt.Errorf("recover unfinished intents: %w", err)
	}
	if !e.cfg.SafeguardEnabled(SafeguardCrashRecovery) {
		if len(ins) > 0 {
			e.log.Warn("crash recovery is off (safeguards.crash_recovery): unfinished intents left as they are", "intents", len(ins))
		}
		return nil
	}
	var pending, queued, running int
	for _, in := range ins {
		switch in.State {
		case intent.StatePendingApproval:
			pending++
			e.deadlines.track(in.ID, e.deadlineOf(in))
		case intent.StateQueued:
			queued++
			e.requeue(in)
		case intent.StateRunning:
			running++
			now := e.clock.Now()
			prev := in.Worker
			in.State, in.Worker, in.UpdatedAt = intent.StateQueued, "", now
			r := requeuedRecord(now, in, prev)
			if _, err := e.apply(ctx, &intent.Change{Update: &in, Records: []clarity.Record{r}}); err != nil {
				return fmt.Errorf("recover intent %s that was running: %w", in.ID, err)
			}
			e.requeue(in)
		}
	}
	e.stats.recovered(map[intent.State]int{
		intent.StatePendingApproval: pending,
		intent.StateQueued:          queued + running,
		intent.StateRunning:         0,
	})
	if len(ins) == 0 {
		return nil
	}
	r := recoveryRecord(e.clock.Now(), pending, queued, running)
	if err := e.journal.Record(ctx, r); err != nil {
		return fmt.Errorf("record recovery: %w", err)
	}
	e.recent.add(r)
	e.log.Info("recovered unfinished intents", "pending_approval", pending, "queued", queued, "running_requeued", running)
	return nil
}
