package httpapi

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"grace/engine"
	"grace/engine/governance"
	"grace/engine/intent"
)

// maxListLimit bounds GET /v1/intents?limit=.
const maxListLimit = 1000

// submit handles POST /v1/intents. The actor is the caller: a configured
// identity may name only itself (or nothing, and is filled in); the local
// identity may name anyone, and without a name is "cli:" plus the
// X-Grace-Operator header. The answer is 202 for a new intent, 200 with
// existing set for a resubmission of the same submission under a taken
// idempotency key, and 409 idempotency_conflict (nothing stored) for a
// different submission under it.
func (h *Handler) submit(w http.ResponseWriter, r *http.Request) error {
	var req SubmitRequest
	if err := decodeBody(r, &req, false); err != nil {
		return err
	}
	sub, err := req.Submission()
	if err != nil {
		return err
	}
	actor, err := actorFor(principalOf(r), r, sub.Actor)
	if err != nil {
		return err
	}
	sub.Actor = actor
	res, err := h.api.Submit(r.Context(), sub)
	var conflict *engine.IdempotencyConflictError
	if errors.As(err, &conflict) {
		return conflictAnswer(conflict)
	}
	if err != nil {
		return err
	}
	writeSubmitted(w, res)
	return nil
}

// writeSubmitted answers a submission: 202 with the new intent, or 200
// with existing true when its key named an earlier one.
func writeSubmitted(w http.ResponseWriter, res engine.SubmitResult) {
	status := http.StatusAccepted
	if res.Existing {
		status = http.StatusOK
	}
	writeJSON(w, status, SubmitResponse{
		ID: res.Intent.ID, State: res.Intent.State, Decision: res.Intent.Decision, Existing: res.Existing,
	})
}

// conflictAnswer is the 409 idempotency_conflict answer to a submission
// whose idempotency key holds a different one: field idempotency_key, and
// the engine's message naming the holder and the fields that differ
// (never their values). The engine has already put the refusal on the
// record, so it is returned as an engineAnswer: handle answers it without
// recording it a second time.
func conflictAnswer(c *engine.IdempotencyConflictError) error {
	return engineAnswer{newError(http.StatusConflict, CodeIdempotencyConflict, "idempotency_key", "%s", c.Error())}
}

// engineAnswer is an answer to a refusal the engine made and recorded.
// handle sends an *apiError returned as it is to the record as a front
// door's refusal; wrapped in engineAnswer it is only answered (fromEngine
// finds it with errors.As).
type engineAnswer struct{ *apiError }

// Unwrap returns the answer.
func (e engineAnswer) Unwrap() error { return e.apiError }

// actorFor is the actor recorded for a submission by p naming actor.
func actorFor(p principal, r *http.Request, actor string) (string, error) {
	actor = strings.TrimSpace(actor)
	switch {
	case p.local && actor == "":
		if op := strings.TrimSpace(r.Header.Get(OperatorHeader)); op != "" {
			return "cli:" + op, nil
		}
		return LocalIdentity, nil
	case p.local:
		return actor, nil
	case actor == "" || strings.EqualFold(actor, p.name):
		return p.name, nil
	}
	return "", newError(http.StatusForbidden, CodeActorMismatch, "actor",
		"actor %q is not you: %s submits only as %q (or leave actor out)", clipText(actor, 64), p.name, p.name)
}

// route handles POST /v1/intents/route: the governance decision for a
// submission, with nothing stored.
func (h *Handler) route(w http.ResponseWriter, r *http.Request) error {
	var req SubmitRequest
	if err := decodeBody(r, &req, false); err != nil {
		return err
	}
	sub, err := req.Submission()
	if err != nil {
		return err
	}
	if strings.TrimSpace(sub.Actor) == "" {
		sub.Actor = principalOf(r).name
	}
	d, err := h.api.Route(r.Context(), sub)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, d)
	return nil
}

// get handles GET /v1/intents/{id}. An agent reads only its own intents.
func (h *Handler) get(w http.ResponseWriter, r *http.Request) error {
	wait, err := parseWait(r.URL.Query().Get("wait"))
	if err != nil {
		return err
	}
	in, err := h.intentFor(r, r.PathValue("id"), "reads only its own intents")
	if err != nil {
		return err
	}
	if wt, ok := h.api.(engine.Waiter); ok && wait > 0 && !in.State.Terminal() {
		// The answer may come wait from now: the server's write timeout
		// must not cut it off.
		_ = http.NewResponseController(rawWriter(w)).SetWriteDeadline(time.Now().Add(wait + h.opts.WriteTimeout))
		p := principalOf(r)
		ctx, stop := h.holdFor(r.Context(), p, wait)
		in, err = wt.WaitFinished(ctx, in.ID)
		stop()
		if e := h.revoked(p); e != nil {
			return e // not the intent: the caller may no longer read it
		}
		if err != nil {
			return err
		}
	}
	writeJSON(w, http.StatusOK, in)
	return nil
}

// intentFor reads intent id for r's caller. An ID that names no intent is
// answered as unknownIntent, and so is, to an agent, another actor's
// intent (notOwn; the record says the agent "does" only its own, as
// does names it). Both are refusals on the record, so that an agent
// learns nothing from either the answer or the record write it waits
// for: the two cost the same.
func (h *Handler) intentFor(r *http.Request, id, does string) (intent.Intent, error) {
	in, err := h.api.Get(r.Context(), id)
	if errors.Is(err, intent.ErrNotFound) {
		e := unknownIntent(id)
		e.recordIntent = id
		return in, e
	}
	if err != nil {
		return in, err
	}
	if p := principalOf(r); p.role == engine.RoleAgent && in.Actor != p.name {
		// Answered with the ID as the caller typed it, as an unknown ID
		// is: its canonical spelling (int_01ab… found as int_01AB…)
		// would tell that it names an intent.
		return in, notOwn(unknownIntent(id), in.ID, fmt.Sprintf("%s %s; %s was submitted by another actor", p.name, does, in.ID))
	}
	return in, nil
}

// MaxWait is the longest GET /v1/intents/{id}?wait= holds a request.
const MaxWait = 60 * time.Second

// parseWait reads the wait parameter: a duration up to MaxWait ("" is no
// wait).
func parseWait(s string) (time.Duration, error) {
	if s == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 || d > MaxWait {
		return 0, newError(http.StatusBadRequest, CodeBadQuery, "wait", "wait %q: want a duration from 1ms to %v, like 30s", clipText(s, 32), MaxWait)
	}
	return d, nil
}

// list handles GET /v1/intents?state=&tier=&unreviewed=&actor=&type=&since=&before=&limit=
// (every parameter optional; see intent.Filter). before pages: the next
// page starts after the last ID of this one. An agent lists only its own
// intents, and pages only from one of them.
func (h *Handler) list(w http.ResponseWriter, r *http.Request) error {
	f, err := parseFilter(r.URL.Query())
	if err != nil {
		return err
	}
	p := principalOf(r)
	if p.role == engine.RoleAgent {
		// Another actor's intents are refused, not answered with the
		// agent's own under a filter they do not match.
		if f.Actor != "" && !strings.EqualFold(strings.TrimSpace(f.Actor), p.name) {
			return newError(http.StatusForbidden, CodeForbidden, "actor",
				"%s lists only its own intents: leave actor out, or name yourself (actor=%s)", p.name, p.name)
		}
		f.Actor = p.name
	}
	// An identity named in another case ("AGENT.BUILDER") is that
	// identity, as a pause names it: a cancel or retry selecting its
	// intents by --actor found none.
	f.Actor = h.identityName(f.Actor)
	if f.Before != "" {
		cur, err := h.api.Get(r.Context(), f.Before)
		unknown := func() *apiError {
			return newError(http.StatusBadRequest, CodeBadQuery, "before", "before names no intent (%s): page with the last ID of the previous page", clipText(f.Before, 64))
		}
		switch {
		case errors.Is(err, intent.ErrNotFound):
			return unknown()
		case err != nil:
			return err
		case p.role == engine.RoleAgent && cur.Actor != p.name:
			return notOwn(unknown(), cur.ID, fmt.Sprintf("%s pages only from its own intents; %s was submitted by another actor", p.name, cur.ID))
		}
	}
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

// parseFilter reads GET /v1/intents's query into a filter.
func parseFilter(q url.Values) (intent.Filter, error) {
	var f intent.Filter
	if s := q.Get("state"); s != "" {
		f.State = intent.State(s)
		if !f.State.Valid() {
			return f, newError(http.StatusBadRequest, CodeBadQuery, "state", "unknown state %q (one of %s)", clipText(s, 32), stateNames())
		}
	}
	if s := q.Get("tier"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 || n > governance.MaxTier {
			return f, newError(http.StatusBadRequest, CodeBadQuery, "tier", "tier must be an integer from 0 to %d, got %q", governance.MaxTier, clipText(s, 32))
		}
		f.Tier, f.HasTier = n, true
	}
	for _, fl := range []struct {
		name string
		to   *bool
	}{{"unreviewed", &f.Unreviewed}, {"unretried", &f.Unretried}} {
		name, to := fl.name, fl.to
		if s := q.Get(name); s != "" {
			b, err := strconv.ParseBool(s)
			if err != nil {
				return f, newError(http.StatusBadRequest, CodeBadQuery, name, "%s must be true or false, got %q", name, clipText(s, 32))
			}
			*to = b
		}
	}
	f.Actor, f.Type, f.Before = q.Get("actor"), q.Get("type"), q.Get("before")
	if s := q.Get("since"); s != "" {
		t, err := ParseSince(s, time.Now())
		if err != nil {
			return f, newError(http.StatusBadRequest, CodeBadQuery, "since", "%v", err)
		}
		f.Since = t
	}
	limit, err := parseLimit(q.Get("limit"), maxListLimit)
	f.Limit = limit
	return f, err
}

// approve handles POST /v1/intents/{id}/approve.
func (h *Handler) approve(w http.ResponseWriter, r *http.Request) error {
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
func (h *Handler) deny(w http.ResponseWriter, r *http.Request) error {
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

// review handles POST /v1/intents/{id}/review: a finished Tier 1 intent
// marked reviewed, or flagged with a note.
func (h *Handler) review(w http.ResponseWriter, r *http.Request) error {
	var req ReviewRequest
	if err := decodeBody(r, &req, true); err != nil {
		return err
	}
	if err := checkText("note", req.Note, maxReasonBytes, true); err != nil {
		return err
	}
	if err := checkText("operator", req.Operator, maxOperatorBytes, false); err != nil {
		return err
	}
	note := strings.TrimSpace(req.Note)
	if req.Flag && note == "" {
		return newError(http.StatusUnprocessableEntity, CodeReasonRequired, "note", "a note is required to flag an intent")
	}
	in, err := h.api.Review(r.Context(), r.PathValue("id"), operatorOf(r, DecisionRequest{Operator: req.Operator}), note, req.Flag)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, in)
	return nil
}

// cancel handles POST /v1/intents/{id}/cancel {reason}: an operator
// withdraws any intent that has not run, an agent one of its own. The
// reason is required; the canceller is the caller (for the local token, as
// for a decision).
func (h *Handler) cancel(w http.ResponseWriter, r *http.Request) error {
	c, ok := h.api.(engine.Canceller)
	if !ok {
		return newError(http.StatusNotImplemented, CodeNotImplemented, "", "this server cannot cancel intents")
	}
	req, reason, err := reasonedRequest(r, "cancel an intent")
	if err != nil {
		return err
	}
	id := r.PathValue("id")
	if p := principalOf(r); p.role == engine.RoleAgent {
		if _, err := h.intentFor(r, id, "cancels only its own intents"); err != nil {
			return err
		}
	}
	in, err := c.Cancel(r.Context(), id, operatorOf(r, req), reason)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, in)
	return nil
}

// retry handles POST /v1/intents/{id}/retry {reason}: an operator submits
// a failed intent again, as a new intent governed like any submission
// (engine.Retrier), whose actor is the operator. The answer is POST
// /v1/intents's: 202 with the new intent, or 200 with existing true when
// the same operator already retried it.
func (h *Handler) retry(w http.ResponseWriter, r *http.Request) error {
	rt, ok := h.api.(engine.Retrier)
	if !ok {
		return newError(http.StatusNotImplemented, CodeNotImplemented, "", "this server cannot retry intents")
	}
	req, reason, err := reasonedRequest(r, "retry an intent")
	if err != nil {
		return err
	}
	res, err := rt.Retry(r.Context(), r.PathValue("id"), operatorOf(r, req), reason)
	if err != nil {
		return err
	}
	writeSubmitted(w, res)
	return nil
}

// reasonedRequest reads the body of a call that needs a reason (to do
// what verb says, as "cancel an intent") and returns it with the reason
// trimmed, or 422 reason_required.
func reasonedRequest(r *http.Request, verb string) (DecisionRequest, string, error) {
	req, err := decisionRequest(r)
	if err != nil {
		return req, "", err
	}
	reason := strings.TrimSpace(req.Reason)
	if reason == "" {
		return req, "", newError(http.StatusUnprocessableEntity, CodeReasonRequired, "reason", "a reason is required to %s", verb)
	}
	return req, reason, nil
}

// decisionRequest reads an approve or deny body; an empty body is allowed
// (an approval needs no reason).
func decisionRequest(r *http.Request) (DecisionRequest, error) {
	var req DecisionRequest
	if err := decodeBody(r, &req, true); err != nil {
		return req, err
	}
	if err := checkText("reason", req.Reason, maxReasonBytes, true); err != nil {
		return req, err
	}
	if err := checkText("operator", req.Operator, maxOperatorBytes, false); err != nil {
		return req, err
	}
	return req, nil
}

// Bounds on the free text a request puts on the record: a reason, a
// review note, the local token's operator name (the engine's).
const (
	maxReasonBytes   = engine.MaxReasonBytes
	maxOperatorBytes = engine.MaxOperatorBytes
)

// checkText refuses a field's text (422 invalid_field) as engine.CheckText
// does, before the request reaches the engine.
func checkText(field, s string, max int, multiline bool) *apiError {
	var te *engine.TextError
	if errors.As(engine.CheckText(field, s, max, multiline), &te) {
		return newError(http.StatusUnprocessableEntity, CodeInvalidField, te.Field, "%s", te.Error())
	}
	return nil
}

// operatorOf names who decides: a configured identity is itself, whatever
// the request claims; the local identity is named by the X-Grace-Operator
// header, else the body's operator, else LocalIdentity.
func operatorOf(r *http.Request, req DecisionRequest) string {
	p := principalOf(r)
	if !p.local {
		return p.name
	}
	if op := strings.TrimSpace(r.Header.Get(OperatorHeader)); op != "" {
		return op
	}
	if op := strings.TrimSpace(req.Operator); op != "" {
		return op
	}
	return LocalIdentity
}

// parseLimit reads a limit query parameter: empty means 0 (the callee's
// default); otherwise 1..max.
func parseLimit(s string, max int) (int, error) {
	if s == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > max {
		return 0, newError(http.StatusBadRequest, CodeBadQuery, "limit", "limit must be an integer from 1 to %d, got %q", max, clipText(s, 32))
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

// clipText shortens s to n bytes for an error message.
func clipText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "") + "…"
}
