package engine

import (
	"context"
	"errors"
	"time"

	"grace/engine/clarity"
	"grace/engine/intent"
	"grace/engine/worker"
)

// settle records how fl's handler run on w ended: completed, a retry with
// backoff, or failed. The outcome counts only if the attempt still holds
// its lease; otherwise w was declared dead and the intent rerouted, or the
// intent was cancelled, and the late result is discarded with a
// stale_result_discarded record saying which. When ctx
// (the engine) has ended under a failing handler, nothing is recorded: the
// intent stays running in the store and the next start requeues it. by
// is the remote worker that held the attempt (zero for a local run): the
// records and the intent's worker name it, not w, its dispatch slot.
func (e *Engine) settle(ctx context.Context, w *workerState, fl *flight, err error, took time.Duration, by RemoteHolder) {
	in := fl.in
	now := e.clock.Now()
	if err != nil && ctx.Err() != nil {
		e.pool.release(w, fl, false, false)
		return
	}
	ran := e.ranOn(w, in.Type, took, by)
	if !e.leases.settle(in.ID, in.Attempts) {
		r := staleResultRecord(now, in, ran.worker, err, took)
		if wd := fl.withdrawn; wd != nil { // set before the lease went: see leases.withdraw
			r = withdrawnResultRecord(now, in, ran.worker, *wd, err, took)
		} else {
			e.l2stats.staleDiscarded.Add(1)
		}
		e.applyAsync(&intent.Change{Records: []clarity.Record{r}})
		e.pool.release(w, fl, false, false)
		e.wake() // w is free
		return
	}

	e.observeRun(took)
	max := e.cfg.Workers.MaxAttempts
	var r clarity.Record
	var to intent.State
	var pe panicError
	permanent := err != nil && (worker.IsPermanent(err) || errors.As(err, &pe))
	in.UpdatedAt, in.Worker = now, ran.holder()
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
	e.stats.finish(now, e.typeLabel(in.Type), to)
	// w is free before its outcome is announced, so that whoever hears of
	// the outcome finds the worker idle.
	e.pool.release(w, fl, true, err != nil)
	e.applyAsync(&intent.Change{Update: &in, Records: []clarity.Record{r}})
	if to == intent.StateQueued {
		e.requeue(in) // after its change was queued, so the store sees the retry before the next dispatch
	}
	e.wake()
}
