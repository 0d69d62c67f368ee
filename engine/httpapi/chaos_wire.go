package httpapi

import (
	"encoding/json"
	"strings"

	"grace/engine"
)

// ChaosRunRequest is the body of POST /v1/chaos/runs: scenario IDs, or
// All, or a Category. Difficulty 0 runs each scenario at its current
// difficulty; Live runs against the live engine instead of an isolated
// one. Unknown fields are refused, operator among them: who asked is the
// token's identity, or for the local token the X-Grace-Operator header
// (else LocalIdentity), never the body.
type ChaosRunRequest struct {
	Scenarios  []string `json:"scenarios,omitempty"`
	All        bool     `json:"all,omitempty"`
	Category   string   `json:"category,omitempty"`
	Difficulty int      `json:"difficulty,omitempty"`
	Live       bool     `json:"live,omitempty"`
}

// chaosRequest is what the chaos service is asked, on operator's
// authority, as an operator-triggered run.
func (r ChaosRunRequest) chaosRequest(operator string) engine.ChaosRequest {
	ids := make([]string, 0, len(r.Scenarios))
	for _, id := range r.Scenarios {
		ids = append(ids, strings.TrimSpace(id))
	}
	return engine.ChaosRequest{
		Scenarios: ids, All: r.All, Category: strings.TrimSpace(r.Category), Difficulty: r.Difficulty,
		Live: r.Live, Operator: operator, Trigger: engine.ChaosTriggerOperator,
	}
}

// chaosRunRequestFrom is the body the client sends for req.
func chaosRunRequestFrom(req engine.ChaosRequest) ChaosRunRequest {
	return ChaosRunRequest{
		Scenarios: req.Scenarios, All: req.All, Category: req.Category, Difficulty: req.Difficulty,
		Live: req.Live,
	}
}

// ChaosHaltRequest is the body of POST /v1/chaos/halt; it may be empty.
// Who halts is named as in ChaosRunRequest, never by the body.
type ChaosHaltRequest struct {
	Reason string `json:"reason,omitempty"`
}

// operatorBody is a request body sent with an operator named in the
// X-Grace-Operator header rather than in the body.
type operatorBody struct {
	body     any
	operator string
}

// MarshalJSON encodes the body alone.
func (o operatorBody) MarshalJSON() ([]byte, error) { return json.Marshal(o.body) }

// ChaosRunsResponse is the answer to GET /v1/chaos/runs: stored runs,
// newest first.
type ChaosRunsResponse struct {
	Runs []engine.ChaosRun `json:"runs"`
}

// ChaosScenariosResponse is the answer to GET /v1/chaos/scenarios: the
// scenario library with each scenario's standing.
type ChaosScenariosResponse struct {
	Scenarios []engine.ChaosScenario `json:"scenarios"`
}
