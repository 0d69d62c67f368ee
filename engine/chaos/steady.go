package chaos

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"grace/engine"
)

// steady checks the scenario's steady state. Before the faults a check
// that fails is an error (the run cannot start from a broken engine);
// after the rollback it is a failure of the scenario: the engine did not
// come back. queue_drained waits up to deadline.
func (r *run) steady(ctx context.Context, when string, deadline time.Duration) error {
	var problems []string
	for _, c := range r.sc.SteadyState {
		if p := r.check(ctx, c, when, deadline); p != "" {
			problems = append(problems, p)
		}
	}
	if len(problems) == 0 {
		return nil
	}
	if when == "before" {
		return fmt.Errorf("steady state before the faults: %v", problems)
	}
	if ctx.Err() != nil {
		return fmt.Errorf("%w: %w", errHalted, context.Cause(ctx))
	}
	for _, p := range problems {
		r.failf("steady state after the rollback: %s", p)
	}
	return nil
}

// check runs one steady-state check ("before" or "after" the faults)
// and returns what is wrong, or "".
func (r *run) check(ctx context.Context, c, when string, deadline time.Duration) string {
	switch c {
	case SteadyReady:
		if err := r.waitFor(ctx, deadline, func() bool { return r.eng.Snapshot().Ready }); err != nil {
			return "engine not ready"
		}
	case SteadySchedulerRunning:
		if s := r.eng.Snapshot(); s.Layer2.Paused {
			return "scheduler paused"
		}
	case SteadyWorkersFull:
		if r.cfg.Backend.Kind == engine.BackendNATS {
			return r.checkRemoteWorkersFull(ctx, when, deadline)
		}
		want := r.cfg.Workers.Count
		var have int
		err := r.waitFor(ctx, deadline, func() bool {
			have = 0
			for _, w := range r.eng.Snapshot().Workers {
				if !slices.Contains(r.killed, w.Name) {
					have++
				}
			}
			return have >= want
		})
		if err != nil {
			return fmt.Sprintf("%d of %d workers", have, want)
		}
	case SteadyQueueDrained:
		var depth, busy int
		err := r.waitFor(ctx, deadline, func() bool {
			s := r.eng.Snapshot()
			depth, busy = s.QueueDepth, s.WorkersBusy
			return depth == 0 && busy == 0
		})
		if err != nil {
			return fmt.Sprintf("queue not drained within %v (%d queued, %d workers busy)", deadline, depth, busy)
		}
	}
	return ""
}

// checkRemoteWorkersFull is workers_full on the nats backend. There the
// engine's pool slots are the dispatcher's, in the control plane's
// process: a fault never takes them, so counting them would prove
// nothing. The workers that run the tasks are remote, and the check
// counts those the control plane hears from: the snapshot's workers with
// a Host, healthy (heartbeats fresh) and not killed by a fault. A killed
// remote worker comes back only if something outside Grace restarts it
// (a supervisor such as systemd or Kubernetes, which the isolated nats
// target simulates), under whatever name its restart gives it. The
// workers counted are noted, so that the record of the run names them.
func (r *run) checkRemoteWorkersFull(ctx context.Context, when string, deadline time.Duration) string {
	want := r.cfg.Workers.Count
	var have []string
	err := r.waitFor(ctx, deadline, func() bool {
		have = have[:0]
		for _, w := range r.eng.Snapshot().Workers {
			if w.Host != "" && w.Healthy && !slices.Contains(r.killed, w.Name) {
				have = append(have, w.Name)
			}
		}
		return len(have) >= want
	})
	if err != nil {
		return fmt.Sprintf("%d of %d healthy remote workers on nats (%s)", len(have), want, strings.Join(have, ", "))
	}
	r.notef("workers_full %s the faults on nats: %d healthy remote workers of %d wanted: %s", when, len(have), want, strings.Join(have, ", "))
	return ""
}
