package chaos

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"path/filepath"
	"sync"
	"time"

	"grace/engine"
	"grace/engine/clock"
)

// Loop is the autonomous chaos loop: it runs the seed's daily schedule,
// escalates scenarios that keep passing, and turns a missing safeguard
// into a playbook, a finding and a remediation intent through governance,
// whose fix the next run verifies. One goroutine, started by Start and
// stopped by Stop or the context, owns everything but the state State
// returns.
type Loop struct {
	cfg         engine.ChaosLoopConfig
	lib         *Library
	runner      LoopRunner
	store       RunStore
	gov         LoopGovernor
	rec         LoopRecorder
	clk         clock.Clock
	log         *slog.Logger
	playbookDir string

	mu    sync.Mutex
	state engine.ChaosLoopState

	cancel context.CancelFunc
	done   chan struct{}

	// Confined to the loop's goroutine (and Start, before it runs).
	overlay  map[string]engine.SafeguardConfig
	watching map[string]string // remediation intent ID → finding ID
	cursor   time.Time         // slots up to here are run or counted skipped
}

// NewLoop checks cfg and deps and returns a loop that is not running yet.
func NewLoop(cfg engine.ChaosLoopConfig, deps LoopDeps) (*Loop, error) {
	switch {
	case deps.Library == nil:
		return nil, errors.New("chaos loop: no scenario library")
	case deps.Runner == nil:
		return nil, errors.New("chaos loop: no runner")
	case deps.Store == nil:
		return nil, errors.New("chaos loop: no run store")
	case deps.Governor == nil:
		return nil, errors.New("chaos loop: no governor to submit remediations through")
	case cfg.EscalateAfter < 1:
		return nil, fmt.Errorf("chaos loop: chaos.loop.escalate_after (%d) must be at least 1", cfg.EscalateAfter)
	case cfg.MaxDifficulty < 1:
		return nil, fmt.Errorf("chaos loop: chaos.loop.max_difficulty (%d) must be at least 1", cfg.MaxDifficulty)
	case cfg.DeniedHold < 0:
		return nil, fmt.Errorf("chaos loop: chaos.loop.denied_hold (%v) must not be negative", cfg.DeniedHold)
	}
	l := &Loop{cfg: cfg, lib: deps.Library, runner: deps.Runner, store: deps.Store, gov: deps.Governor,
		rec: deps.Recorder, clk: deps.Clock, log: deps.Logger, playbookDir: cfg.PlaybooksDir,
		overlay: map[string]engine.SafeguardConfig{}, watching: map[string]string{}}
	if l.clk == nil {
		l.clk = clock.Real{}
	}
	if l.rec == nil {
		l.rec, _ = deps.Governor.(LoopRecorder)
	}
	if l.log == nil {
		l.log = slog.New(slog.DiscardHandler)
	}
	if l.playbookDir == "" {
		l.playbookDir = filepath.Join(deps.DataDir, "chaos", "playbooks")
	}
	if cfg.Enabled {
		// A folder the playbooks cannot go to would lose every finding
		// (each is opened with its playbook) to a line in the log.
		if err := engine.FolderPossible(l.playbookDir); err != nil {
			return nil, fmt.Errorf("chaos.loop.playbooks_dir %s: %w", l.playbookDir, err) // the caller says "chaos loop"
		}
	}
	l.state.Enabled = cfg.Enabled
	return l, nil
}

// Start loads what the loop needs from the store (the fixes applied, the
// last loop run, so that slots missed while the engine was down are
// counted and not run) and starts the loop's goroutine, which stops when
// ctx is cancelled or Stop is called. With chaos.loop.enabled off it does
// nothing. Start twice is an error. Start and Stop belong to the loop's
// owner and are not to be called concurrently; State is safe from any
// goroutine.
func (l *Loop) Start(ctx context.Context) error {
	if !l.cfg.Enabled {
		return nil
	}
	if l.done != nil {
		return errors.New("chaos loop: already started")
	}
	now := l.clk.Now()
	l.cursor = now
	runs, err := l.store.ChaosRuns(ctx, 200)
	if err != nil {
		return fmt.Errorf("chaos loop: read runs: %w", err)
	}
	// Skipped starts as the slots since the loop's last stored run.
	for _, r := range runs { // newest first
		if r.Trigger != engine.ChaosTriggerLoop {
			continue
		}
		last := r.FinishedAt
		if last.IsZero() {
			last = r.StartedAt
		}
		l.mu.Lock()
		l.state.LastRunAt, l.state.LastRunID = r.StartedAt, r.RunID
		l.state.Skipped = slotsBetween(last.In(now.Location()), now)
		l.mu.Unlock()
		break
	}
	if err := l.loadOverlay(ctx); err != nil {
		return err
	}
	ctx, l.cancel = context.WithCancel(ctx)
	l.done = make(chan struct{})
	events := l.gov.Subscribe(ctx)
	go l.run(ctx, events)
	return nil
}

// Stop stops the loop and waits for its goroutine; a run in progress is
// cancelled (the runner halts it and rolls its faults back). Stop on a
// loop that never started, or twice, does nothing.
func (l *Loop) Stop() {
	if l.done == nil {
		return
	}
	l.cancel()
	<-l.done
}

// State returns the loop's state for the dashboard: the next slot, its
// time and scenarios, the last run and the slots skipped.
func (l *Loop) State() engine.ChaosLoopState {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := l.state
	s.NextScenarios = append([]string(nil), s.NextScenarios...)
	return s
}

// run is the loop's goroutine.
func (l *Loop) run(ctx context.Context, events <-chan engine.Event) {
	defer close(l.done)
	poll := l.clk.NewTicker(LoopPollEvery)
	defer poll.Stop()
	l.reconcile(ctx)
	slot, at := l.arm(ctx)
	timer := l.clk.After(at.Sub(l.clk.Now()))
	for {
		select {
		case <-ctx.Done():
			return
		case ev, ok := <-events:
			if !ok {
				events = nil
				continue
			}
			if ev.Kind == "intent" && ev.Intent.State.Terminal() {
				if _, watched := l.watching[ev.Intent.ID]; watched {
					l.reconcile(ctx)
				}
			}
		case <-poll.C():
			l.reconcile(ctx)
		case <-timer:
			if late := l.clk.Now().Sub(at); late <= SlotGrace {
				l.runSlot(ctx, slot, at)
			} else {
				l.log.Warn("chaos loop: slot missed", "slot", slot.Name, "at", at, "late", late)
				l.skip(1)
				l.slotSkipped(ctx, slot, at, nil, fmt.Sprintf("the %s slot was missed: the loop woke %v after it, more than %v late", slot.Name, late.Round(time.Second), SlotGrace), nil)
			}
			if ctx.Err() != nil {
				return
			}
			now := l.clk.Now()
			if n := slotsBetween(at, now); n > 0 {
				// Slots that came while this one ran, or during the gap
				// before a late wake: counted, not piled up.
				l.log.Warn("chaos loop: slots skipped", "count", n, "since", at)
				l.skip(n)
				l.slotSkipped(ctx, slot, at, nil, skippedSince(n, slot.Name),
					map[string]any{"count": n})
			}
			l.cursor = now
			slot, at = l.arm(ctx)
			timer = l.clk.After(at.Sub(now))
		}
	}
}

// arm computes the next slot after the cursor and publishes it in State.
func (l *Loop) arm(ctx context.Context) (loopSlot, time.Time) {
	slot, at := nextSlot(l.cursor)
	states, err := l.store.ScenarioStates(ctx)
	if err != nil {
		l.log.Error("chaos loop: read scenario states", "err", err)
	}
	ids := slot.scenarios(l.lib, states, at)
	l.mu.Lock()
	l.state.NextRunAt, l.state.NextSlot, l.state.NextScenarios = at, slot.Name, ids
	l.mu.Unlock()
	return slot, at
}

// skippedSince says that n slots after the slot named were skipped.
func skippedSince(n int, slot string) string {
	if n == 1 {
		return "1 more slot came while the " + slot + " slot ran, or while the loop was late, and was skipped"
	}
	return fmt.Sprintf("%d more slots came while the %s slot ran, or while the loop was late, and were skipped", n, slot)
}

// slotSkipped puts on the record that the slot due at at ran nothing,
// and why (ids: the scenarios it was to run, when known; more: context).
func (l *Loop) slotSkipped(ctx context.Context, slot loopSlot, at time.Time, ids []string, why string, more map[string]any) {
	c := map[string]any{"slot": slot.Name, "due": at.UTC().Format(time.RFC3339)}
	if len(ids) > 0 {
		c["scenarios"] = ids
	}
	maps.Copy(c, more)
	l.record(ctx, engine.WhatChaosSlotSkipped, "", "", "skipped", []string{why}, c)
}

// skip counts n skipped slots.
func (l *Loop) skip(n int) {
	l.mu.Lock()
	l.state.Skipped += n
	l.mu.Unlock()
}

// runSlot runs the slot due at at and acts on its results. A run refused
// because another is going (an operator's) counts the slot skipped.
func (l *Loop) runSlot(ctx context.Context, slot loopSlot, at time.Time) {
	before, err := l.store.ScenarioStates(ctx)
	if err != nil {
		l.log.Error("chaos loop: read scenario states", "slot", slot.Name, "err", err)
		l.slotSkipped(ctx, slot, at, nil, "the scenarios' standing could not be read: "+err.Error(), nil)
		return
	}
	ids := slot.scenarios(l.lib, before, at)
	if len(ids) == 0 {
		l.log.Warn("chaos loop: the library holds none of the slot's scenarios", "slot", slot.Name)
		l.slotSkipped(ctx, slot, at, nil, "the scenario library holds none of the slot's scenarios", nil)
		return
	}
	l.log.Info("chaos loop: slot", "slot", slot.Name, "level", slot.Level, "scenarios", ids)
	req := engine.ChaosRequest{Scenarios: ids, Live: l.cfg.Live, Operator: LoopActor, Trigger: engine.ChaosTriggerLoop}
	run, err := l.runner.RunLoop(ctx, req, maps.Clone(l.overlay))
	switch {
	case errors.Is(err, engine.ErrChaosBusy):
		l.log.Warn("chaos loop: slot skipped: a run is going", "slot", slot.Name)
		l.skip(1)
		l.slotSkipped(ctx, slot, at, ids, "another chaos run was going", nil)
		return
	case ctx.Err() != nil:
		return
	case err != nil:
		l.log.Error("chaos loop: run failed", "slot", slot.Name, "err", err)
		if run.RunID == "" { // refused before it began: no run records say so
			l.slotSkipped(ctx, slot, at, ids, "the run was refused: "+err.Error(), nil)
		}
	}
	if run.RunID != "" {
		started := run.StartedAt
		if started.IsZero() {
			started = at
		}
		l.mu.Lock()
		l.state.LastRunAt, l.state.LastRunID = started, run.RunID
		l.mu.Unlock()
	}
	if len(run.Scenarios) > 0 {
		l.afterRun(ctx, run, before)
	}
}

// afterRun acts on a finished run: standing and escalation, verification
// of applied fixes, findings for missing safeguards.
func (l *Loop) afterRun(ctx context.Context, run engine.ChaosRun, before map[string]ScenarioState) {
	if err := l.updateStanding(ctx, run, before); err != nil {
		l.log.Error("chaos loop: standing", "run", run.RunID, "err", err)
	}
	if err := l.judgeFindings(ctx, run); err != nil {
		l.log.Error("chaos loop: findings", "run", run.RunID, "err", err)
	}
}
