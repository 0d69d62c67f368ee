package chaos

// Report is one `grace chaos run` (DESIGN.md's `chaos run --json` shape).
type Report struct {
	RunID     string   `json:"run_id"`
	Scenarios []Result `json:"scenarios"`
}

// Passed reports whether every scenario passed.
func (r Report) Passed() bool {
	for _, s := range r.Scenarios {
		if !s.Passed {
			return false
		}
	}
	return true
}

// Result is what one scenario run showed.
type Result struct {
	ID         string            `json:"id"`
	Category   string            `json:"category"`
	Passed     bool              `json:"passed"`
	Difficulty int               `json:"difficulty"`
	DurationMS int64             `json:"duration_ms"`
	Safeguards []SafeguardResult `json:"safeguards"`
	Invariants InvariantResult   `json:"invariants"`
	// Failures says why a scenario failed, one reason each ("safeguard
	// htm_rate_limit did not fire", "2 intents lost").
	Failures []string `json:"failures,omitempty"`
	// Notes are what the faults reported (flood counts, workers killed).
	Notes []string `json:"notes,omitempty"`
}

// SafeguardResult is one safeguard: expected by the scenario, fired on
// the record.
type SafeguardResult struct {
	Name     string `json:"name"`
	Expected bool   `json:"expected"`
	Fired    bool   `json:"fired"`
	// Enabled is the safeguard's switch in the config the run used.
	Enabled bool `json:"enabled"`
}

// InvariantResult counts the invariants' violations.
type InvariantResult struct {
	// Lost counts acknowledged intents missing from the store.
	Lost int `json:"lost"`
	// Duplicated counts intents completed more than once or dispatched
	// while an earlier attempt was still open.
	Duplicated int `json:"duplicated"`
	// UnauthorizedExecutions counts Tier 0 intents dispatched without an
	// approval on the record before.
	UnauthorizedExecutions int  `json:"unauthorized_executions"`
	AuditIntact            bool `json:"audit_intact"`
}
