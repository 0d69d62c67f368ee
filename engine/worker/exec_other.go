//go:build !unix

package worker

import "os/exec"

// ownProcessGroup is a no-op where process groups do not exist: context
// cancellation kills the command's own process only.
func ownProcessGroup(*exec.Cmd) {}

// killProcessGroup is a no-op where process groups do not exist.
func killProcessGroup(int) {}
