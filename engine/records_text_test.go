package engine

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"grace/engine/htm"
	"grace/engine/intent"
)

// TestHotRecordsWording pins the reasons of the records every intent gets
// (received, dispatched, completed), built by hand rather than with fmt,
// to the wording they have always had, edge values included.
func TestHotRecordsWording(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	for _, in := range []intent.Intent{
		{ID: "int_1", Type: "query_knowledge", Actor: "agent.x", Priority: 0, Payload: []byte(`{}`), Attempts: 1, Tier: 2,
			CreatedAt: now.Add(-1500 * time.Microsecond)},
		{ID: "int_2", Type: "a.b:c-d", Actor: "ünïcode %s %d", Priority: 9, Payload: make([]byte, 65536), Attempts: 3, Tier: 0,
			DecidedBy: "op.alice", IdempotencyKey: "k-1", CreatedAt: now.Add(-90 * time.Second)},
	} {
		r := receivedRecord(now, in, 65536)
		want := []string{
			fmt.Sprintf("Submitted by %s: %s at priority %d", in.Actor, in.Type, in.Priority),
			fmt.Sprintf("Payload is a JSON object of %d bytes (limit %d)", len(in.Payload), 65536),
		}
		if !slices.Equal(r.Why[:2], want) {
			t.Errorf("received why = %q, want it to start %q", r.Why, want)
		}

		w := &workerState{name: "worker_3"}
		d := htm.Depth{Len: 4, Capacity: 10, Warn: 5, Critical: 8}
		r = dispatchRecord(now, in, choice{w: w, reasons: []string{"worker_3 is idle"}}, d)
		want = []string{"worker_3 is idle", d.Describe(),
			fmt.Sprintf("Highest priority ready (%d), oldest first; waited %s since submission", in.Priority, roundDur(now.Sub(in.CreatedAt)))}
		if in.Attempts > 1 {
			want = append(want, fmt.Sprintf("Attempt %d: %s did not settle it (failed, or taken back from a dead worker)", in.Attempts, plural(in.Attempts-1, "earlier attempt")))
		}
		if in.Tier == 0 {
			want = append(want, "Tier 0 approved by "+in.DecidedBy)
		}
		if !slices.Equal(r.Why, want) {
			t.Errorf("dispatched why = %q, want %q", r.Why, want)
		}

		x := run{worker: "worker_3", handler: "noop", took: 1234567 * time.Nanosecond}
		r = completedRecord(now, in, x)
		want = []string{fmt.Sprintf("Handler (%s) for %s succeeded in %s", x.handler, in.Type, roundDur(x.took)), fmt.Sprintf("Attempt %d", in.Attempts)}
		if !slices.Equal(r.Why, want) {
			t.Errorf("completed why = %q, want %q", r.Why, want)
		}
	}
}
