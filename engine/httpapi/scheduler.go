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
	Paused bool              `json:"paused"`
	Pause  *engine.PauseInfo `json:"pause,omitempty"`
	// PausedTypes are the intent types paused on their own, each with how
	// many of its intents wait.
	PausedTypes  []engine.TypePause `json:"paused_types"`
	QueueDepth   int                `json:"queue_depth"`
	QueueDelayed int                `json:"queue_delayed"` // of those, not yet due
	// QueuedByType breaks queue_depth down by intent type (types the
	// charter does not list count together as "_other"); a type with
	// nothing queued is absent.
	QueuedByType map[string]int `json:"queued_by_type"`
}

func schedulerResponse(s engine.Snapshot) SchedulerResponse {
	types := s.Layer2.PausedTypes
	if types == nil {
		types = []engine.TypePause{}
	}
	byType := map[string]int{}
	for _, t := range s.ByType {
		if t.Queued > 0 {
			byType[t.Type] = t.Queued
		}
	}
	return SchedulerResponse{Paused: s.Layer2.Paused, Pause: s.Layer2.Pause, PausedTypes: types, QueueDepth: s.QueueDepth, QueueDelayed: s.QueueDelayed,
		QueuedByType: byType}
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

// typePauser is the engine's type pause, or 501 when the engine behind
// the API has none.
func (h *Handler) typePauser() (engine.TypePauser, error) {
	tp, ok := h.api.(engine.TypePauser)
	if !ok {
		return nil, newError(http.StatusNotImplemented, CodeNotImplemented, "", "this server cannot pause an intent type")
	}
	return tp, nil
}

// pauseRequest reads a pause or resume body.
func pauseRequest(r *http.Request) (PauseRequest, error) {
	var req PauseRequest
	if err := decodeBody(r, &req, true); err != nil {
		return req, err
	}
	for _, f := range []struct{ name, text string }{{"reason", req.Reason}, {"operator", req.Operator}, {"type", req.Type}} {
		max := maxReasonBytes
		if f.name != "reason" {
			max = maxOperatorBytes
		}
		if err := checkText(f.name, f.text, max, f.name == "reason"); err != nil {
			return req, err
		}
	}
	return req, nil
}

// pauseScheduler handles POST /v1/scheduler/pause {reason, type?}: an
// operator stops dispatching (queued intents wait, running ones finish,
// intake goes on) until resumed, across restarts: all of it, or with type
// that intent type's alone. The reason is required; the one who paused is
// the caller (for the local token, as for a decision).
func (h *Handler) pauseScheduler(w http.ResponseWriter, r *http.Request) error {
	req, err := pauseRequest(r)
	if err != nil {
		return err
	}
	reason := strings.TrimSpace(req.Reason)
	op := operatorOf(r, DecisionRequest{Operator: req.Operator})
	if req.Type != "" {
		if reason == "" {
			return newError(http.StatusUnprocessableEntity, CodeReasonRequired, "reason", "a reason is required to pause an intent type")
		}
		tp, err := h.typePauser()
		if err != nil {
			return err
		}
		err = tp.PauseType(r.Context(), op, req.Type, reason)
		return h.answerScheduler(w, err)
	}
	if reason == "" {
		return newError(http.StatusUnprocessableEntity, CodeReasonRequired, "reason", "a reason is required to pause the scheduler")
	}
	sc, err := h.schedulerControl()
	if err != nil {
		return err
	}
	return h.answerScheduler(w, sc.PauseScheduler(r.Context(), op, reason))
}

// resumeScheduler handles POST /v1/scheduler/resume {reason?, type?}.
func (h *Handler) resumeScheduler(w http.ResponseWriter, r *http.Request) error {
	req, err := pauseRequest(r)
	if err != nil {
		return err
	}
	reason := strings.TrimSpace(req.Reason)
	op := operatorOf(r, DecisionRequest{Operator: req.Operator})
	if req.Type != "" {
		tp, err := h.typePauser()
		if err != nil {
			return err
		}
		return h.answerScheduler(w, tp.ResumeType(r.Context(), op, req.Type, reason))
	}
	sc, err := h.schedulerControl()
	if err != nil {
		return err
	}
	return h.answerScheduler(w, sc.ResumeScheduler(r.Context(), op, reason))
}

// answerScheduler answers a pause or resume: err, or the scheduler's
// state after it.
func (h *Handler) answerScheduler(w http.ResponseWriter, err error) error {
	if err != nil {
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
	_, err := c.schedule(ctx, "pause", operator, "", reason)
	return err
}

// ResumeScheduler lets the server dispatch again (POST
// /v1/scheduler/resume); reason is optional.
func (c *Client) ResumeScheduler(ctx context.Context, operator, reason string) error {
	_, err := c.schedule(ctx, "resume", operator, "", reason)
	return err
}

var _ engine.TypePauser = (*Client)(nil)

// PauseType stops the server's dispatching of intents of type typ (POST
// /v1/scheduler/pause with type). Errors unwrap to engine.ErrUnknownType,
// engine.ErrAlreadyPaused and the like.
func (c *Client) PauseType(ctx context.Context, operator, typ, reason string) error {
	_, err := c.schedule(ctx, "pause", operator, typ, reason)
	return err
}

// ResumeType lets the server dispatch intents of type typ again (POST
// /v1/scheduler/resume with type); reason is optional.
func (c *Client) ResumeType(ctx context.Context, operator, typ, reason string) error {
	_, err := c.schedule(ctx, "resume", operator, typ, reason)
	return err
}

func (c *Client) schedule(ctx context.Context, verb, operator, typ, reason string) (SchedulerResponse, error) {
	if operator == "" {
		operator = c.Operator
	}
	var s SchedulerResponse
	err := c.do(ctx, http.MethodPost, "/v1/scheduler/"+verb, PauseRequest{Reason: reason, Type: typ, Operator: operator}, &s)
	return s, err
}
