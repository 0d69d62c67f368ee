package chaos

import (
	"context"

	"grace/engine"
)

// ScenarioState is one scenario's standing as the loop keeps it: the
// difficulty it runs at next and its consecutive passes at that level.
type ScenarioState struct {
	Scenario    string
	Difficulty  int
	Streak      int
	LastVerdict string // engine.ChaosPassed, engine.ChaosFailed or ""
	LastRunAt   int64  // unix milliseconds, 0 when never run
	Runs        int
}

// RunStore keeps chaos runs, the scenarios' standing and the loop's
// findings and knowledge; store.Store implements it (SQLite, migration 4).
// Every method is safe for concurrent use.
type RunStore interface {
	// SaveChaosRun inserts or replaces run (by RunID) with its results.
	SaveChaosRun(ctx context.Context, run engine.ChaosRun) error
	// ChaosRun returns one stored run, engine.ErrChaosRunNotFound if none.
	ChaosRun(ctx context.Context, id string) (engine.ChaosRun, error)
	// ChaosRuns returns stored runs, newest first, at most limit.
	ChaosRuns(ctx context.Context, limit int) ([]engine.ChaosRun, error)
	// ScenarioStates returns every scenario's standing by ID.
	ScenarioStates(ctx context.Context) (map[string]ScenarioState, error)
	// SaveScenarioState inserts or replaces one scenario's standing.
	SaveScenarioState(ctx context.Context, s ScenarioState) error
	// SaveFinding inserts or replaces a finding (by ID).
	SaveFinding(ctx context.Context, f engine.ChaosFinding) error
	// Findings returns every finding, newest first.
	Findings(ctx context.Context) ([]engine.ChaosFinding, error)
	// SaveKnowledge adds a verified fix.
	SaveKnowledge(ctx context.Context, k engine.ChaosKnowledge) error
	// Knowledge returns the verified fixes, newest first.
	Knowledge(ctx context.Context) ([]engine.ChaosKnowledge, error)
}
