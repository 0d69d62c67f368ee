package chaos

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"grace/engine"
	"grace/engine/clock"
	"grace/engine/intent"
)

// LoopPollEvery is how often the loop looks at its proposed remediations
// (besides the intent events it subscribes to, which a busy loop may miss)
// and retries remediations it could not submit.
const LoopPollEvery = 30 * time.Second

// LoopActor is the actor of the loop's remediation intents and the
// operator of its runs.
const LoopActor = "chaos_loop"

// LoopRunner runs the loop's scenarios, one run at a time, and returns
// when the run is over. req has Trigger engine.ChaosTriggerLoop and
// Difficulty 0: each scenario runs at its current difficulty as
// RunStore.ScenarioStates holds it (the loop saves escalations there
// before the next run). safeguards are switches laid over the base
// configuration's (the fixes the loop's remediations applied); the
// runner must use them. A run refused because another is going returns
// engine.ErrChaosBusy.
type LoopRunner interface {
	RunLoop(ctx context.Context, req engine.ChaosRequest, safeguards map[string]engine.SafeguardConfig) (engine.ChaosRun, error)
}

// LoopRunnerFunc adapts a function to LoopRunner.
type LoopRunnerFunc func(ctx context.Context, req engine.ChaosRequest, safeguards map[string]engine.SafeguardConfig) (engine.ChaosRun, error)

// RunLoop calls f.
func (f LoopRunnerFunc) RunLoop(ctx context.Context, req engine.ChaosRequest, safeguards map[string]engine.SafeguardConfig) (engine.ChaosRun, error) {
	return f(ctx, req, safeguards)
}

// LoopGovernor is the part of the engine's operator API the loop submits
// its remediations through and watches them with; *engine.Engine
// implements it.
type LoopGovernor interface {
	Submit(ctx context.Context, sub intent.Submission) (engine.SubmitResult, error)
	Get(ctx context.Context, id string) (intent.Intent, error)
	Subscribe(ctx context.Context) <-chan engine.Event
}

// SafeguardSwitcher is what an engine that can switch a safeguard while it
// runs would implement; when the LoopGovernor does, an applied remediation
// is switched on the live engine too. No engine implements it today, so a
// fix reaches only the loop's chaos runs (the playbook says so).
type SafeguardSwitcher interface {
	SetSafeguard(ctx context.Context, name string, enabled bool, actor, reason string) error
}

// LoopRecorder puts the loop's own decisions (escalations, findings and
// their changes of state) on the engine's record; *engine.Engine
// implements it. The remediations are on the record through Submit.
type LoopRecorder interface {
	RecordChaos(ctx context.Context, n engine.ChaosNote) error
}

// The record names (What) of the loop's decisions.
const (
	WhatChaosLoopEscalated = "chaos_loop_escalated"
	WhatChaosFindingOpened = "chaos_finding_opened"
	// WhatChaosFindingHeld: a safeguard is still missing but its last
	// remediation was denied within chaos.loop.denied_hold, so the loop
	// neither opens a finding nor asks again.
	WhatChaosFindingHeld = "chaos_finding_held"
	// WhatChaosFinding is followed by the finding's new state
	// ("chaos_finding_applied").
	WhatChaosFinding = "chaos_finding_"
)

// LoopDeps are what the loop works with.
type LoopDeps struct {
	Library  *Library
	Runner   LoopRunner
	Store    RunStore
	Governor LoopGovernor
	// Recorder puts the loop's decisions on the record; when nil, the
	// Governor is used if it implements LoopRecorder (the engine does),
	// else they are only logged.
	Recorder LoopRecorder
	// Clock schedules the slots (its Now's location is the local time of
	// the schedule); default clock.Real.
	Clock clock.Clock
	// Logger default: discard.
	Logger *slog.Logger
	// DataDir is the data folder; playbooks go to DataDir/chaos/playbooks
	// unless chaos.loop.playbooks_dir says otherwise.
	DataDir string
}

// record puts one of the loop's decisions on the engine's record (run is
// the run the decision came from); a failure is logged.
func (l *Loop) record(ctx context.Context, what, runID, scenario, result string, why []string, c map[string]any) {
	if l.rec == nil {
		return
	}
	n := engine.ChaosNote{What: what, Who: LoopActor, RunID: runID, Scenario: scenario, Result: result, Why: why, Context: c}
	if err := l.rec.RecordChaos(ctx, n); err != nil && !errors.Is(err, engine.ErrStopped) {
		l.log.Warn("chaos loop: record", "what", what, "run", runID, "err", err)
	}
}
