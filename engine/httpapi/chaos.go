package httpapi

import (
	"context"
	"net/http"
	"strings"

	"grace/engine"
)

// maxChaosHistory bounds GET /v1/chaos/runs?limit=; without one the chaos
// service's default (50) applies.
const maxChaosHistory = 1000

// chaosService returns the chaos service, or the chaos_unavailable answer
// when the server has none.
func (h *Handler) chaosService() (engine.ChaosAPI, error) {
	if h.opts.Chaos == nil {
		return nil, errChaosUnavailable
	}
	return h.opts.Chaos, nil
}

// startChaos handles POST /v1/chaos/runs: 202 with the run, in state
// running. The operator recorded is the caller (operatorOf): the token's
// identity, or the local token's X-Grace-Operator header; never the body. The run outlives the request: it is started with a context
// that the request's end does not cancel (the chaos service owns it).
func (h *Handler) startChaos(w http.ResponseWriter, r *http.Request) error {
	svc, err := h.chaosService()
	if err != nil {
		return err
	}
	var req ChaosRunRequest
	if err := decodeBody(r, &req, false); err != nil {
		return err
	}
	op := operatorOf(r, DecisionRequest{})
	run, err := svc.StartChaos(context.WithoutCancel(r.Context()), req.chaosRequest(op))
	if err != nil {
		return chaosAnswer(err)
	}
	writeJSON(w, http.StatusAccepted, run)
	return nil
}

// chaosRun handles GET /v1/chaos/runs/{id}: one run, with its live
// progress while it runs.
func (h *Handler) chaosRun(w http.ResponseWriter, r *http.Request) error {
	svc, err := h.chaosService()
	if err != nil {
		return err
	}
	run, err := svc.ChaosRun(r.Context(), r.PathValue("id"))
	if err != nil {
		return chaosAnswer(err)
	}
	writeJSON(w, http.StatusOK, run)
	return nil
}

// chaosHistory handles GET /v1/chaos/runs?limit=N: stored runs, newest
// first.
func (h *Handler) chaosHistory(w http.ResponseWriter, r *http.Request) error {
	svc, err := h.chaosService()
	if err != nil {
		return err
	}
	limit, err := parseLimit(r.URL.Query().Get("limit"), maxChaosHistory)
	if err != nil {
		return err
	}
	runs, err := svc.ChaosHistory(r.Context(), limit)
	if err != nil {
		return chaosAnswer(err)
	}
	if runs == nil {
		runs = []engine.ChaosRun{}
	}
	writeJSON(w, http.StatusOK, ChaosRunsResponse{Runs: runs})
	return nil
}

// haltChaos handles POST /v1/chaos/halt {reason}: every running scenario
// stopped and its faults removed, on the caller's authority; 200 with what
// was halted (Halted 0 when nothing ran). Like a run, the halt is not cut
// short by the client going away.
func (h *Handler) haltChaos(w http.ResponseWriter, r *http.Request) error {
	svc, err := h.chaosService()
	if err != nil {
		return err
	}
	var req ChaosHaltRequest
	if err := decodeBody(r, &req, true); err != nil {
		return err
	}
	if err := checkText("reason", req.Reason, maxReasonBytes, true); err != nil {
		return err
	}
	op := operatorOf(r, DecisionRequest{})
	res, err := svc.HaltChaos(context.WithoutCancel(r.Context()), op, strings.TrimSpace(req.Reason))
	if err != nil {
		return chaosAnswer(err)
	}
	if res.RunIDs == nil {
		res.RunIDs = []string{}
	}
	writeJSON(w, http.StatusOK, res)
	return nil
}

// chaosScenarios handles GET /v1/chaos/scenarios: the library with each
// scenario's standing.
func (h *Handler) chaosScenarios(w http.ResponseWriter, r *http.Request) error {
	svc, err := h.chaosService()
	if err != nil {
		return err
	}
	list, err := svc.ChaosScenarios(r.Context())
	if err != nil {
		return chaosAnswer(err)
	}
	if list == nil {
		list = []engine.ChaosScenario{}
	}
	writeJSON(w, http.StatusOK, ChaosScenariosResponse{Scenarios: list})
	return nil
}

// chaosStatus handles GET /v1/chaos/status: the resilience score, the
// loop's state, the run in progress, findings and knowledge.
func (h *Handler) chaosStatus(w http.ResponseWriter, r *http.Request) error {
	svc, err := h.chaosService()
	if err != nil {
		return err
	}
	st, err := svc.ChaosStatus(r.Context())
	if err != nil {
		return chaosAnswer(err)
	}
	writeJSON(w, http.StatusOK, st)
	return nil
}
