package worker

import (
	"errors"
	"sync/atomic"
)

// The environment variables that mark the processes of exec handlers. Every
// command an exec handler starts gets them, and every process that command
// starts inherits them, so the whole tree of a handler carries the mark,
// even a process that left the handler's process group (setsid) or whose
// parent died.
const (
	// EnvOwner names what the handlers run for, as claimed by ClaimOwner:
	// the store of grace serve and the console, the control plane of a
	// grace worker.
	EnvOwner = "GRACE_HANDLER_OWNER"
	// EnvOwnerProcess names the grace process that ran the handler:
	// "<pid>:<start time>", the start time in clock ticks after boot
	// (field 22 of /proc/<pid>/stat), so that a reused PID is not taken
	// for it. It is "<pid>" where there is no /proc to read.
	EnvOwnerProcess = "GRACE_HANDLER_PROCESS"
)

// ownerMark is the mark of the handlers this process runs.
type ownerMark struct {
	owner   string // EnvOwner's value
	process string // EnvOwnerProcess's value: this process
}

// claimed is this process's mark, once ClaimOwner has been called. It is
// process-wide because the mark outlives the process: whatever claims the
// same owner after it died must find its handlers' processes.
var claimed atomic.Pointer[ownerMark]

// ClaimOwner marks the processes of the exec handlers this process starts
// from now on as owner's, and kills the processes that handlers run for
// the same owner by an earlier grace process, one that is no longer
// running, left behind. It returns how many processes it killed.
//
// owner must name what only one live process runs handlers for at a time
// (a store whose lock this process holds), or what several may share when
// each leftover is fair game once its process died (the control plane that
// reruns their tasks): a process whose mark names a grace process that
// still runs is never touched, nor is this process. Call it before any
// task is run again, so that a task's rerun never runs beside what its
// first run left running. Killing is by SIGKILL, of each marked process
// found (see the Linux notes below), scanned again until no new one is
// found, and ClaimOwner returns once they have exited (or after 10 s), so
// that what they held (files, locks, ports) is free for the rerun; a
// process without the exact mark is never signalled.
//
// Only Linux scans for leftovers: /proc/<pid>/environ of every process
// this user may read, for the entry EnvOwner=owner, and the entry
// EnvOwnerProcess telling whose handler it was (a missing or unreadable
// one counts as a process that is gone). A process that replaced its
// environment (env -i, or an exec with a new one) carries no mark and is
// not found. Elsewhere ClaimOwner only marks, and returns 0.
//
// The error says what could not be done (an empty owner, /proc unreadable,
// marked processes still appearing after many rounds, killed ones not
// exiting); the count is then of what was killed.
func ClaimOwner(owner string) (killed int, err error) {
	if owner == "" {
		return 0, errors.New("claim handler owner: the owner is empty")
	}
	self := selfProcess()
	claimed.Store(&ownerMark{owner: owner, process: self})
	return killLeftovers(owner, self)
}

// ownerEnv returns the environment entries that mark a handler's command,
// or nil before ClaimOwner.
func ownerEnv() []string {
	m := claimed.Load()
	if m == nil {
		return nil
	}
	return []string{EnvOwner + "=" + m.owner, EnvOwnerProcess + "=" + m.process}
}
