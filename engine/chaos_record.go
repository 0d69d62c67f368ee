package engine

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"grace/engine/clarity"
	"grace/engine/intent"
)

// The record names (What) of the chaos service's records on the main
// engine's record.
const (
	WhatChaosRunStarted  = "chaos_run_started"
	WhatChaosVerdict     = "chaos_scenario_verdict"
	WhatChaosRunFinished = "chaos_run_finished"
	WhatChaosRunHalted   = "chaos_run_halted"
	// WhatChaosSlotSkipped: a slot of the autonomous loop ran nothing
	// (missed, another run going, no scenario, the run refused): no run,
	// so no run ID; its context names the slot.
	WhatChaosSlotSkipped   = "chaos_slot_skipped"
	whereChaos             = "chaos_service"
	howChaos               = "chaos_runner"
	chaosRecordMaxContexts = 32
)

// ChaosNote is one record of a chaos run for the main engine's record:
// the run started (Who asked), a scenario's verdict, the run finished or
// halted (Who halted it).
type ChaosNote struct {
	// What is one of the WhatChaos* names.
	What string
	// Who is the operator, "chaos_loop" or "watchdog".
	Who      string
	RunID    string
	Scenario string
	// Result is the verdict or state (passed, failed, halted, running).
	Result string
	// Why says it in sentences.
	Why []string
	// Context adds figures (difficulty, failures, safeguards); at most 32
	// keys are kept.
	Context map[string]any
}

// RecordChaos writes n on the engine's record and returns once it is
// durable (a narrative, a clarity row and an audit entry, like every
// record). An empty What, Who or RunID is refused.
func (e *Engine) RecordChaos(ctx context.Context, n ChaosNote) error {
	switch {
	case !strings.HasPrefix(n.What, "chaos_"):
		return fmt.Errorf("record chaos: what %q is not a chaos record name", n.What)
	case strings.TrimSpace(n.Who) == "":
		return errors.New("record chaos: empty who")
	case n.RunID == "" && n.What != WhatChaosSlotSkipped:
		return errors.New("record chaos: empty run ID")
	}
	c := map[string]any{}
	if n.RunID != "" {
		c["run_id"] = n.RunID
	}
	if n.Scenario != "" {
		c["scenario"] = n.Scenario
	}
	for k, v := range n.Context {
		if len(c) >= chaosRecordMaxContexts {
			break
		}
		c[k] = v
	}
	r := rec(e.clock.Now(), clip(n.Who, maxActorLen), n.What, whereChaos, howChaos, n.Result, "", n.Why, c)
	r.Risk = 0.3
	if n.What == WhatChaosRunHalted {
		r.Risk = 0.5
	}
	if _, err := e.apply(context.WithoutCancel(ctx), &intent.Change{Records: []clarity.Record{r}}); err != nil {
		return fmt.Errorf("record chaos %s for run %s: %w", n.What, n.RunID, err)
	}
	return nil
}
