package engine

import (
	"context"
	"testing"

	"grace/engine/intent"
)

// TestFinishedAttemptLeavesItsWorkersContext checks that an attempt's
// context ends once its handler has returned: a context left open stays a
// child of its worker's for the worker's whole life, so a worker would
// hold on to every attempt it ever ran.
func TestFinishedAttemptLeavesItsWorkersContext(t *testing.T) {
	t.Parallel()
	b := setup(t)
	flights := make(chan *flight, 1)
	b.handlers.set("query_knowledge", func(_ context.Context, in intent.Intent) error {
		b.e.pool.mu.Lock()
		defer b.e.pool.mu.Unlock()
		for _, w := range b.e.pool.workers {
			if w.cur != nil && w.cur.in.ID == in.ID {
				flights <- w.cur
			}
		}
		return nil
	})
	b.start(t)
	in := b.submit(t, intent.Submission{Type: "query_knowledge", Priority: 5})
	b.waitState(t, in.ID, intent.StateCompleted)
	fl := <-flights
	eventually(t, "the finished attempt's context to end", func() bool { return fl.ctx.Err() != nil })
}
