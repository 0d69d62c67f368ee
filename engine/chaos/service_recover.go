package chaos

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"grace/engine"
)

// InterruptedError is the Error of a stored run that was still running
// when the process running it stopped (a crash, a kill): the next chaos
// service on the same store marks it so.
const InterruptedError = "interrupted: the process running it stopped"

// interruptedScan is how many stored runs, newest first, a new service
// looks through for interrupted ones.
const interruptedScan = 500

// recoverTimeout bounds the scan a new service makes of the store.
const recoverTimeout = 10 * time.Second

// serviceMarkSuffix names the file a service keeps in runningDir while a
// run is in progress: <pid>.service holding the run ID. It is not named
// by a process ID alone, so that a local grace chaos halt (which
// interrupts the processes announced as <pid>) leaves it alone.
const serviceMarkSuffix = ".service"

// runningDir is dataDir/chaos/running, where grace chaos run announces
// itself (<pid>) and a service marks the run it holds (<pid>.service).
func runningDir(dataDir string) string { return filepath.Join(dataDir, "chaos", "running") }

// recoverInterrupted marks the stored runs whose process has gone as
// interrupted (MarkInterrupted) and records their end on the main engine.
func (s *Service) recoverInterrupted() {
	ctx, cancel := context.WithTimeout(context.Background(), recoverTimeout)
	defer cancel()
	for _, run := range MarkInterrupted(ctx, s.opts.Store, s.opts.DataDir, s.opts.Clock.Now().UTC(), s.opts.Logger) {
		s.recordEnd(run)
	}
}

// MarkInterrupted marks every run in rs still in state running whose
// process has gone as an error (InterruptedError), finished at now, and
// returns the runs it marked. A run is held while a file in
// dataDir/chaos/running named by a live process's ID (<pid>, a grace chaos
// run, or <pid>.service, a chaos service) holds its run ID. Service marks
// of processes that have gone are removed. Failures are logged: callers
// go on regardless.
func MarkInterrupted(ctx context.Context, rs RunStore, dataDir string, now time.Time, log *slog.Logger) []engine.ChaosRun {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	runs, err := rs.ChaosRuns(ctx, interruptedScan)
	if err != nil {
		log.Error("look for interrupted chaos runs", "err", err)
		return nil
	}
	var held map[string]bool
	var marked []engine.ChaosRun
	for _, run := range runs {
		if run.State != engine.ChaosRunning {
			continue
		}
		if held == nil {
			held = heldRuns(dataDir, log)
		}
		if held[run.RunID] {
			continue
		}
		run.State, run.Error, run.Progress, run.FinishedAt = engine.ChaosError, InterruptedError, nil, now
		if err := rs.SaveChaosRun(ctx, run); err != nil {
			log.Error("mark an interrupted chaos run", "run_id", run.RunID, "err", err)
			continue
		}
		log.Warn("chaos run marked interrupted: the process running it stopped", "run_id", run.RunID)
		marked = append(marked, run)
	}
	return marked
}

// heldRuns reads dataDir/chaos/running: the run IDs held by live
// processes. A service mark (<pid>.service) whose process has gone is
// removed (a local run's own announcement is left to grace chaos halt).
// With no dataDir, nothing is held.
func heldRuns(dataDir string, log *slog.Logger) map[string]bool {
	held := map[string]bool{}
	if dataDir == "" {
		return held
	}
	dir := runningDir(dataDir)
	entries, err := os.ReadDir(dir)
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			log.Warn("read the chaos runs in progress", "dir", dir, "err", err)
		}
		return held
	}
	for _, e := range entries {
		name, mark := strings.CutSuffix(e.Name(), serviceMarkSuffix)
		pid, err := strconv.Atoi(name)
		if err != nil || pid <= 0 || e.IsDir() {
			continue
		}
		path := filepath.Join(dir, e.Name())
		data, err := os.ReadFile(path)
		info, serr := os.Stat(path)
		if err != nil || serr != nil {
			continue
		}
		if !processAlive(pid, info.ModTime()) {
			if mark {
				if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
					log.Warn("remove a stale chaos run mark", "file", path, "err", err)
				}
			}
			continue
		}
		if id := strings.TrimSpace(string(data)); id != "" {
			held[id] = true
		}
	}
	return held
}

// processAlive tells whether the process pid that a file written at
// announced names still runs (signal 0; a process of another user counts
// as running). A process that started after announced holds a reused ID:
// the one announced has gone.
func processAlive(pid int, announced time.Time) bool {
	if pid == os.Getpid() {
		return true
	}
	err := syscall.Kill(pid, 0)
	return (err == nil || errors.Is(err, syscall.EPERM)) && !StartedAfter(pid, announced)
}

// markRun writes runningDir/<pid>.service holding runID and returns the
// func that removes it; with no DataDir, or when it cannot be written
// (logged), it does nothing.
func (s *Service) markRun(runID string) func() {
	if s.opts.DataDir == "" {
		return func() {}
	}
	dir := runningDir(s.opts.DataDir)
	p := filepath.Join(dir, strconv.Itoa(os.Getpid())+serviceMarkSuffix)
	err := os.MkdirAll(dir, 0o700)
	if err == nil {
		err = os.WriteFile(p, []byte(runID+"\n"), 0o600)
	}
	if err != nil {
		s.opts.Logger.Warn("mark the chaos run in progress (another process may take it for interrupted)",
			"run_id", runID, "err", fmt.Errorf("%s: %w", p, err))
		return func() {}
	}
	return func() {
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			s.opts.Logger.Warn("remove the chaos run mark", "file", p, "err", err)
		}
	}
}
