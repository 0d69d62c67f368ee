package dist_test

import (
	"strings"
	"testing"
	"time"

	"grace/engine"
	"grace/engine/intent"
)

// An intent cancelled while the worker holding its attempt does not
// answer (silent: paused, cut off) is recorded as given up on: the holder
// did not answer, and the control plane stopped waiting. It was recorded
// as the holder's handler having returned right after the cancel.
func TestCancelWithSilentHolderIsGivenUp(t *testing.T) {
	b := setup(t)
	deadNC, id := b.runningOn(t, "w2")
	ids := []string{id}
	waitFor(t, 5*time.Second, "the intent's worker naming its holder w2", func() bool {
		in, err := b.eng.Get(t.Context(), ids[0])
		return err == nil && in.Worker == "w2"
	})
	deadNC.Close() // w2 goes silent: no heartbeat, no answer to the cancel
	waitFor(t, 5*time.Second, "w2 lost", func() bool {
		for _, w := range b.eng.Snapshot().Workers {
			if w.Name == "w2" {
				return w.State == engine.RemoteLost
			}
		}
		return false
	})
	if _, err := b.eng.Cancel(t.Context(), ids[0], "alice", "wrong target"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "the attempt's end on the record", func() bool { return b.count(ids[0], engine.WhatStaleDiscarded) == 1 })
	for _, r := range b.store.RecordsFor(ids[0]) {
		if r.What != engine.WhatStaleDiscarded {
			continue
		}
		why := strings.Join(r.Why, " | ")
		if strings.Contains(why, "handler for attempt 1 of query_knowledge returned") ||
			!strings.Contains(why, "w2, which held attempt 1 of query_knowledge, did not answer the cancel (its heartbeats stopped") ||
			!strings.Contains(why, "gave up on the attempt") {
			t.Errorf("the record says %q; want w2 not answering and the attempt given up on", why)
		}
		if r.Context["given_up"] != true || r.Context["holder_answered"] != false || r.Context["cancelled_by"] != "alice" {
			t.Errorf("the record's context %v; want given_up true, holder_answered false, cancelled_by alice", r.Context)
		}
	}
	if in, _ := b.eng.Get(t.Context(), ids[0]); in.State != intent.StateCancelled {
		t.Errorf("the intent is %s, want cancelled", in.State)
	}
}
