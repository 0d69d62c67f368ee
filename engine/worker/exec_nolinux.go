//go:build unix && !linux

package worker

import "syscall"

// dieWithParent: only Linux has a parent-death signal; elsewhere a
// handler's command outlives a worker killed outright.
func dieWithParent(*syscall.SysProcAttr) {}
