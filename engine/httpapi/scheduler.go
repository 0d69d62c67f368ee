package httpapi

import (
	"context"
	"net/http"
	"slices"
	"strings"

	"grace/engine"
	"grace/engine/intent"
)

// SchedulerResponse is the scheduler's state, as GET /v1/scheduler and
// the pause and resume calls answer it: whether it is paused, by whom,
// since when and why, and how many intents wait in the queue.
type SchedulerResponse struct {
	Paused bool              `json:"paused"`
	Pause  *engine.PauseInfo `json:"pause,omitempty"`
	// PausedTypes are the intent types paused on their own, each with how
	// many of its intents wait.
	PausedTypes []engine.TypePause `json:"paused_types"`
	// PausedActors are the actors paused (quarantined), each with how
	// many of its intents wait.
	PausedActors []engine.ActorPause `json:"paused_actors"`
	QueueDepth   int                 `json:"queue_depth"`
	QueueDelayed int                 `json:"queue_delayed"` // of those, not yet due
	// QueuedByType breaks queue_depth down by intent type (types the
	// charter does not list count together as "_other"); a type with
	// nothing queued is absent.
	QueuedByType map[string]int `json:"queued_by_type"`
}

func schedulerResponse(s engine.Snapshot) SchedulerResponse {
	types, actors := s.Layer2.PausedTypes, s.Layer2.PausedActors
	if types == nil {
		types = []engine.TypePause{}
	}
	if actors == nil {
		actors = []engine.ActorPause{}
	}
	byType := map[string]int{}
	for _, t := range s.ByType {
		if t.Queued > 0 {
			byType[t.Type] = t.Queued
		}
	}
	return SchedulerResponse{Paused: s.Layer2.Paused, Pause: s.Layer2.Pause, PausedTypes: types, PausedActors: actors, QueueDepth: s.QueueDepth, QueueDelayed: s.QueueDelayed,
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

// actorPauser is the engine's actor pause, or 501 when the engine behind
// the API has none.
func (h *Handler) actorPauser() (engine.ActorPauser, error) {
	ap, ok := h.api.(engine.ActorPauser)
	if !ok {
		return nil, newError(http.StatusNotImplemented, CodeNotImplemented, "", "this server cannot pause an actor")
	}
	return ap, nil
}

// pauseRequest reads a pause or resume body.
func (h *Handler) pauseRequest(r *http.Request) (PauseRequest, error) {
	var req PauseRequest
	if err := decodeBody(r, &req, true); err != nil {
		return req, err
	}
	if req.Type != "" && req.Actor != "" {
		return req, newError(http.StatusBadRequest, CodeConflictingFields, "actor",
			"give type or actor, not both: a pause holds back one intent type or one actor's intents (pause each on its own)")
	}
	for _, f := range []struct{ name, text string }{{"reason", req.Reason}, {"operator", req.Operator}, {"type", req.Type}, {"actor", req.Actor}} {
		max := maxReasonBytes
		if f.name != "reason" {
			max = maxOperatorBytes
		}
		if err := checkText(f.name, f.text, max, f.name == "reason"); err != nil {
			return req, err
		}
	}
	req.Actor = h.identityName(req.Actor)
	return req, nil
}

// identityName is actor as the configured identity of that name spells it
// ("Agent.X" is agent.x: names are told apart without case), so that a
// pause names the actor as its intents carry it; a name no identity has
// is returned as it is.
func (h *Handler) identityName(actor string) string {
	a := strings.TrimSpace(actor)
	for _, id := range h.keys.Load().ids {
		if strings.EqualFold(id.Name, a) {
			return id.Name
		}
	}
	return actor
}

// checkActorKnown refuses, where identities are configured, the pause of
// an actor that is no identity and that no stored intent carries: every
// caller submits as its identity, so the pause would hold nothing (a
// typing error: agnetx for agentx, whose intents ran on while the
// quarantine was accepted and shown). Actors of the engine's own intents
// (policies, playbooks, the demo load) are known by their intents.
func (h *Handler) checkActorKnown(ctx context.Context, actor string) error {
	ids := h.keys.Load().ids
	if len(ids) == 0 {
		return nil // the local token: an actor is whatever a submission names
	}
	a := strings.TrimSpace(actor)
	names := make([]string, 0, len(ids))
	for _, id := range ids {
		if strings.EqualFold(id.Name, a) {
			return nil
		}
		names = append(names, id.Name)
	}
	if a == "" {
		return nil // refused by the engine, naming the field
	}
	list, err := h.api.List(ctx, intent.Filter{Actor: a, Limit: 1})
	if err != nil || len(list) > 0 {
		return err
	}
	slices.Sort(names)
	return newError(http.StatusUnprocessableEntity, CodeInvalidField, "actor",
		"no identity and no intent has actor %q: a pause of it would hold nothing (the identities are %s)", clipText(a, 64), strings.Join(names, ", "))
}

// pauseScheduler handles POST /v1/scheduler/pause {reason, type?,
// actor?}: an operator stops dispatching (queued intents wait, running
// ones finish, intake goes on) until resumed, across restarts: all of it,
// with type that intent type's alone, or with actor that actor's intents
// alone (a quarantine). The reason is required; the one who paused is the
// caller (for the local token, as for a decision).
func (h *Handler) pauseScheduler(w http.ResponseWriter, r *http.Request) error {
	req, err := h.pauseRequest(r)
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
	if req.Actor != "" {
		if reason == "" {
			return newError(http.StatusUnprocessableEntity, CodeReasonRequired, "reason", "a reason is required to pause an actor")
		}
		ap, err := h.actorPauser()
		if err != nil {
			return err
		}
		if err := h.checkActorKnown(r.Context(), req.Actor); err != nil {
			return err
		}
		return h.answerScheduler(w, ap.PauseActor(r.Context(), op, req.Actor, reason))
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

// resumeScheduler handles POST /v1/scheduler/resume {reason?, type?,
// actor?}.
func (h *Handler) resumeScheduler(w http.ResponseWriter, r *http.Request) error {
	req, err := h.pauseRequest(r)
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
	if req.Actor != "" {
		ap, err := h.actorPauser()
		if err != nil {
			return err
		}
		return h.answerScheduler(w, ap.ResumeActor(r.Context(), op, req.Actor, reason))
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
	_, err := c.schedule(ctx, "pause", operator, PauseRequest{Reason: reason})
	return err
}

// ResumeScheduler lets the server dispatch again (POST
// /v1/scheduler/resume); reason is optional.
func (c *Client) ResumeScheduler(ctx context.Context, operator, reason string) error {
	_, err := c.schedule(ctx, "resume", operator, PauseRequest{Reason: reason})
	return err
}

var _ engine.TypePauser = (*Client)(nil)

// PauseType stops the server's dispatching of intents of type typ (POST
// /v1/scheduler/pause with type). Errors unwrap to engine.ErrUnknownType,
// engine.ErrAlreadyPaused and the like.
func (c *Client) PauseType(ctx context.Context, operator, typ, reason string) error {
	_, err := c.schedule(ctx, "pause", operator, PauseRequest{Reason: reason, Type: typ})
	return err
}

// ResumeType lets the server dispatch intents of type typ again (POST
// /v1/scheduler/resume with type); reason is optional.
func (c *Client) ResumeType(ctx context.Context, operator, typ, reason string) error {
	_, err := c.schedule(ctx, "resume", operator, PauseRequest{Reason: reason, Type: typ})
	return err
}

var _ engine.ActorPauser = (*Client)(nil)

// PauseActor stops the server's dispatching of the intents actor submits
// (POST /v1/scheduler/pause with actor). Errors unwrap to
// engine.ErrAlreadyPaused and the like; a name no intent could carry is a
// 422 invalid_field on actor.
func (c *Client) PauseActor(ctx context.Context, operator, actor, reason string) error {
	_, err := c.schedule(ctx, "pause", operator, PauseRequest{Reason: reason, Actor: actor})
	return err
}

// ResumeActor lets the server dispatch actor's intents again (POST
// /v1/scheduler/resume with actor); reason is optional.
func (c *Client) ResumeActor(ctx context.Context, operator, actor, reason string) error {
	_, err := c.schedule(ctx, "resume", operator, PauseRequest{Reason: reason, Actor: actor})
	return err
}

// schedule sends req, with the operator (c.Operator when ""), to
// /v1/scheduler/verb.
func (c *Client) schedule(ctx context.Context, verb, operator string, req PauseRequest) (SchedulerResponse, error) {
	req.Operator = operator
	if req.Operator == "" {
		req.Operator = c.Operator
	}
	var s SchedulerResponse
	err := c.do(ctx, http.MethodPost, "/v1/scheduler/"+verb, req, &s)
	return s, err
}
