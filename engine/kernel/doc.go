// Package kernel is Grace's Layer 1 control plane: the kernels (20 by
// default, named in config, some critical) as supervised goroutines that
// heartbeat onto a message bus, the bus's ACL, the critical-kernel
// heartbeat trigger, the kernel failure analyzer and the emergency recovery
// playbooks.
//
// A kernel is a goroutine owned by the ControlPlane. It heartbeats on
// kernel.heartbeat through the Bus every kernels.heartbeat_interval and
// stops when its context ends, when one of its dependencies has been down
// for twice kernels.missed_after intervals, or when a fault is injected
// (Kill panics it, Hang silences it, Exhaust drives its memory past
// kernels.memory_limit_mb).
//
// The heartbeat monitor checks, every interval, which kernels it has not
// heard from. One that has not heartbeat since the last check and is not
// in its loop (hung in a step, or ended) misses a check; a kernel in its
// loop is alive however late its heartbeat, so a starved scheduler or a
// slow bus never sets off a recovery. A kernel that misses
// kernels.missed_after checks in a row is down; the
// analyzer names the root cause (panic, resource exhaustion, dependency
// failure, a stop command, or missed heartbeats of a goroutine that is
// still alive) with its evidence. For a critical kernel the trigger then,
// with kernel_auto_recovery on, submits a Tier 4 emergency_recovery intent
// whose handler (RunRecovery) runs the recovery playbook: isolate, capture
// state, restart, verify the heartbeat, release, and escalate after the
// playbook's number of failed attempts. A failed non-critical kernel is
// restarted by its supervisor after kernels.restart_backoff once its
// dependencies are up. With kernel_auto_recovery off nothing is restarted:
// the failure is detected, analysed and narrated, and the kernel stays down.
//
// The bus stamps every message with its sender and, with bus_acl on, lets
// a kernel publish only where kernels.list.<name>.publishes allows (every
// kernel may heartbeat). A violation is refused, counted and narrated once
// per window; a kernel past kernels.acl_violation_limit violations in
// kernels.acl_window is suspended from the bus for kernels.acl_suspend.
// With bus_acl off anything a kernel sends is delivered, including a stop
// command on kernel.control aimed at another kernel.
package kernel
