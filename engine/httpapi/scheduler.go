package httpapi

import (
	"context"
	"net/http"
	"strings"

	"grace/engine"
)

// SchedulerResponse is the scheduler's state, as GET /v1/scheduler and
// the pause and resume calls answer it: whether it is paused, by whom,
// since when and why, and how many intents wait in the queue.
type SchedulerResponse struct {
	Paused       bool              `json:"paused"`
	Pause        *engine.PauseInfo `json:"pause,omitempty"`
	QueueDepth   int               `json:"queue_depth"`
	QueueDelayed int               `json:"queue_delayed"` // of those, not yet due
}

func schedulerResponse(s engine.Snapshot) SchedulerResponse {
	return SchedulerResponse{Paused: s.Layer2.Paused, Pause: s.Layer2.Pause, QueueDepth: s.QueueDepth, QueueDelayed: s.QueueDelayed}
}

// schedulerState handles GET /v1/scheduler.
func (h *Handler) schedulerState(w http.ResponseWriter, _ *http.Request) error {
	writeJSON(w, http.StatusOK, schedulerResponse(h.api.Snapshot()))
	return nil
}

// schedulerControl is the engine's pause and resume, or 501 when the
// engine behind the API has none.
func (h *Handler) schedulerControl() (engine.SchedulerControl, error) {
	sc, ok := h.api.(engine.SchedulerControl)
	if !ok {
		return nil, newError(http.StatusNotImplemented, CodeNotImplemented, "", "this server cannot pause its scheduler")
	}
	return sc, nil
}

// pauseScheduler handles POST /v1/scheduler/pause {reason}: an operator
// stops dispatching (queued intents wait, running ones finish, intake goes
// on) until resumed, across restarts. The reason is required; the one who
// paused is the caller (for the local token, as for a decision).
func (h *Handler) pauseScheduler(w http.ResponseWriter, r *http.Request) error {
	sc, err := h.schedulerControl()
	if err != nil {
		return err
	}
	req, reason, err := reasonedRequest(r, "pause the scheduler")
	if err != nil {
		return err
	}
	if err := sc.PauseScheduler(r.Context(), operatorOf(r, req), reason); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, schedulerResponse(h.api.Snapshot()))
	return nil
}

// resumeScheduler handles POST /v1/scheduler/resume {reason?}.
func (h *Handler) resumeScheduler(w http.ResponseWriter, r *http.Request) error {
	sc, err := h.schedulerControl()
	if err != nil {
		return err
	}
	req, err := decisionRequest(r)
	if err != nil {
		return err
	}
	if err := sc.ResumeScheduler(r.Context(), operatorOf(r, req), strings.TrimSpace(req.Reason)); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, schedulerResponse(h.api.Snapshot()))
	return nil
}

var _ engine.SchedulerControl = (*Client)(nil)

// Scheduler returns the scheduler's state (GET /v1/scheduler).
func (c *Client) Scheduler(ctx context.Context) (SchedulerResponse, error) {
	var s SchedulerResponse
	err := c.do(ctx, http.MethodGet, "/v1/scheduler", nil, &s)
	return s, err
}

// PauseScheduler stops the server's dispatching (POST
// /v1/scheduler/pause); operator names who paused it for the local token,
// as for Approve. Errors unwrap to engine.ErrAlreadyPaused and the like.
func (c *Client) PauseScheduler(ctx context.Context, operator, reason string) error {
	_, err := c.schedule(ctx, "pause", operator, reason)
	return err
}

// ResumeScheduler lets the server dispatch again (POST
// /v1/scheduler/resume); reason is optional.
func (c *Client) ResumeScheduler(ctx context.Context, operator, reason string) error {
	_, err := c.schedule(ctx, "resume", operator, reason)
	return err
}

func (c *Client) schedule(ctx context.Context, verb, operator, reason string) (SchedulerResponse, error) {
	if operator == "" {
		operator = c.Operator
	}
	var s SchedulerResponse
	err := c.do(ctx, http.MethodPost, "/v1/scheduler/"+verb, DecisionRequest{Reason: reason, Operator: operator}, &s)
	return s, err
}
