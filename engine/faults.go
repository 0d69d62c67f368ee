package engine

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"grace/engine/clarity"
	"grace/engine/intent"
)

// ErrUnknownWorker: a fault hook named no current worker.
var ErrUnknownWorker = errors.New("no such worker")

// Faults are the fault hooks of Layer 2 that the chaos runner uses to break
// the engine on purpose: kill or hang a worker, pause the scheduler, flood
// the intake, slow down or fail handlers. They are part of the engine's
// API, not test code: each injection is recorded (fault_injected) before
// it takes effect, and the safeguards meet the fault as they would meet
// the real thing. *Engine implements it. Hooks that act on running parts
// return ErrStopped on an engine that is not running.
type Faults interface {
	// KillWorker ends the worker called name at once, like a crashed
	// process: its running handler is cancelled and its result never
	// reported. The supervisor notices the exit at once.
	KillWorker(ctx context.Context, name, reason string) error
	// HangWorker freezes the worker's loop: it answers no heartbeat and
	// reports no result until ReleaseWorker or KillWorker; its handler
	// runs on. The supervisor declares it dead after
	// workers.heartbeat_misses unanswered pings.
	HangWorker(ctx context.Context, name, reason string) error
	// ReleaseWorker ends a hang. A worker declared dead meanwhile then
	// reports its late result, which the lease fence discards, and stops.
	ReleaseWorker(ctx context.Context, name string) error
	// InjectSchedulerPause pauses the scheduler as a fault; it is resumed
	// like an operator's pause (ResumeScheduler, scheduler_auto_resume).
	InjectSchedulerPause(ctx context.Context, reason string) error
	// FloodIntake submits spec.Count intents as fast as intake takes them
	// and returns what became of them.
	FloodIntake(ctx context.Context, spec FloodSpec) (FloodResult, error)
	// InjectHandlerFault slows or fails the handlers of intentType ("*":
	// every type without its own fault) until cleared.
	InjectHandlerFault(ctx context.Context, intentType string, f HandlerFault) error
	// ClearHandlerFaults removes every injected handler fault.
	ClearHandlerFaults(ctx context.Context) error
}

var _ Faults = (*Engine)(nil)

// actorFaults is the Who of fault_injected records.
const actorFaults = "fault_injector"

// WhatFaultInjected names the record of every fault injection.
const WhatFaultInjected = "fault_injected"

// hangs are the workers a fault has frozen, by name, so that a hung worker
// declared dead (and gone from the pool) can still be released.
type hangs struct {
	mu sync.Mutex
	by map[string]*workerState
}

// KillWorker ends the worker called name (see Faults).
func (e *Engine) KillWorker(ctx context.Context, name, reason string) error {
	w, err := e.faultTarget("kill worker", name)
	if err != nil {
		return err
	}
	reason = orDefault(strings.TrimSpace(reason), "fault injection")
	if err := e.recordFault(ctx, w.name, "kill_worker", reason,
		name+" is killed like a crashed process: its handler is cancelled and its result never reported"); err != nil {
		return fmt.Errorf("kill worker %s: %w", name, err)
	}
	e.pool.mu.Lock()
	cancel := w.cancel
	e.pool.mu.Unlock()
	cancel(killedError{reason: reason})
	return nil
}

// HangWorker freezes the worker called name (see Faults). Hanging a hung
// worker does nothing more.
func (e *Engine) HangWorker(ctx context.Context, name, reason string) error {
	w, err := e.faultTarget("hang worker", name)
	if err != nil {
		return err
	}
	reason = orDefault(strings.TrimSpace(reason), "fault injection")
	if err := e.recordFault(ctx, w.name, "hang_worker", reason,
		fmt.Sprintf("%s stops answering heartbeats and reporting results until released; it is declared dead after %d missed pings",
			name, e.cfg.Workers.HeartbeatMisses)); err != nil {
		return fmt.Errorf("hang worker %s: %w", name, err)
	}
	e.pool.mu.Lock()
	if !w.hung {
		w.hung, w.release = true, make(chan struct{})
	}
	e.pool.mu.Unlock()
	e.hangs.mu.Lock()
	e.hangs.by[w.name] = w
	e.hangs.mu.Unlock()
	select {
	case w.poke <- struct{}{}:
	default:
	}
	return nil
}

// ReleaseWorker ends the hang of the worker called name, even if it has
// been declared dead since (see Faults). It returns ErrUnknownWorker when
// no hung worker has that name.
func (e *Engine) ReleaseWorker(ctx context.Context, name string) error {
	e.hangs.mu.Lock()
	w, ok := e.hangs.by[name]
	delete(e.hangs.by, name)
	e.hangs.mu.Unlock()
	if !ok {
		return fmt.Errorf("release worker %s: %w (it is not hung)", name, ErrUnknownWorker)
	}
	if err := e.recordFault(ctx, name, "release_worker", "end of the hang",
		name+" resumes; if it was declared dead, its late result is fenced off and it stops"); err != nil {
		return fmt.Errorf("release worker %s: %w", name, err)
	}
	e.pool.mu.Lock()
	if w.hung {
		w.hung = false
		close(w.release)
	}
	e.pool.mu.Unlock()
	return nil
}

// InjectSchedulerPause pauses the scheduler as a fault (see Faults).
func (e *Engine) InjectSchedulerPause(ctx context.Context, reason string) error {
	return e.pauseScheduler(ctx, actorFaults, orDefault(strings.TrimSpace(reason), "fault injection"), true)
}

// faultTarget finds the running worker called name.
func (e *Engine) faultTarget(doing, name string) (*workerState, error) {
	if !e.ready.Load() {
		return nil, fmt.Errorf("%s %s: %w", doing, name, ErrStopped)
	}
	w := e.pool.find(name)
	if w == nil {
		return nil, fmt.Errorf("%s %s: %w", doing, name, ErrUnknownWorker)
	}
	return w, nil
}

// recordFault durably records a fault injection before it takes effect.
func (e *Engine) recordFault(ctx context.Context, where, fault, reason, effect string, extra ...any) error {
	c := map[string]any{"fault": fault, "reason": reason}
	for i := 0; i+1 < len(extra); i += 2 {
		c[fmt.Sprint(extra[i])] = extra[i+1]
	}
	r := rec(e.clock.Now(), actorFaults, WhatFaultInjected, where, "chaos_fault_hook", "injected", "",
		[]string{"Fault " + fault + ": " + reason, effect}, c)
	r.Confidence, r.Risk = 1, 0.7
	if _, err := e.apply(ctx, &intent.Change{Records: []clarity.Record{r}}); err != nil {
		return fmt.Errorf("record the fault: %w", err)
	}
	return nil
}
