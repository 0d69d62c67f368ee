//go:build linux

package worker

import "syscall"

// dieWithParent has the kernel kill the command when the process that
// started it dies, however it dies (SIGKILL included): a handler must not
// run on after its worker, beside the retry the engine's recovery (or
// another worker, on the nats backend) starts of the same task. The signal
// reaches the command only, not the processes it started: those carry the
// owner's mark, by which the next process to claim the owner kills them
// (ClaimOwner).
func dieWithParent(attr *syscall.SysProcAttr) { attr.Pdeathsig = syscall.SIGKILL }
