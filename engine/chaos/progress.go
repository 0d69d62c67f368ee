package chaos

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"grace/engine"
	"grace/engine/watchdog"
)

// watchdogEvery is the isolated engine's watchdog interval when a run may
// abort on a critical component: often enough for a run of seconds.
const watchdogEvery = 200 * time.Millisecond

// Spec is one scenario run as the chaos service asks for it.
type Spec struct {
	Scenario *Scenario
	// RunID is the chaos run the scenario is part of: every log line of
	// the run carries it (chaos_run).
	RunID string
	// Difficulty scales the parameters (levels below 1 count as 1).
	Difficulty int
	// DB is the isolated engine's database file, kept after the run;
	// empty means a temporary data folder, removed after the run.
	DB string
	// Live is the engine to run against instead of an isolated one. The
	// scenario must not need a reconfigured engine (see NeedsIsolation).
	Live *engine.Engine
	// Progress, when set, is called on the run's goroutine at each phase,
	// each fault injected, each safeguard seen firing and the rollback.
	Progress func(Step)
	// AbortOnCritical halts the run when the watchdog of the engine under
	// test grades critical a component the scenario's faults do not
	// stress (see Stresses); the error then wraps a *WatchdogAbort.
	AbortOnCritical bool
}

// Step is where one scenario run stands.
type Step struct {
	// Phase is one of engine.ChaosPhase*.
	Phase string
	// FaultsActive are the fault kinds injected and not yet rolled back.
	FaultsActive []string
	// SafeguardsFired are the safeguards seen firing so far.
	SafeguardsFired []string
}

// phase moves the run to phase p and reports it.
func (r *run) phase(p string) {
	r.phaseNow = p
	r.report()
}

// report tells Progress where the run stands.
func (r *run) report() {
	if r.progress == nil {
		return
	}
	r.progress(Step{Phase: r.phaseNow, FaultsActive: slices.Clone(r.faultsActive), SafeguardsFired: slices.Clone(r.firedSeen)})
}

// sawFired reports the safeguards that fired since the last look.
func (r *run) sawFired(fired map[string]bool) {
	changed := false
	for _, g := range KnownSafeguards() {
		if fired[g] && !slices.Contains(r.firedSeen, g) {
			r.firedSeen = append(r.firedSeen, g)
			changed = true
		}
	}
	if changed {
		r.report()
	}
}

// WatchdogAbort is why a run halted itself: the watchdog graded a
// component critical that the scenario does not stress.
type WatchdogAbort struct {
	Component string
	Reason    string
}

func (w *WatchdogAbort) Error() string {
	return fmt.Sprintf("watchdog critical on %s, which the scenario does not stress: %s", w.Component, w.Reason)
}

// stresses are the watchdog components each fault kind is expected to
// push to critical, by fault kind. A critical grade on one of them is the
// scenario working; on any other it is damage the scenario did not mean,
// and a run with chaos.abort_on_critical halts. A fault kind not listed
// here is taken to stress every component (the run never aborts on its
// account): the engineer adding a kind adds its line.
//
//   - flood_intake fills the HTM queue and outruns the dispatch rate:
//     htm_orchestrator, scheduler.
//   - flood_mesh overruns a stalled subscriber and fires the policies on
//     the flooded topic: trigger_mesh, event_policy_engine.
//   - pause_scheduler stops dispatch while work queues: scheduler,
//     htm_orchestrator.
//   - pause_type holds one intent type back while another flows:
//     scheduler, htm_orchestrator.
//   - policy_cascade makes policies fire policies until cut:
//     event_policy_engine, trigger_mesh.
//   - kill_workers takes workers out under load (fewer healthy workers is
//     the HTM's grade; the backlog is the scheduler's): htm_orchestrator,
//     scheduler.
//   - degrade_handlers (FIT) slows or fails the handlers under a steady
//     load, and surge_kill_workers kills workers during an intake surge:
//     htm_orchestrator, scheduler.
//   - kill_kernels, siege_kernels and flood_bus (DiRT) are Layer 1 faults:
//     none of the Layer 2 components (a siege's intake flood is a
//     flood_intake of its own).
//   - store_stall (Jepsen) holds the store's writer, so intake is refused
//     and dispatch waits; paused_approvals pauses the scheduler while
//     approvals arrive: htm_orchestrator, scheduler.
//   - crash_restart (Jepsen) is not listed: it replaces the engine under
//     test mid-run, and the watch does not follow it there.
var stresses = map[string][]string{
	FaultFloodIntake:      {watchdog.NameHTM, watchdog.NameScheduler},
	FaultFloodMesh:        {watchdog.NameMesh, watchdog.NamePolicy},
	FaultPauseScheduler:   {watchdog.NameScheduler, watchdog.NameHTM},
	FaultPauseType:        {watchdog.NameScheduler, watchdog.NameHTM},
	FaultPolicyCascade:    {watchdog.NamePolicy, watchdog.NameMesh},
	FaultKillWorkers:      {watchdog.NameHTM, watchdog.NameScheduler},
	FaultDegradeHandlers:  {watchdog.NameHTM, watchdog.NameScheduler},
	FaultSurgeKillWorkers: {watchdog.NameHTM, watchdog.NameScheduler},
	FaultKillKernels:      {},
	FaultSiegeKernels:     {},
	FaultFloodBus:         {},
	FaultStoreStall:       {watchdog.NameHTM, watchdog.NameScheduler},
	FaultPausedApprovals:  {watchdog.NameScheduler, watchdog.NameHTM},
}

// Stresses returns the watchdog components sc's faults are expected to
// stress, and all true when one of its fault kinds has no entry (any
// component may then go critical without aborting the run).
func Stresses(sc *Scenario) (components []string, all bool) {
	for _, f := range sc.Faults {
		cs, ok := stresses[f.Kind]
		if !ok {
			return nil, true
		}
		for _, c := range cs {
			if !slices.Contains(components, c) {
				components = append(components, c)
			}
		}
	}
	slices.Sort(components)
	return components, false
}

// unexpectedCritical returns the first component the engine's watchdog
// grades critical that sc does not stress, or nil.
func unexpectedCritical(rep engine.HealthReport, sc *Scenario) *WatchdogAbort {
	stressed, all := Stresses(sc)
	if all {
		return nil
	}
	for _, c := range rep.Components {
		if c.Status == watchdog.Critical && !slices.Contains(stressed, c.Name) {
			return &WatchdogAbort{Component: c.Name, Reason: c.Reason}
		}
	}
	return nil
}

// watchCritical watches the engine's watchdog while the faults are in
// when on is set, and cancels the run with a *WatchdogAbort as its cause
// when a component goes critical that the scenario does not stress. The
// returned func stops the watch and waits for it. It watches the engine
// of the moment it starts (a restart mid-run is not followed).
func (r *run) watchCritical(on bool, cancel context.CancelCauseFunc) func() {
	if !on {
		return func() {}
	}
	eng := r.eng
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		tick := time.NewTicker(pollEvery)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
			}
			if a := unexpectedCritical(eng.Snapshot().Health, r.sc); a != nil {
				cancel(a)
				return
			}
		}
	})
	return func() {
		close(done)
		wg.Wait()
	}
}
