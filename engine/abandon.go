package engine

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"grace/engine/clarity"
	"grace/engine/intent"
)

// A handler is told to stop by its context: its timeout runs out, its
// intent is cancelled, its worker is declared dead, or the engine stops.
// Go cannot stop a goroutine that ignores that, so handler_abandonment
// stops waiting for it instead: workers.abandon_after after it was told,
// its worker is freed for other work, its intent (if the attempt still
// holds it) fails without a retry, since a retry could run the task twice
// at once, and the handler is watched until it returns, when what it did
// is discarded on the record. Stop waits for handlers as long, no longer.

// WhatHandlerAbandoned names the record of a handler given up on; when
// the attempt still held its intent, an intent_failed record (how
// "handler_abandonment") follows it.
const WhatHandlerAbandoned = "handler_abandoned"

// howAbandoned is the how of the records handler_abandonment writes.
const howAbandoned = "handler_abandonment"

// RunawayHandler is a handler abandoned by handler_abandonment that has
// not returned yet: it runs on, out of any worker's hands.
type RunawayHandler struct {
	IntentID string `json:"intent_id"`
	Type     string `json:"type"`
	Worker   string `json:"worker"`
	Attempt  int    `json:"attempt"`
	// Cause says what told it to stop ("its 30s timeout ran out", "its
	// intent was cancelled", ...), ToldAt when, and AbandonedAt when it was
	// given up on.
	Cause       string    `json:"cause"`
	ToldAt      time.Time `json:"told_at"`
	AbandonedAt time.Time `json:"abandoned_at"`
	// RemoteWorker and RemoteHost name the remote worker (backend.kind
	// nats) whose handler it is, when one held the attempt: Worker is
	// then the engine's slot that waited for it.
	RemoteWorker string `json:"remote_worker,omitempty"`
	RemoteHost   string `json:"remote_host,omitempty"`
}

// Where names where the handler runs: its worker, and the remote worker
// that holds it, if any.
func (h RunawayHandler) Where() string {
	if h.RemoteWorker == "" {
		return h.Worker
	}
	return fmt.Sprintf("%s (remote worker %s on %s)", h.Worker, h.RemoteWorker, h.RemoteHost)
}

// RemoteHolders is a RemoteWorkers that can name the remote worker whose
// claim on an attempt stands (the nats dispatcher).
type RemoteHolders interface {
	// Holder returns the remote worker holding attempt of intentID and
	// its host; ok is false when none does.
	Holder(intentID string, attempt int) (worker, host string, ok bool)
}

// runaways are the abandoned handlers still running, by attempt.
type runaways struct {
	mu sync.Mutex
	by map[*flight]RunawayHandler
}

func (r *runaways) add(fl *flight, h RunawayHandler) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.by == nil {
		r.by = make(map[*flight]RunawayHandler)
	}
	r.by[fl] = h
}

func (r *runaways) end(fl *flight) (RunawayHandler, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	h, ok := r.by[fl]
	delete(r.by, fl)
	return h, ok
}

// list returns them, longest abandoned first.
func (r *runaways) list() []RunawayHandler {
	r.mu.Lock()
	out := make([]RunawayHandler, 0, len(r.by))
	for _, h := range r.by {
		out = append(out, h)
	}
	r.mu.Unlock()
	slices.SortFunc(out, func(a, b RunawayHandler) int {
		if c := a.AbandonedAt.Compare(b.AbandonedAt); c != 0 {
			return c
		}
		return cmp.Compare(a.IntentID, b.IntentID)
	})
	return out
}

// RunawayHandlers returns the abandoned handlers still running, longest
// abandoned first.
func (e *Engine) RunawayHandlers() []RunawayHandler { return e.runaways.list() }

// handlerRuns counts the handler goroutines running, so that Stop can wait
// for them without waiting forever for one that ignores its cancellation.
type handlerRuns struct {
	mu   sync.Mutex
	n    int
	idle chan struct{} // closed when n drops to 0
}

// goRun runs f on a goroutine of its own, counted until it returns.
func (h *handlerRuns) goRun(f func()) {
	h.mu.Lock()
	if h.n == 0 {
		h.idle = make(chan struct{})
	}
	h.n++
	h.mu.Unlock()
	go func() {
		defer h.done()
		f()
	}()
}

func (h *handlerRuns) done() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.n--
	if h.n == 0 {
		close(h.idle)
	}
}

// wait waits until no handler runs, or d (real time) has passed; it
// returns how many still run.
func (h *handlerRuns) wait(d time.Duration) int {
	h.mu.Lock()
	if h.n == 0 {
		h.mu.Unlock()
		return 0
	}
	idle := h.idle
	h.mu.Unlock()
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-idle:
	case <-t.C:
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.n
}

// stopCause says in words what told a handler to stop, from its context's
// cause; timeout is its time limit.
func stopCause(cause error, timeout time.Duration) string {
	var k killedError
	switch {
	case errors.Is(cause, errTimeout):
		return fmt.Sprintf("its %v timeout ran out", timeout)
	case errors.Is(cause, errWithdrawn):
		return "its intent was cancelled"
	case errors.Is(cause, errWorkerDead):
		return "its worker was declared dead"
	case errors.As(cause, &k):
		return "its worker was killed (" + k.reason + ")"
	default:
		return "the engine is stopping"
	}
}

// abandonRun gives up on fl's handler, which w ran and which has not
// returned workers.abandon_after after it was told to stop (cause, at
// told): w is freed, the intent fails unless the attempt no longer holds
// it (a cancel took it), and the handler is watched until it returns.
func (e *Engine) abandonRun(ctx context.Context, w *workerState, fl *flight, cause string, told time.Time, took time.Duration) {
	if ctx.Err() != nil { // the engine stops: the intent stays running, for the next start to requeue
		e.pool.release(w, fl, false, false)
		return
	}
	in := fl.in
	now := e.clock.Now()
	h := RunawayHandler{IntentID: in.ID, Type: in.Type, Worker: w.name, Attempt: in.Attempts, Cause: cause, ToldAt: told, AbandonedAt: now}
	if rh, ok := e.remote.(RemoteHolders); ok {
		h.RemoteWorker, h.RemoteHost, _ = rh.Holder(in.ID, in.Attempts)
	}
	e.runaways.add(fl, h)
	e.l2stats.abandoned.Add(1)
	e.log.Warn("handler abandoned: it ignores its cancellation", "intent_id", in.ID, "type", in.Type, "worker", h.Where(), "cause", cause)
	owned := e.leases.settle(in.ID, in.Attempts)
	e.pool.release(w, fl, owned, owned)
	e.writeAbandoned(now, in, h, owned, took)
	e.wake() // w is free
	e.watchRunaway(ctx, fl)
}

// abandonTaken gives up on the handler of fl, taken back from the dead
// worker named worker and not returned workers.abandon_after after it was
// told to stop (at told): the intent, unless a cancel took it meanwhile
// (owned false), fails instead of being rerouted, and the handler is
// watched until it returns.
func (e *Engine) abandonTaken(ctx context.Context, fl *flight, worker string, told time.Time, owned bool) {
	if ctx.Err() != nil { // the engine stops: the intent stays running, for the next start to requeue
		return
	}
	in := fl.in
	now := e.clock.Now()
	h := RunawayHandler{IntentID: in.ID, Type: in.Type, Worker: worker, Attempt: in.Attempts,
		Cause: stopCause(errWorkerDead, 0), ToldAt: told, AbandonedAt: now}
	e.runaways.add(fl, h)
	e.l2stats.abandoned.Add(1)
	e.log.Warn("handler abandoned: it ignores its cancellation", "intent_id", in.ID, "type", in.Type, "worker", worker, "cause", h.Cause)
	e.writeAbandoned(now, in, h, owned, 0)
	e.watchRunaway(ctx, fl)
}

// writeAbandoned records h's abandonment (handler_abandoned) and, when
// the attempt still held its intent (owned), fails the intent for good
// (intent_failed): not retried while its handler may still run. took is
// how long the handler had run, when known.
func (e *Engine) writeAbandoned(now time.Time, in intent.Intent, h RunawayHandler, owned bool, took time.Duration) {
	after := e.cfg.Workers.AbandonAfter
	recs := []clarity.Record{abandonedRecord(now, in, h, owned, after)}
	if !owned {
		e.applyAsync(&intent.Change{Records: recs})
		return
	}
	kind := e.handlerKind(in.Type)
	in.State, in.UpdatedAt = intent.StateFailed, now
	in.LastError = clip(fmt.Sprintf("handler (%s) abandoned: told to stop when %s, it had not returned %v later; not retried while it may still run",
		kind, h.Cause, after), maxErrorLen)
	e.stats.finish(now, e.typeLabel(in.Type), intent.StateFailed)
	recs = append(recs, abandonedFailedRecord(now, in, h, kind, took))
	e.applyAsync(&intent.Change{Update: &in, Records: recs})
}

// watchRunaway waits, until ctx ends, for fl's abandoned handler to
// return, and then records that what it did was discarded.
func (e *Engine) watchRunaway(ctx context.Context, fl *flight) {
	e.wg.Go(func() {
		select {
		case <-fl.done:
		case <-ctx.Done():
			return
		}
		h, ok := e.runaways.end(fl)
		if !ok {
			return
		}
		e.l2stats.staleDiscarded.Add(1)
		e.applyAsync(&intent.Change{Records: []clarity.Record{runawayReturnedRecord(e.clock.Now(), h, fl.err)}})
	})
}

func abandonedRecord(now time.Time, in intent.Intent, h RunawayHandler, owned bool, after time.Duration) clarity.Record {
	why := []string{
		fmt.Sprintf("The handler for attempt %d of %s on %s was told to stop when %s, and had not returned %v later (workers.abandon_after): it ignores its cancellation",
			in.Attempts, in.Type, h.Where(), h.Cause, after),
		"Abandoned: it runs on, watched, out of any worker's hands; whatever it returns is discarded",
	}
	if owned {
		why = append(why, "The intent fails without a retry: while the handler may still run, a retry could run the task twice at once")
	}
	ctx := map[string]any{"type": in.Type, "attempt": in.Attempts, "cause": h.Cause, "abandon_after_ms": after.Milliseconds(), "intent_failed": owned}
	if h.RemoteWorker != "" {
		why = append(why, fmt.Sprintf("It runs on remote worker %s (host %s), which frees its slot too once abandon_after has passed there", h.RemoteWorker, h.RemoteHost))
		ctx["remote_worker"], ctx["remote_host"] = h.RemoteWorker, h.RemoteHost
	}
	r := rec(now, h.Worker, WhatHandlerAbandoned, h.Worker, howAbandoned, "abandoned", in.ID, why, ctx)
	r.Risk = 0.5
	return r
}

func abandonedFailedRecord(now time.Time, in intent.Intent, h RunawayHandler, kind string, took time.Duration) clarity.Record {
	why := []string{
		fmt.Sprintf("Handler (%s) for %s was abandoned: told to stop when %s, it ran on", kind, in.Type, h.Cause),
		fmt.Sprintf("Failed without a retry: while the handler may still run, a retry could run the task twice at once (`grace intent retry %s` runs it again)", in.ID),
	}
	r := rec(now, h.Worker, WhatFailed, h.Worker, howAbandoned, "failed", in.ID, why,
		map[string]any{"type": in.Type, "handler": kind, "attempt": in.Attempts, "error": in.LastError, "permanent": true,
			"abandoned": true, "duration_ms": took.Milliseconds()})
	r.Risk = 0.6
	return r
}

func runawayReturnedRecord(now time.Time, h RunawayHandler, err error) clarity.Record {
	outcome := "succeeded"
	if err != nil {
		outcome = "failed: " + clip(err.Error(), 300)
	}
	r := rec(now, h.Worker, WhatStaleDiscarded, h.Worker, howAbandoned, "discarded", h.IntentID,
		[]string{
			fmt.Sprintf("The abandoned handler for attempt %d of %s returned %s after it was abandoned, %s after it was told to stop (%s)",
				h.Attempt, h.Type, roundDur(now.Sub(h.AbandonedAt)), roundDur(now.Sub(h.ToldAt)), outcome),
			"Discarded: it had been abandoned, and the intent's state stands",
		},
		map[string]any{"worker": h.Worker, "attempt": h.Attempt, "late_outcome": outcome, "cause": h.Cause,
			"ran_on_ms": now.Sub(h.ToldAt).Milliseconds()})
	r.Confidence, r.Risk = 1, 0.2
	return r
}
