package engine_test

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"grace/engine"
	"grace/engine/clarity"
	"grace/engine/clock"
	"grace/engine/intent"
	"grace/store"
)

// TestWaitingApprovalsLeavesOutTheOverdue: a previous run left intents
// pending approval on disk, the older ones past their deadline (they
// expire as the engine starts). The notifier announces "N intents wait"
// from what WaitingApprovals gives it, so neither its total nor the
// newest it names may count an overdue one.
func TestWaitingApprovalsLeavesOutTheOverdue(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	clk := clock.NewFake(now.Add(-3 * time.Hour))
	cfg := engine.Default()
	cfg.DB = filepath.Join(t.TempDir(), "grace.db")
	cfg.Cortex.Enabled = false
	st, err := store.Open(t.Context(), cfg.DB, store.Options{Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	var ids []string
	for i := range 8 {
		id := fmt.Sprintf("int_01%024d", i)
		ids = append(ids, id)
		deadline := now.Add(-time.Hour) // the older five are overdue now
		if i >= 5 {
			deadline = now.Add(time.Hour)
		}
		in := &intent.Intent{ID: id, Type: "change_charter", Actor: "agent-1", Payload: []byte(`{}`), Priority: 5,
			State: intent.StatePendingApproval, Deadline: deadline, CreatedAt: clk.Now(), UpdatedAt: clk.Now(),
			Decision: intent.Decision{RoutedTo: "approval", Reasoning: []string{"tier 0"}}}
		if _, err := st.Apply(t.Context(), &intent.Change{Create: in, Records: []clarity.Record{{Who: "agent-1", What: "intent_received", Where: "test", Result: "ok", IntentID: id}}}); err != nil {
			t.Fatal(err)
		}
		clk.Advance(time.Minute)
	}
	clk.Advance(now.Sub(clk.Now()))
	e, err := engine.New(cfg, engine.Deps{Store: st, Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	for _, limit := range []int{2, 50} {
		newest, total, err := e.WaitingApprovals(t.Context(), limit)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, in := range newest {
			got = append(got, in.ID)
		}
		want := ids[max(5, 8-limit):]
		if total != 3 || fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("WaitingApprovals(%d) = %v, %d; want %v, 3 (the overdue five left out)", limit, got, total, want)
		}
	}
}
