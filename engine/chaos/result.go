package chaos

import "grace/engine"

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

// Result is what one scenario run showed (the operator API's type).
type Result = engine.ChaosResult

// SafeguardResult is one safeguard: expected by the scenario, fired on
// the record.
type SafeguardResult = engine.ChaosSafeguardResult

// InvariantResult counts the invariants' violations.
type InvariantResult = engine.ChaosInvariantResult
