package kernel

import "fmt"

// Kill makes a running kernel panic at once (a fault for chaos runs). The
// supervisor recovers the panic; what follows is up to the safeguards.
func (cp *ControlPlane) Kill(name string) error { return cp.inject(name, faultPanic) }

// Hang makes a running kernel stop heartbeating while its goroutine stays
// alive, until it is restarted or the control plane stops.
func (cp *ControlPlane) Hang(name string) error { return cp.inject(name, faultHang) }

// Exhaust makes a running kernel report memory past
// kernels.memory_limit_mb in one last heartbeat and stop, out of memory.
func (cp *ControlPlane) Exhaust(name string) error { return cp.inject(name, faultExhaust) }

// inject delivers a fault to a running kernel's goroutine.
func (cp *ControlPlane) inject(name string, f fault) error {
	cp.mu.Lock()
	defer cp.mu.Unlock()
	k := cp.kernels[name]
	if k == nil {
		return fmt.Errorf("inject fault: %w: %q", ErrUnknownKernel, name)
	}
	if k.faults == nil || (k.state != StateRunning && k.state != StateUnresponsive) {
		return fmt.Errorf("inject fault into %s (%s): %w", name, stateOr(k.state), ErrNotRunning)
	}
	select {
	case k.faults <- f:
		return nil
	default:
		return fmt.Errorf("inject fault into %s: a fault is already pending", name)
	}
}

func stateOr(s string) string {
	if s == "" {
		return "not started"
	}
	return s
}
