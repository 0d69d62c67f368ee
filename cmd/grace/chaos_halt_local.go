package main

import (
	"encoding/json"
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

// haltNote is who halts a local run and why, left for it beside its
// announcement (in a file named by its process ID and haltNoteSuffix)
// before it is interrupted.
type haltNote struct {
	By     string `json:"by"`
	Reason string `json:"reason"`
}

// haltNoteSuffix names a halt note beside the announcement it is for.
const haltNoteSuffix = ".halt"

// readHaltNote reads and removes the halt note left for this process's
// run, if any.
func readHaltNote(dir string) (haltNote, bool) {
	path := filepath.Join(dir, strconv.Itoa(os.Getpid())+haltNoteSuffix)
	data, err := os.ReadFile(path)
	if err != nil {
		return haltNote{}, false
	}
	_ = os.Remove(path)
	var n haltNote
	if json.Unmarshal(data, &n) != nil || strings.TrimSpace(n.By) == "" {
		return haltNote{}, false
	}
	return n, true
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
//
// Before the interrupt, who halts it and why are left beside the
// announcement (haltNote), so that the run is stored as halted by them,
// not as merely interrupted.
func haltLocalChaos(dir, by, reason string) (localHalt, error) {
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
		note, _ := json.Marshal(haltNote{By: by, Reason: reason})
		if err := os.WriteFile(path+haltNoteSuffix, note, 0o600); err != nil {
			errs = append(errs, fmt.Errorf("chaos halt: leave the halt's reason beside %s: %w", path, err))
		}
		switch err := interruptChaosProcess(pid, info.ModTime()); {
		case err == nil:
			out.halted = append(out.halted, run)
		case errors.Is(err, errProcessGone):
			_ = os.Remove(path + haltNoteSuffix)
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
