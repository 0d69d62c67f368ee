package chaos

import (
	"context"
	"errors"
	"fmt"

	"grace/engine"
)

// updateStanding brings each scenario of run up to date in the store and
// escalates it: after chaos.loop.escalate_after consecutive passes at its
// difficulty a scenario's difficulty rises by one, up to
// chaos.loop.max_difficulty, and its streak starts again from 0; at the
// cap the streak keeps counting. A failure resets the streak and keeps the
// difficulty. A pass at another difficulty than the scenario's current one
// (a run asked for a level) does not escalate.
//
// The runner may already have counted the run in the standing (the chaos
// service does: its Runs grew since before); otherwise the loop counts it
// here, so the streak is counted once either way.
func (l *Loop) updateStanding(ctx context.Context, run engine.ChaosRun, before map[string]ScenarioState) error {
	after, err := l.store.ScenarioStates(ctx)
	if err != nil {
		return fmt.Errorf("read scenario states: %w", err)
	}
	finished := run.FinishedAt
	if finished.IsZero() {
		finished = l.clk.Now()
	}
	var errs []error
	for _, res := range run.Scenarios {
		st, counted := after[res.ID]
		counted = counted && st.Runs > before[res.ID].Runs
		if !counted {
			st = before[res.ID]
			st.Scenario = res.ID
			st.Runs++
			st.LastRunAt = finished.UnixMilli()
			if res.Passed {
				st.LastVerdict, st.Streak = engine.ChaosPassed, st.Streak+1
			} else {
				st.LastVerdict, st.Streak = engine.ChaosFailed, 0
			}
		}
		st.Difficulty = max(st.Difficulty, 1)
		atLevel := res.Difficulty == 0 || res.Difficulty == st.Difficulty
		if res.Passed && atLevel && st.Streak >= l.cfg.EscalateAfter && st.Difficulty < l.cfg.MaxDifficulty {
			l.log.Info("chaos loop: escalated", "scenario", res.ID, "from", st.Difficulty, "to", st.Difficulty+1,
				"passes", st.Streak, "run", run.RunID)
			l.record(ctx, WhatChaosLoopEscalated, run.RunID, res.ID, fmt.Sprintf("difficulty %d", st.Difficulty+1),
				[]string{fmt.Sprintf("%s passed %d times in a row at difficulty %d (chaos.loop.escalate_after %d): it runs at difficulty %d from now on (chaos.loop.max_difficulty %d).",
					res.ID, st.Streak, st.Difficulty, l.cfg.EscalateAfter, st.Difficulty+1, l.cfg.MaxDifficulty)},
				map[string]any{"from": st.Difficulty, "to": st.Difficulty + 1, "passes": st.Streak})
			st.Difficulty++
			st.Streak = 0
		}
		if err := l.store.SaveScenarioState(ctx, st); err != nil {
			errs = append(errs, fmt.Errorf("save standing of %s: %w", res.ID, err))
		}
	}
	return errors.Join(errs...)
}
