package engine

import (
	"context"

	"grace/engine/intent"
)

// apply writes c and waits until it is durable; then the records join
// Snapshot.Recent and subscribers hear of the intent. A Create whose
// idempotency key was taken wrote nothing and is not announced.
//
// A ctx already cancelled stops it before writing; once the write has
// begun, cancelling ctx no longer abandons it. Otherwise a change could
// become durable after apply had reported failure, and the engine's live
// state (queue, deadlines, counters) would miss it.
func (e *Engine) apply(ctx context.Context, c *intent.Change) (intent.Result, error) {
	if err := ctx.Err(); err != nil {
		return intent.Result{}, err
	}
	res, err := e.store.Apply(context.WithoutCancel(ctx), c)
	if err != nil {
		return res, err
	}
	if res.Existing == nil {
		e.committed(c)
	}
	return res, nil
}

// applyAsync queues c behind every change queued before it without waiting
// for durability (the scheduler and workers must not wait on fsync). It
// may block while the store's queue is full. A change that fails is
// logged: the intent then stays in its last durable state, which start-up
// recovery requeues if it was not terminal.
func (e *Engine) applyAsync(c *intent.Change) {
	e.store.ApplyAsync(c, func(_ intent.Result, err error) {
		if err != nil {
			id := ""
			if c.Update != nil {
				id = c.Update.ID
			}
			what := ""
			if len(c.Records) > 0 {
				what = c.Records[0].What
			}
			e.log.Error("apply change", "intent_id", id, "record", what, "err", err)
			return
		}
		e.committed(c)
	})
}

// committed publishes a durable change. It runs on the store's writer
// goroutine for async changes, so it must not block.
func (e *Engine) committed(c *intent.Change) {
	e.recent.add(c.Records...)
	e.layers.announce(c)
	switch { // masked by the fanout, only when someone is given the event
	case c.Create != nil:
		e.subs.publish(Event{Kind: "intent", Intent: *c.Create}, false)
	case c.Update != nil:
		e.subs.publish(Event{Kind: "intent", Intent: *c.Update}, false)
		if c.Update.State.Terminal() {
			e.waiters.finished(*c.Update)
		}
	}
}
