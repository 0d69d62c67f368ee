package engine

import (
	"context"
	"fmt"

	"grace/engine/clarity"
	"grace/engine/intent"
)

// WhatPauseRestored: the engine started paused because the record's last
// word on the scheduler was a pause nobody resumed.
const WhatPauseRestored = "scheduler_pause_restored"

// restorePause reads the record's last pause and resume of the scheduler
// and, when the pause is the newer one, starts the engine paused as it
// was left: a pause an operator made lasts until someone (or
// scheduler_auto_resume) resumes it, across restarts. Its age counts from
// the original pause, so an overdue pause is resumed at the first check
// when scheduler_auto_resume is on. Without a searcher it does nothing.
func (e *Engine) restorePause(ctx context.Context) error {
	if e.searcher == nil {
		return nil
	}
	last := func(what string) (clarity.Entry, bool, error) {
		es, err := e.searcher.Search(ctx, clarity.Query{Action: what, Limit: 1})
		if err != nil || len(es) == 0 {
			return clarity.Entry{}, false, err
		}
		return es[0], true, nil
	}
	paused, ok, err := last(WhatSchedulerPaused)
	if err != nil || !ok {
		return wrapRestore(err)
	}
	resumed, ok, err := last(WhatSchedulerResumed)
	if err != nil {
		return wrapRestore(err)
	}
	if ok && resumed.ID > paused.ID {
		return nil
	}
	info := PauseInfo{By: paused.Who, Since: paused.When}
	info.Reason, _ = paused.Context["reason"].(string)
	info.Fault, _ = paused.Context["fault"].(bool)
	info.Reason = orDefault(info.Reason, "(no reason on the record)")
	now := e.clock.Now()
	r := rec(now, actorRecovery, WhatPauseRestored, whereScheduler, "startup_recovery", "paused", "",
		[]string{
			fmt.Sprintf("The scheduler was paused by %s at %s (%s) and not resumed before the engine stopped", info.By, info.Since.UTC().Format("2006-01-02 15:04:05Z"), info.Reason),
			"A pause lasts until someone resumes it, across restarts; queued work waits",
		},
		map[string]any{"paused_by": info.By, "reason": info.Reason, "paused_at": info.Since, "fault": info.Fault, "pause_record": paused.ID})
	if _, err := e.apply(ctx, &intent.Change{Records: []clarity.Record{r}}); err != nil {
		return wrapRestore(err)
	}
	e.pause.mu.Lock()
	e.pause.info, e.pause.overdue = info, false
	e.pause.on.Store(true)
	e.pause.mu.Unlock()
	e.log.Warn("scheduler starts paused, as it was left", "by", info.By, "reason", info.Reason, "since", info.Since)
	return nil
}

func wrapRestore(err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("restore the scheduler's pause: %w", err)
}
