package engine

import (
	"context"
	"errors"
	"fmt"

	"grace/engine/clarity"
	"grace/engine/clock"
	"grace/engine/intent"
	"grace/engine/worker"
)

// maxErrorLen bounds an error message kept on an intent.
const maxErrorLen = 1000

// errTimeout is the cancellation cause of a handler that ran out of time.
var errTimeout = errors.New("task timeout")

// panicError is a handler panic turned into a permanent failure.
type panicError struct{ v any }

func (p panicError) Error() string { return fmt.Sprintf("handler panicked: %v", p.v) }

// workerLoop runs the tasks the scheduler gives w, one at a time, until ctx
// is cancelled.
func (e *Engine) workerLoop(ctx context.Context, w *workerState) {
	for {
		select {
		case <-ctx.Done():
			return
		case t := <-w.tasks:
			e.execute(ctx, w, t.in)
		}
	}
}

// execute runs in's handler on w and records the outcome: completed, a
// retry with backoff, or failed. When ctx is cancelled under a handler
// (engine stopping), nothing is recorded: the intent stays running in the
// store and the next start requeues it.
func (e *Engine) execute(ctx context.Context, w *workerState, in intent.Intent) {
	if e.needsApproval(in) { // the scheduler refuses these; a second guard costs nothing
		e.block(e.clock.Now(), in, w.name)
		e.pool.release(w, false, false)
		e.wake()
		return
	}
	start := e.clock.Now()
	err := e.runHandler(ctx, in)
	now := e.clock.Now()
	took := now.Sub(start)
	if err != nil && ctx.Err() != nil {
		e.pool.release(w, false, false)
		return
	}

	max := e.cfg.Workers.MaxAttempts
	ran := run{worker: w.name, handler: e.handlerKind(in.Type), took: took}
	var r clarity.Record
	var to intent.State
	var pe panicError
	permanent := err != nil && (worker.IsPermanent(err) || errors.As(err, &pe))
	in.UpdatedAt = now
	switch {
	case err == nil:
		to = intent.StateCompleted
		in.LastError = ""
		r = completedRecord(now, in, ran)
	case permanent || in.Attempts >= max:
		to = intent.StateFailed
		in.LastError = clip(err.Error(), maxErrorLen)
		r = failedRecord(now, in, ran, permanent, max)
	default:
		to = intent.StateQueued
		in.LastError = clip(err.Error(), maxErrorLen)
		wait := backoff(in.Attempts, e.cfg.Workers.BackoffBase, e.cfg.Workers.BackoffMax, e.rand())
		in.NotBefore = now.Add(wait)
		in.Worker = ""
		r = retryRecord(now, in, ran, wait, max, e.cfg.Workers.BackoffBase, e.cfg.Workers.BackoffMax)
	}
	in.State = to
	e.stats.finish(now, to)
	e.applyAsync(&intent.Change{Update: &in, Records: []clarity.Record{r}})
	if to == intent.StateQueued {
		e.queue.Requeue(in) // after its change was queued, so the store sees the retry before the next dispatch
	}
	e.pool.release(w, true, err != nil)
	e.wake()
}

// handlerKind names the kind of handler an intent type runs ("sim",
// "noop", "exec", "http") when the handler source can tell, else "custom".
func (e *Engine) handlerKind(typ string) string {
	if k, ok := e.handlers.(interface{ Kind(string) string }); ok {
		return k.Kind(typ)
	}
	return "custom"
}

// runHandler runs in's handler with its timeout (the handler's own, or
// workers.task_timeout). The timeout runs on the engine's clock; with the
// real clock it is a context deadline. A panic becomes a permanent error.
func (e *Engine) runHandler(ctx context.Context, in intent.Intent) (err error) {
	h, timeout := e.handlers.For(in.Type)
	if h == nil {
		return worker.Permanent(fmt.Errorf("no handler for intent type %q", in.Type))
	}
	if timeout <= 0 {
		timeout = e.cfg.Workers.TaskTimeout
	}
	var tctx context.Context
	var cancel context.CancelCauseFunc
	if _, real := e.clock.(clock.Real); real {
		var stop context.CancelFunc
		tctx, stop = context.WithTimeoutCause(ctx, timeout, errTimeout)
		cancel = func(error) { stop() }
	} else {
		tctx, cancel = context.WithCancelCause(ctx)
		expired := e.clock.After(timeout)
		e.wg.Go(func() {
			select {
			case <-expired:
				cancel(errTimeout)
			case <-tctx.Done():
			}
		})
	}
	defer cancel(nil)
	defer func() {
		if v := recover(); v != nil {
			err = panicError{v}
		}
	}()
	err = h.Handle(tctx, in)
	if err != nil && errors.Is(context.Cause(tctx), errTimeout) {
		err = fmt.Errorf("timed out after %v: %w", timeout, err)
	}
	return err
}
