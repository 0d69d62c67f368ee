package engine

import (
	"context"
	"errors"
	"fmt"
	"time"

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

// startWorker gives w its context (a child of ctx, the engine's run
// context) and runs its loop. It is called by Start and by the supervisor,
// both counted in e.wg, so adding to e.wg here is safe.
func (e *Engine) startWorker(ctx context.Context, w *workerState) {
	e.pool.arm(w, ctx, e.super.round.Load(), e.clock.Now())
	e.wg.Go(func() { e.workerLoop(ctx, w) })
}

// workerLoop answers heartbeats and runs the attempts the scheduler gives
// w, one at a time, until w is killed or retired, or ctx (the engine's run
// context) ends. A worker declared dead while hung carries on once
// released, finishes its attempt (whose result the lease fence discards)
// and stops. Its exit is reported to the supervisor; a panic in the loop
// is one more way for a worker to die.
func (e *Engine) workerLoop(ctx context.Context, w *workerState) {
	defer func() {
		if v := recover(); v != nil {
			e.pool.died(w, fmt.Sprintf("worker loop panicked: %v", v))
			e.log.Error("worker loop panicked", "worker", w.name, "panic", v)
		}
		e.super.exited(ctx, w)
	}()
	for !e.pool.gone(w) {
		select {
		case <-w.ctx.Done():
			return
		case round := <-w.ping:
			e.pool.beat(w, round, e.clock.Now())
		case <-w.poke:
			e.holdIfHung(w)
		case fl := <-w.tasks:
			e.execute(ctx, w, fl)
		}
	}
}

// holdIfHung freezes w's loop while a hang fault holds it: no heartbeats
// are answered and no results reported, until the fault is released or w
// is killed. The handler of its attempt, on its own goroutine, runs on.
func (e *Engine) holdIfHung(w *workerState) {
	for {
		release, hung := e.pool.hangState(w)
		if !hung {
			return
		}
		select {
		case <-release:
		case <-w.ctx.Done():
			return
		}
	}
}

// result is a handler run's outcome.
type result struct {
	err error
	end time.Time
}

// execute runs fl's handler on its own goroutine while w keeps answering
// heartbeats, then records the outcome (see settle). If the supervisor took
// the attempt back before w began it, w drops it. When w is killed, the
// handler is cancelled and nothing is recorded: a dead worker reports
// nothing, and the supervisor reroutes the attempt once the handler has
// returned. When
// ctx (the engine) ends, the intent stays running in the store for the
// next start to requeue. A handler told to stop that has not returned
// workers.abandon_after later is abandoned (abandon.go): w is freed. A
// remote handler names the remote worker holding the attempt
// (ReportRemoteHolder): the outcome is that worker's, w only the slot it
// went through.
func (e *Engine) execute(ctx context.Context, w *workerState, fl *flight) {
	if !e.pool.begin(w, fl) {
		return
	}
	in := fl.in
	if e.needsApproval(in) { // the scheduler refuses these; a second guard costs nothing
		fl.cancel(nil)
		e.leases.settle(in.ID, in.Attempts)
		e.block(e.clock.Now(), in, w.name)
		fl.finish()
		e.pool.release(w, fl, false, false)
		e.wake()
		return
	}
	results := make(chan result, 1)
	told := make(chan string, 1) // what told the handler to stop, if it was before it returned
	// A remote handler names, in hctx, the remote worker that runs it.
	hctx, holder := e.withHolderNote(fl.ctx, fl)
	start := e.clock.Now()
	e.running.goRun(func() {
		defer fl.finish()
		err := e.runHandler(hctx, in, func(cause string) { told <- cause })
		// What a handler says back may quote the masked values it was
		// given: none of them reaches last_error or a record.
		err = e.guard.mask.scrubError(in, err)
		fl.err = err
		// The attempt is over: ending its context takes it out of w's,
		// which would otherwise hold every attempt w ever began.
		fl.cancel(nil)
		results <- result{err: err, end: e.clock.Now()}
	})
	var abandon <-chan time.Time
	var cause string
	var toldAt time.Time
	for {
		select {
		case r := <-results:
			e.settle(ctx, w, fl, r.err, r.end.Sub(start), holder.holder())
			return
		case cause = <-told:
			if e.cfg.SafeguardEnabled(SafeguardHandlerAbandonment) {
				toldAt = e.clock.Now()
				abandon = e.clock.After(e.cfg.Workers.AbandonAfter)
			}
		case <-abandon:
			e.abandonRun(ctx, w, fl, cause, toldAt, e.clock.Now().Sub(start))
			return
		case round := <-w.ping:
			e.pool.beat(w, round, e.clock.Now())
		case <-w.poke:
			e.holdIfHung(w)
		case <-w.ctx.Done():
			// The handler's context is a child of w's: it is ending. The
			// supervisor, hearing w exit, takes the attempt back and waits
			// for the handler (reassign.go); when the engine stops, Stop
			// waits for it (within bounds).
			if ctx.Err() != nil {
				e.pool.release(w, fl, false, false)
			}
			return
		}
	}
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
// workers.task_timeout), behind any handler fault injected for its type.
// The timeout runs on the engine's clock; with the real clock it is a
// context deadline. A panic becomes a permanent error. told is called,
// with what told it in words (stopCause), if the handler's context ends
// before it returns.
func (e *Engine) runHandler(ctx context.Context, in intent.Intent, told func(cause string)) (err error) {
	h, timeout := e.handlers.For(in.Type)
	if h == nil {
		return worker.Permanent(fmt.Errorf("no handler for intent type %q", in.Type))
	}
	h = e.hfaults.wrap(in.Type, h)
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
		// Counted with the handlers, not in e.wg: this runs on a handler's
		// goroutine, which Stop may have stopped waiting for.
		e.running.goRun(func() {
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
	// Deferred last, so it runs first: a handler that has returned is
	// never reported as told to stop.
	defer context.AfterFunc(tctx, func() { told(stopCause(context.Cause(tctx), timeout)) })()
	err = h.Handle(tctx, in)
	if err != nil && errors.Is(context.Cause(tctx), errTimeout) {
		err = fmt.Errorf("timed out after %v: %w", timeout, err)
	}
	return err
}
