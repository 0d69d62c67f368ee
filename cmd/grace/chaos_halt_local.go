package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"grace/engine/chaos"
)

// localChaosRun is a grace chaos run process announced in the data folder
// (chaosRunningDir: a file named by its process ID holding its run ID).
type localChaosRun struct {
	PID   int    `json:"pid"`
	RunID string `json:"run_id"`
}

// localHalt is what haltLocalChaos did.
type localHalt struct {
	halted []localChaosRun // sent an interrupt
	stale  []localChaosRun // the process had gone: announcement removed
}

// errProcessGone: the announced process no longer runs (or its process
// ID now belongs to a later process).
var errProcessGone = errors.New("the process has gone")

// haltLocalChaos sends an interrupt (SIGINT) to every process announced in
// dir, each of which then halts its run, rolls it back and removes its
// announcement itself. An announcement whose process has gone is removed.
// Files not named by a process ID, and this process's own, are left
// alone. A process that cannot be signalled (another user's) is an error
// naming it; the others are still halted.
func haltLocalChaos(dir string) (localHalt, error) {
	out := localHalt{halted: []localChaosRun{}, stale: []localChaosRun{}}
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return out, nil
	}
	if err != nil {
		return out, fmt.Errorf("chaos halt: read the local runs in %s: %w", dir, err)
	}
	var errs []error
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid <= 0 || e.IsDir() || pid == os.Getpid() {
			continue
		}
		path := filepath.Join(dir, e.Name())
		data, err := os.ReadFile(path)
		info, serr := os.Stat(path)
		if errors.Is(err, fs.ErrNotExist) || errors.Is(serr, fs.ErrNotExist) {
			continue // the run ended meanwhile
		}
		if err != nil || serr != nil {
			errs = append(errs, fmt.Errorf("chaos halt: read %s: %w", path, errors.Join(err, serr)))
			continue
		}
		run := localChaosRun{PID: pid, RunID: strings.TrimSpace(string(data))}
		switch err := interruptChaosProcess(pid, info.ModTime()); {
		case err == nil:
			out.halted = append(out.halted, run)
		case errors.Is(err, errProcessGone):
			if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
				errs = append(errs, fmt.Errorf("chaos halt: remove the stale %s: %w", path, err))
			}
			out.stale = append(out.stale, run)
		default:
			errs = append(errs, fmt.Errorf("chaos halt: interrupt pid %d (run %s, announced in %s): %w", pid, orDash(run.RunID), path, err))
		}
	}
	return out, errors.Join(errs...)
}

// interruptChaosProcess sends SIGINT to pid, unless it has gone or started
// after announced (a later process given a reused ID, which must not be
// interrupted): then errProcessGone.
func interruptChaosProcess(pid int, announced time.Time) error {
	p, err := os.FindProcess(pid)
	if err != nil {
		return errProcessGone
	}
	defer p.Release()
	if err := p.Signal(syscall.Signal(0)); errors.Is(err, os.ErrProcessDone) || errors.Is(err, syscall.ESRCH) {
		return errProcessGone
	} else if err != nil {
		return err
	}
	if chaos.StartedAfter(pid, announced) {
		return errProcessGone
	}
	if err := p.Signal(os.Interrupt); errors.Is(err, os.ErrProcessDone) || errors.Is(err, syscall.ESRCH) {
		return errProcessGone
	} else if err != nil {
		return err
	}
	return nil
}
