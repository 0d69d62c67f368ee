package httpapi

import (
	"net/http"
	"strconv"
	"strings"

	"grace/engine/intent"
)

// maxListLimit bounds GET /v1/intents?limit=.
const maxListLimit = 1000

// submit handles POST /v1/intents.
func (h *handler) submit(w http.ResponseWriter, r *http.Request) error {
	var req SubmitRequest
	if err := decodeBody(r, &req, false); err != nil {
		return err
	}
	res, err := h.api.Submit(r.Context(), req.Submission())
	if err != nil {
		return err
	}
	status := http.StatusAccepted
	if res.Existing {
		status = http.StatusOK
	}
	writeJSON(w, status, SubmitResponse{
		ID: res.Intent.ID, State: res.Intent.State, Decision: res.Intent.Decision, Existing: res.Existing,
	})
	return nil
}

// get handles GET /v1/intents/{id}.
func (h *handler) get(w http.ResponseWriter, r *http.Request) error {
	in, err := h.api.Get(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, in)
	return nil
}

// list handles GET /v1/intents?state=S&limit=N.
func (h *handler) list(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	var f intent.Filter
	if s := q.Get("state"); s != "" {
		f.State = intent.State(s)
		if !f.State.Valid() {
			return newError(http.StatusBadRequest, CodeBadQuery, "state", "unknown state %q (one of %s)", s, stateNames())
		}
	}
	limit, err := parseLimit(q.Get("limit"), maxListLimit)
	if err != nil {
		return err
	}
	f.Limit = limit
	list, err := h.api.List(r.Context(), f)
	if err != nil {
		return err
	}
	if list == nil {
		list = []intent.Intent{}
	}
	writeJSON(w, http.StatusOK, IntentsResponse{Intents: list})
	return nil
}

// approve handles POST /v1/intents/{id}/approve.
func (h *handler) approve(w http.ResponseWriter, r *http.Request) error {
	req, err := decisionRequest(r)
	if err != nil {
		return err
	}
	in, err := h.api.Approve(r.Context(), r.PathValue("id"), operatorOf(r, req), strings.TrimSpace(req.Reason))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, in)
	return nil
}

// deny handles POST /v1/intents/{id}/deny; a reason is required.
func (h *handler) deny(w http.ResponseWriter, r *http.Request) error {
	req, err := decisionRequest(r)
	if err != nil {
		return err
	}
	reason := strings.TrimSpace(req.Reason)
	if reason == "" {
		return newError(http.StatusUnprocessableEntity, CodeReasonRequired, "reason", "a reason is required to deny an intent")
	}
	in, err := h.api.Deny(r.Context(), r.PathValue("id"), operatorOf(r, req), reason)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, in)
	return nil
}

// decisionRequest reads an approve or deny body; an empty body is allowed
// (an approval needs no reason).
func decisionRequest(r *http.Request) (DecisionRequest, error) {
	var req DecisionRequest
	err := decodeBody(r, &req, true)
	return req, err
}

// operatorOf names who approves or denies: the header, else the body, else "api".
func operatorOf(r *http.Request, req DecisionRequest) string {
	if op := strings.TrimSpace(r.Header.Get(OperatorHeader)); op != "" {
		return op
	}
	if op := strings.TrimSpace(req.Operator); op != "" {
		return op
	}
	return "api"
}

// parseLimit reads a limit query parameter: empty means 0 (the callee's
// default); otherwise 1..max.
func parseLimit(s string, max int) (int, error) {
	if s == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > max {
		return 0, newError(http.StatusBadRequest, CodeBadQuery, "limit", "limit must be an integer from 1 to %d, got %q", max, s)
	}
	return n, nil
}

func stateNames() string {
	names := make([]string, len(intent.States))
	for i, s := range intent.States {
		names[i] = string(s)
	}
	return strings.Join(names, ", ")
}
