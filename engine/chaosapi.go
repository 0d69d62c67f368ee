package engine

import (
	"context"
	"errors"
	"time"
)

// ChaosAPI is the chaos part of the operator API, apart from OperatorAPI
// so that its other implementations keep compiling. The chaos service
// (engine/chaos.Service) implements it in process and the HTTP client
// (httpapi.Remote) over the wire; the console finds it on its API with a
// type assertion and shows the Chaos screen only when it is there.
type ChaosAPI interface {
	// ChaosScenarios lists the scenario library with each scenario's
	// standing (last verdict, pass streak, current difficulty), sorted by
	// category then ID.
	ChaosScenarios(ctx context.Context) ([]ChaosScenario, error)
	// StartChaos starts a run in the background and returns it in state
	// running. Only one run goes at a time: a second start while one runs
	// is refused with ErrChaosBusy. A request naming no scenario, an
	// unknown scenario or category, or a difficulty below 0 is refused
	// with *ChaosRequestError and nothing runs.
	StartChaos(ctx context.Context, req ChaosRequest) (ChaosRun, error)
	// ChaosRun returns one run, with its live progress while it runs.
	// ErrChaosRunNotFound when there is no such run.
	ChaosRun(ctx context.Context, id string) (ChaosRun, error)
	// ChaosHistory returns stored runs, newest first, at most limit (0
	// means a default of 50).
	ChaosHistory(ctx context.Context, limit int) ([]ChaosRun, error)
	// HaltChaos stops every running scenario at once and removes its
	// faults; operator is recorded with the halt. Halting with nothing
	// running is not an error (Halted is 0).
	HaltChaos(ctx context.Context, operator, reason string) (ChaosHaltResult, error)
	// ChaosStatus returns the resilience score, the autonomous loop's
	// state, the run in progress, and the loop's findings and knowledge.
	ChaosStatus(ctx context.Context) (ChaosStatus, error)
}

// Chaos errors callers branch on.
var (
	// ErrChaosBusy: a run is already in progress.
	ErrChaosBusy = errors.New("a chaos run is already in progress")
	// ErrChaosRunNotFound: no chaos run with that ID.
	ErrChaosRunNotFound = errors.New("chaos run not found")
	// ErrChaosUnavailable: this engine has no chaos service.
	ErrChaosUnavailable = errors.New("chaos is not available on this engine")
)

// ChaosRequestError is a refused chaos request, naming the field at fault
// (scenarios, category, difficulty).
type ChaosRequestError struct {
	Field  string
	Reason string
}

func (e *ChaosRequestError) Error() string { return "chaos request: " + e.Field + ": " + e.Reason }

// The run states.
const (
	ChaosRunning = "running"
	ChaosPassed  = "passed"
	ChaosFailed  = "failed"
	ChaosHalted  = "halted"
	// ChaosError: a scenario of the run could not be carried out (an
	// isolated engine would not start); the run went on with the others,
	// and Error names the first that could not and why.
	ChaosError = "error"
)

// The run triggers.
const (
	ChaosTriggerOperator = "operator" // console, HTTP API or CLI
	ChaosTriggerLoop     = "loop"     // the autonomous loop
)

// The phases of one scenario, in order.
const (
	ChaosPhaseSteadyBefore = "steady_state_before"
	ChaosPhaseInject       = "inject"
	ChaosPhaseWatch        = "watch"
	ChaosPhaseRollback     = "rollback"
	ChaosPhaseSteadyAfter  = "steady_state_after"
	ChaosPhaseInvariants   = "invariants"
	ChaosPhaseDone         = "done"
)

// ChaosRequest asks for a run: scenario IDs, or All, or a Category.
type ChaosRequest struct {
	Scenarios []string `json:"scenarios,omitempty"`
	All       bool     `json:"all,omitempty"`
	Category  string   `json:"category,omitempty"`
	// Difficulty 0 runs each scenario at its current difficulty (1 for a
	// scenario never escalated).
	Difficulty int `json:"difficulty,omitempty"`
	// Live runs against the live engine instead of an isolated instance.
	Live bool `json:"live,omitempty"`
	// Operator is who asked (set by the API from the token, not the body).
	Operator string `json:"operator,omitempty"`
	// Trigger is operator or loop (default operator).
	Trigger string `json:"trigger,omitempty"`
}

// ChaosRun is one run of one or more scenarios.
type ChaosRun struct {
	RunID      string    `json:"run_id"`
	State      string    `json:"state"`
	Trigger    string    `json:"trigger"`
	Operator   string    `json:"operator,omitempty"`
	Live       bool      `json:"live"`
	StartedAt  time.Time `json:"started_at"`
	FinishedAt time.Time `json:"finished_at,omitzero"`
	// Requested are the scenario IDs the run covers, in run order.
	Requested []string `json:"requested"`
	// Scenarios are the finished scenarios' results, in run order (the
	// `chaos run --json` shape).
	Scenarios []ChaosResult `json:"scenarios"`
	// Progress is the scenario in progress (nil when none).
	Progress *ChaosProgress `json:"progress,omitempty"`
	// HaltedBy names who halted the run (or "watchdog").
	HaltedBy string `json:"halted_by,omitempty"`
	Error    string `json:"error,omitempty"`
}

// ChaosProgress is where a run stands; the chaos service publishes it as
// an Event of kind EventChaos at every phase change and safeguard fired.
type ChaosProgress struct {
	RunID    string    `json:"run_id"`
	Scenario string    `json:"scenario"`
	Index    int       `json:"index"` // 1-based position in the run
	Total    int       `json:"total"`
	Phase    string    `json:"phase"`
	At       time.Time `json:"at"`
	// FaultsActive are the fault kinds injected and not yet rolled back.
	FaultsActive []string `json:"faults_active"`
	// SafeguardsFired are the safeguards seen firing so far.
	SafeguardsFired []string `json:"safeguards_fired"`
	// Result is set when the scenario is done (phase done); State on the
	// last event of a run is the run's final state.
	Result *ChaosResult `json:"result,omitempty"`
	State  string       `json:"state,omitempty"`
}

// ChaosResult is what one scenario run showed.
type ChaosResult struct {
	ID         string                 `json:"id"`
	Category   string                 `json:"category"`
	Passed     bool                   `json:"passed"`
	Difficulty int                    `json:"difficulty"`
	DurationMS int64                  `json:"duration_ms"`
	Safeguards []ChaosSafeguardResult `json:"safeguards"`
	Invariants ChaosInvariantResult   `json:"invariants"`
	// Failures says why a scenario failed, one reason each ("safeguard
	// htm_rate_limit did not fire", "2 intents lost").
	Failures []string `json:"failures,omitempty"`
	// Error says why the scenario could not be carried out (then it did
	// not pass, and nothing it reports was measured); empty when it ran.
	Error string `json:"error,omitempty"`
	// Notes are what the faults reported (flood counts, workers killed).
	Notes []string `json:"notes,omitempty"`
	// Records counts the 5W1H records the scenario produced, by What;
	// RecordsDB is the file holding them (an isolated run's database,
	// kept in the data folder) or empty for a live run (they are in the
	// live record).
	Records   map[string]int `json:"records,omitempty"`
	RecordsDB string         `json:"records_db,omitempty"`
}

// ChaosSafeguardResult is one safeguard: expected by the scenario, fired
// on the record.
type ChaosSafeguardResult struct {
	Name     string `json:"name"`
	Expected bool   `json:"expected"`
	Fired    bool   `json:"fired"`
	// Enabled is the safeguard's switch in the config the run used.
	Enabled bool `json:"enabled"`
}

// ChaosInvariantResult counts the invariants' violations.
type ChaosInvariantResult struct {
	// Lost counts acknowledged intents missing from the store.
	Lost int `json:"lost"`
	// Duplicated counts intents completed more than once or dispatched
	// while an earlier attempt was still open.
	Duplicated int `json:"duplicated"`
	// UnauthorizedExecutions counts Tier 0 intents dispatched without an
	// approval on the record before.
	UnauthorizedExecutions int `json:"unauthorized_executions"`
	// CancelledRevived counts intents the run cancelled that ran again, or
	// finished in a state other than cancelled.
	CancelledRevived int  `json:"cancelled_revived"`
	AuditIntact      bool `json:"audit_intact"`
	// Linearizable is the Jepsen check's verdict (nil when the scenario
	// records no history).
	Linearizable *bool `json:"linearizable,omitempty"`
}

// ChaosScenario is one scenario of the library with its standing.
type ChaosScenario struct {
	ID          string   `json:"id"`
	Category    string   `json:"category"`
	Description string   `json:"description"`
	Faults      []string `json:"faults"`
	Safeguards  []string `json:"safeguards"`
	Invariants  []string `json:"invariants"`
	Source      string   `json:"source"`
	// Difficulty is the level the scenario runs at next (escalated by the
	// loop after consecutive passes); Streak the consecutive passes at it.
	Difficulty  int       `json:"difficulty"`
	Streak      int       `json:"streak"`
	LastVerdict string    `json:"last_verdict,omitempty"` // passed, failed or empty
	LastRunAt   time.Time `json:"last_run_at,omitzero"`
	Runs        int       `json:"runs"`
}

// ChaosHaltResult says what a halt stopped.
type ChaosHaltResult struct {
	// Halted counts the runs stopped (0 when nothing ran).
	Halted int      `json:"halted"`
	RunIDs []string `json:"run_ids"`
}

// ChaosStatus is the chaos service's standing.
type ChaosStatus struct {
	Score   ResilienceScore `json:"score"`
	Loop    ChaosLoopState  `json:"loop"`
	Running *ChaosRun       `json:"running,omitempty"`
	// Findings are the loop's findings, newest first; Knowledge the
	// verified fixes.
	Findings  []ChaosFinding   `json:"findings"`
	Knowledge []ChaosKnowledge `json:"knowledge"`
}

// ResilienceScore is the weighted pass rate, Litmus-style: each scenario's
// recent runs weighted by difficulty, 0–100, overall and per category.
// Runs is how many runs it is computed over (0: no score yet).
type ResilienceScore struct {
	Overall    float64            `json:"overall"`
	ByCategory map[string]float64 `json:"by_category"`
	Runs       int                `json:"runs"`
}

// ChaosLoopState is the autonomous loop's state.
type ChaosLoopState struct {
	Enabled bool `json:"enabled"`
	// NextRunAt is the next slot of the daily schedule (zero when
	// disabled), NextSlot its name ("02:00") and NextScenarios what it
	// will run.
	NextRunAt     time.Time `json:"next_run_at,omitzero"`
	NextSlot      string    `json:"next_slot,omitempty"`
	NextScenarios []string  `json:"next_scenarios,omitempty"`
	LastRunAt     time.Time `json:"last_run_at,omitzero"`
	LastRunID     string    `json:"last_run_id,omitempty"`
	// Skipped counts slots missed (engine down, a run still going) and
	// not piled up.
	Skipped int `json:"skipped"`
}

// The finding states.
const (
	FindingOpen     = "open"     // safeguard missing, playbook written, fix not yet applied
	FindingProposed = "proposed" // remediation intent submitted through governance
	FindingApplied  = "applied"  // remediation approved and applied; next run verifies
	FindingVerified = "verified" // the next run passed: the fix is in the knowledge base
	FindingRejected = "rejected" // remediation denied, or the verifying run failed
)

// ChaosFinding is what the loop found when a scenario failed for a
// missing safeguard, and the playbook it wrote.
type ChaosFinding struct {
	ID        string    `json:"id"`
	Scenario  string    `json:"scenario"`
	Safeguard string    `json:"safeguard"`
	RunID     string    `json:"run_id"`
	Summary   string    `json:"summary"`
	State     string    `json:"state"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	// Playbook is the playbook's file; PlaybookYAML its text.
	Playbook     string `json:"playbook"`
	PlaybookYAML string `json:"playbook_yaml"`
	// RemediationIntent is the intent that carries the fix through
	// governance; VerifiedBy the run that proved it.
	RemediationIntent string `json:"remediation_intent,omitempty"`
	VerifiedBy        string `json:"verified_by,omitempty"`
}

// ChaosKnowledge is one verified fix.
type ChaosKnowledge struct {
	FindingID  string    `json:"finding_id"`
	Scenario   string    `json:"scenario"`
	Safeguard  string    `json:"safeguard"`
	Fix        string    `json:"fix"`
	VerifiedAt time.Time `json:"verified_at"`
	VerifiedBy string    `json:"verified_by"`
}

// EventChaos carries a chaos run's progress (Event.Chaos).
const EventChaos = "chaos"

// PublishChaos sends p to the engine's subscribers as an Event of kind
// EventChaos (the chaos service calls it; the console and the SSE stream
// show it).
func (e *Engine) PublishChaos(p ChaosProgress) {
	e.subs.publish(Event{Kind: EventChaos, Chaos: &p}, true)
}
