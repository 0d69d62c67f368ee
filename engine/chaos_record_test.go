package engine

import (
	"testing"

	"grace/engine/clarity"
)

// TestRecordChaosSlotSkippedNeedsNoRun: a loop slot that ran nothing is
// recorded without a run ID, its context naming the slot; any other chaos
// record still needs its run.
func TestRecordChaosSlotSkippedNeedsNoRun(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.start(t)
	err := b.e.RecordChaos(t.Context(), ChaosNote{What: WhatChaosSlotSkipped, Who: "chaos_loop", Result: "skipped",
		Why: []string{"another chaos run was going"}, Context: map[string]any{"slot": "18:00"}})
	if err != nil {
		t.Fatalf("slot skipped without a run: %v", err)
	}
	es, err := b.e.Search(t.Context(), clarity.Query{Action: WhatChaosSlotSkipped})
	if err != nil || len(es) != 1 || es[0].Context["slot"] != "18:00" || es[0].Context["run_id"] != nil {
		t.Fatalf("records %+v, %v; want one naming slot 18:00 and no run", es, err)
	}
	if err := b.e.RecordChaos(t.Context(), ChaosNote{What: WhatChaosRunFinished, Who: "ops", Result: "passed"}); err == nil {
		t.Error("a finished run without its run ID was recorded")
	}
}
