package httpapi

import (
	"net/http"
	"strings"
	"time"

	"grace/engine"
	"grace/engine/intent"
)

// Who may call what. Agents submit and read their own intents; viewers
// read everything; operators also decide, review and run chaos.
var (
	anyone     = []string{engine.RoleAgent, engine.RoleViewer, engine.RoleOperator}
	submitters = []string{engine.RoleAgent, engine.RoleOperator}
	readers    = []string{engine.RoleViewer, engine.RoleOperator}
	operators  = []string{engine.RoleOperator}
)

// publicPaths are the probes' paths, served without a token (GET, and so
// HEAD): a token sent to them, expired or not, is ignored, and another
// method is answered 405 without one.
var publicPaths = map[string]bool{"/healthz": true, "/readyz": true, "/metrics": true}

// routes registers every route with the roles allowed to call it.
func (h *Handler) routes() {
	h.mux.HandleFunc("GET /healthz", h.healthz)
	h.mux.HandleFunc("GET /readyz", h.readyz)
	h.mux.Handle("GET /metrics", h.metricsHandler())

	h.handle("POST /v1/intents", submitters, h.submit)
	h.handle("POST /v1/intents/batch", submitters, h.submitBatch)
	h.handle("POST /v1/intents/route", anyone, h.route)
	h.handle("GET /v1/intents", anyone, h.list)
	h.handle("GET /v1/intents/{id}", anyone, h.get)
	h.handle("POST /v1/intents/{id}/approve", operators, h.approve)
	h.handle("POST /v1/intents/{id}/deny", operators, h.deny)
	h.handle("POST /v1/intents/{id}/review", operators, h.review)
	h.handle("POST /v1/intents/{id}/cancel", submitters, h.cancel)
	h.handle("POST /v1/intents/{id}/retry", operators, h.retry)
	h.handle("GET /v1/scheduler", readers, h.schedulerState)
	h.handle("POST /v1/scheduler/pause", operators, h.pauseScheduler)
	h.handle("POST /v1/scheduler/resume", operators, h.resumeScheduler)
	h.handle("GET /v1/narratives", anyone, h.narratives)
	h.handle("GET /v1/telemetry", readers, h.telemetry)
	h.handle("GET /v1/alerts", readers, h.alerts)
	h.handle("GET /v1/alerts/silences", readers, h.listSilences)
	h.handle("POST /v1/alerts/silences", operators, h.createSilence)
	h.handle("POST /v1/alerts/silences/{id}/end", operators, h.endSilence)
	h.handle("GET /v1/events", anyone, h.events)
	h.handle("GET /v1/audit/verify", readers, h.verifyAudit)
	h.handle("GET /v1/whoami", anyone, h.whoami)
	h.handle("POST /v1/chaos/runs", operators, h.startChaos)
	h.handle("GET /v1/chaos/runs", readers, h.chaosHistory)
	h.handle("GET /v1/chaos/runs/{id}", readers, h.chaosRun)
	h.handle("POST /v1/chaos/halt", operators, h.haltChaos)
	h.handle("GET /v1/chaos/scenarios", readers, h.chaosScenarios)
	h.handle("GET /v1/chaos/status", readers, h.chaosStatus)
}

// handle registers an authenticated route: the token is checked (401),
// then the role (403), the local token's X-Grace-Operator header (422) and
// the query string (400, routeParams); then the body is size-limited and
// fn runs; fn's error is answered in the JSON shape. Refusals made here,
// before the engine, go on the record.
func (h *Handler) handle(pattern string, roles []string, fn func(http.ResponseWriter, *http.Request) error) {
	action := pattern
	h.mux.Handle(pattern, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, fp, ok := h.keys.Load().authenticate(r)
		if !ok {
			h.unauthorized(w, r, fp, action)
			return
		}
		r = r.WithContext(withPrincipal(r.Context(), p))
		if !p.can(roles) {
			h.refuse(w, r, newError(http.StatusForbidden, CodeForbidden, "",
				"%s (role %s) may not call %s; it takes the role %s", p.name, p.role, action, strings.Join(roles, " or ")), action)
			return
		}
		if op := r.Header.Get(OperatorHeader); p.local && op != "" {
			if err := checkText(OperatorHeader, op, maxOperatorBytes, false); err != nil {
				h.refuse(w, r, err, action)
				return
			}
		}
		if err := checkQuery(r, action); err != nil {
			h.refuse(w, r, err, action)
			return
		}
		if r.ContentLength > h.opts.MaxBodyBytes {
			// Said up front: refused before a byte is read (and before
			// "100 Continue" would invite the body).
			h.refuse(w, r, newError(http.StatusRequestEntityTooLarge, CodeBodyTooLarge, "",
				"request body is %d bytes (Content-Length); the limit is %d bytes (api.max_body_bytes)", r.ContentLength, h.opts.MaxBodyBytes), action)
			return
		}
		r.Body = http.MaxBytesReader(rawWriter(w), r.Body, h.opts.MaxBodyBytes)
		err := fn(w, r)
		if err == nil {
			return
		}
		if ae, ours := err.(*apiError); ours {
			if ae.body.Code == CodeTimeout {
				// The body's read timeout ran out, and the write timeout,
				// counted from the same moment, with it: the 408 gets a
				// moment of its own to be written.
				_ = http.NewResponseController(rawWriter(w)).SetWriteDeadline(time.Now().Add(answerGrace))
			}
			h.refuse(w, r, ae, action) // refused here: the engine never saw it
			return
		}
		ae, ok := fromEngine(err)
		if !ok {
			id := requestIDOf(r)
			h.log.Error("http api request failed", "method", r.Method, "path", r.URL.Path, "identity", p.name,
				"request_id", id, "err", err)
			ae = internalError(id)
		}
		writeError(w, ae)
	}))
}

// answerGrace is how long a 408 has to be written once the request's own
// time is up.
const answerGrace = 2 * time.Second

// unauthorized answers 401 and records the attempt, naming the token only
// by a fingerprint of its hash.
func (h *Handler) unauthorized(w http.ResponseWriter, r *http.Request, fingerprint, action string) {
	w.Header().Set("WWW-Authenticate", `Bearer realm="grace"`)
	msg := "missing bearer token"
	switch {
	case fingerprint != "":
		msg = "invalid bearer token: no identity has it"
	case len(r.Header.Values("Authorization")) > 1:
		msg = "more than one Authorization header: send exactly one"
	}
	e := newError(http.StatusUnauthorized, CodeUnauthorized, "", "%s", msg)
	if fingerprint != "" {
		e.details = map[string]any{"token_sha256_prefix": fingerprint}
	}
	h.refuse(w, r, e, action)
}

// refuse puts the refused request on the record (when a recorder is set)
// and then answers e. action is the route's pattern, or "" for the method
// and path as sent.
func (h *Handler) refuse(w http.ResponseWriter, r *http.Request, e *apiError, action string) {
	defer writeError(w, e) // after the record, so an answered refusal is on it
	if h.refusals == nil {
		return
	}
	if action == "" {
		action = r.Method + " " + r.URL.Path
	}
	p := principalOf(r)
	reason, id := e.body.Message, e.recordIntent
	if e.recordReason != "" {
		reason = e.recordReason
	}
	if id == "" { // the path's, an intent's ID in its canonical case whatever case it was typed in
		id = intent.CanonicalID(r.PathValue("id"))
	}
	rf := engine.Refusal{
		Who: p.name, Role: p.role, Where: "http_api", Action: action, Status: e.status, Code: e.body.Code,
		Field: e.body.Field, Reason: reason, IntentID: id, Remote: r.RemoteAddr,
		RequestID: requestIDOf(r), Details: e.details,
	}
	if err := h.refusals.RecordRefusal(r.Context(), rf); err != nil {
		h.log.Error("record refused request", "action", action, "err", err)
	}
}

// notOwn is the answer to an agent reaching for another actor's intent
// id: the very answer an ID that names no intent gets (answer), so that an
// agent cannot learn which IDs exist by asking, while the refusal record
// says what really happened (why, in full, with the intent's ID).
func notOwn(answer *apiError, id, why string) *apiError {
	answer.recordReason, answer.recordIntent = why, id
	answer.details = map[string]any{"hidden": "the intent exists and was submitted by another actor; the agent was answered as for an unknown ID"}
	return answer
}

// unknownIntent is GET's answer for an ID that names no intent, worded as
// the store words it (the test of notOwn compares the two answers).
func unknownIntent(id string) *apiError {
	return newError(http.StatusNotFound, CodeNotFound, "id", "get intent %s: %s", id, intent.ErrNotFound)
}
