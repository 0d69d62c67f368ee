package kernel

import (
	"context"

	"grace/engine/mesh"
)

// The commands the control plane obeys on kernel.control.
const (
	CommandStop    = "stop"
	CommandRestart = "restart"
)

// onCommand obeys a command delivered on kernel.control. Only what the bus
// let through arrives here: with bus_acl on, only kernels allowed to
// publish on kernel.control can stop or restart another kernel.
func (cp *ControlPlane) onCommand(ctx context.Context, ev mesh.Event) {
	cmd, target := ev.Field("command"), ev.Field("target")
	cp.mu.Lock()
	k := cp.kernels[target]
	if k == nil {
		cp.mu.Unlock()
		cp.log.Warn("kernel command for an unknown kernel", "command", cmd, "target", target, "from", ev.Source)
		return
	}
	switch cmd {
	case CommandStop:
		if k.state != StateRunning && k.state != StateUnresponsive {
			cp.mu.Unlock()
			return
		}
		k.stopBy = ev.Source
		inc, cancel := k.incarnation, k.cancel
		cp.mu.Unlock()
		cp.record(commandRecord(ev.At, ev.Source, target, cmd, inc, cp.bus.ACL()))
		if cancel != nil {
			cancel()
		}
	case CommandRestart:
		cp.mu.Unlock()
		inc, err := cp.restart(ctx, k, cp.stopTimeout())
		if err != nil {
			cp.log.Warn("kernel restart command failed", "target", target, "from", ev.Source, "err", err)
			return
		}
		cp.record(commandRecord(ev.At, ev.Source, target, cmd, inc, cp.bus.ACL()))
	default:
		cp.mu.Unlock()
		cp.log.Warn("unknown kernel command", "command", cmd, "target", target, "from", ev.Source)
	}
}
