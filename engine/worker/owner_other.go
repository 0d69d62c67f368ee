//go:build !linux

package worker

import (
	"os"
	"strconv"
)

// selfProcess is this process's EnvOwnerProcess value: its PID only, as
// there is no /proc to read a start time from.
func selfProcess() string { return strconv.Itoa(os.Getpid()) }

// killLeftovers finds nothing where there is no /proc to scan.
func killLeftovers(string, string) (int, error) { return 0, nil }
