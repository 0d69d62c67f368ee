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
	// What was ready before now waited for no engine, not for the
	// scheduler: its dispatch latency counts from here.
	e.watch.startedAt.Store(e.clock.Now().UnixNano())
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

// WhatLeftoverHandlersKilled names the record of the processes that exec
// handlers of a previous engine on the same store left running, killed at
// start before recovery queues their intents again.
const WhatLeftoverHandlersKilled = "leftover_handlers_killed"

// RecordLeftoverHandlers puts on the record that killed processes left
// running by the exec handlers of an engine that stopped without ending
// them (killed outright) were killed at start (worker.ClaimOwner), so that
// none runs beside the rerun of its task. Call it before Start; it records
// nothing when killed is 0.
func (e *Engine) RecordLeftoverHandlers(ctx context.Context, killed int) error {
	if killed <= 0 {
		return nil
	}
	r := rec(e.clock.Now(), actorRecovery, WhatLeftoverHandlersKilled, "exec_handlers", "startup_recovery", "killed", "",
		[]string{
			fmt.Sprintf("%d processes started by exec handlers of the previous engine were still running after it stopped", killed),
			"Killed (SIGKILL) before the intents that were running are queued again, so that no task runs twice at once",
		},
		map[string]any{"killed": killed})
	r.Confidence, r.Risk = 0.9, 0.3
	if err := e.journal.Record(ctx, r); err != nil {
		return fmt.Errorf("record leftover handler processes killed: %w", err)
	}
	e.recent.add(r)
	return nil
}
