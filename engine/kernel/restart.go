package kernel

import (
	"context"
	"fmt"
	"time"
)

// restartDue restarts, at a heartbeat check, a non-critical kernel whose
// supervisor restart is due (kernels.restart_backoff after it failed or
// was found hung) and whose dependencies run; with a dependency down it
// tries again a backoff later. The restart itself runs on a goroutine of
// its own (it waits for the old incarnation to stop).
func (cp *ControlPlane) restartDueLocked(k *kernel, now time.Time) {
	if k.restartAt.IsZero() || now.Before(k.restartAt) || cp.closing {
		return
	}
	if k.state != StateFailed && k.state != StateUnresponsive {
		k.restartAt = time.Time{}
		return
	}
	if dep := cp.depNotRunningLocked(k); dep != "" {
		k.restartAt = now.Add(cp.cfg.RestartBackoff)
		return
	}
	k.restartAt = time.Time{}
	ctx := cp.runCtx
	cp.wg.Go(func() {
		inc, err := cp.restart(ctx, k, cp.stopTimeout())
		if err != nil {
			cp.log.Warn("supervisor restart failed", "kernel", k.name, "err", err)
			return
		}
		cp.mu.Lock()
		diag := k.diagnosis
		cp.mu.Unlock()
		cp.record(restartedRecord(cp.clock.Now(), k.name, inc, diag, cp.cfg.RestartBackoff))
	})
}

// stopTimeout bounds the wait for an incarnation to stop in a supervisor
// restart.
func (cp *ControlPlane) stopTimeout() time.Duration {
	return cp.cfg.HeartbeatInterval * time.Duration(cp.cfg.MissedAfter)
}

// restart stops k's current incarnation, waiting up to timeout for its
// goroutine to end, and starts a new one, whose number it returns.
func (cp *ControlPlane) restart(ctx context.Context, k *kernel, timeout time.Duration) (int, error) {
	cp.mu.Lock()
	cancel, done, old := k.cancel, k.done, k.incarnation
	cp.mu.Unlock()
	if cancel != nil {
		cancel()
	}
	if done != nil {
		select {
		case <-done:
		case <-cp.clock.After(timeout):
			return 0, fmt.Errorf("incarnation %d of kernel %s did not stop within %v", old, k.name, timeout)
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	}
	cp.mu.Lock()
	defer cp.mu.Unlock()
	if !cp.launchLocked(k, cp.clock.Now()) {
		return 0, ErrStopping
	}
	k.restarts++
	return k.incarnation, nil
}

// depDown returns a dependency of the kernel that has been down for
// dependencyGrace, or "".
func (cp *ControlPlane) depDown(name string) string {
	cp.mu.Lock()
	defer cp.mu.Unlock()
	grace := cp.dependencyGrace()
	now := cp.clock.Now()
	for _, d := range cp.kernels[name].spec.DependsOn {
		if dk := cp.kernels[d]; dk.down() && now.Sub(dk.since) >= grace {
			return d
		}
	}
	return ""
}

// dependencyGrace is how long a kernel bears a dependency down before it
// stops: twice the time it takes to find a kernel down
// (kernels.missed_after intervals), so that a dependency's recovery
// usually comes first.
func (cp *ControlPlane) dependencyGrace() time.Duration {
	return 2 * cp.cfg.HeartbeatInterval * time.Duration(cp.cfg.MissedAfter)
}

// depNotRunningLocked returns a dependency that is not running, or "".
func (cp *ControlPlane) depNotRunningLocked(k *kernel) string {
	for _, d := range k.spec.DependsOn {
		if cp.kernels[d].down() {
			return d
		}
	}
	return ""
}
