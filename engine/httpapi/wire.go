package httpapi

import (
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"grace/engine"
	"grace/engine/clarity"
	"grace/engine/intent"
)

// DefaultPriority is the priority of a submission that does not name one.
const DefaultPriority = 5

// SubmitRequest is the body of POST /v1/intents. Unknown fields are refused.
// A missing priority means DefaultPriority.
type SubmitRequest struct {
	Type           string          `json:"type"`
	Actor          string          `json:"actor"`
	Payload        json.RawMessage `json:"payload,omitempty"`
	Context        map[string]any  `json:"context,omitempty"`
	Priority       *int            `json:"priority,omitempty"`
	IdempotencyKey string          `json:"idempotency_key,omitempty"`
	// NotBefore schedules the intent: an RFC 3339 time before which it is
	// not dispatched (intent.Submission.NotBefore).
	NotBefore string `json:"not_before,omitempty"`
}

// Submission converts the request into what the engine validates; a
// not_before that is not an RFC 3339 time is a 400 wrong_type naming it,
// and so is a context number a float64 would not keep as written
// (keptContext).
func (r SubmitRequest) Submission() (intent.Submission, error) {
	p := DefaultPriority
	if r.Priority != nil {
		p = *r.Priority
	}
	ctx, err := keptContext(r.Context)
	if err != nil {
		return intent.Submission{}, err
	}
	sub := intent.Submission{
		Type: r.Type, Actor: r.Actor, Payload: r.Payload, Context: ctx,
		Priority: p, IdempotencyKey: r.IdempotencyKey,
	}
	if s := strings.TrimSpace(r.NotBefore); s != "" {
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return sub, newError(http.StatusBadRequest, CodeWrongType, "not_before",
				"not_before: want an RFC 3339 time, like 2026-11-29T18:00:00Z, got %q", clipText(s, 64))
		}
		sub.NotBefore = t
	}
	return sub, nil
}

func submitRequestFrom(sub intent.Submission) SubmitRequest {
	p := sub.Priority
	req := SubmitRequest{
		Type: sub.Type, Actor: sub.Actor, Payload: sub.Payload, Context: sub.Context,
		Priority: &p, IdempotencyKey: sub.IdempotencyKey,
	}
	if !sub.NotBefore.IsZero() {
		req.NotBefore = sub.NotBefore.UTC().Format(time.RFC3339Nano)
	}
	return req
}

// SubmitResponse is the answer to POST /v1/intents: 202 for a new intent,
// 200 with Existing set when the idempotency key named an earlier one
// submitted the same way (whose ID, state and decision are returned). A
// different submission under a taken key is a 409 idempotency_conflict.
type SubmitResponse struct {
	ID       string          `json:"id"`
	State    intent.State    `json:"state"`
	Decision intent.Decision `json:"decision"`
	Existing bool            `json:"existing"`
}

// DecisionRequest is the body of approve and deny. A configured identity
// decides as itself and Operator is ignored; the local identity is named by
// the X-Grace-Operator header, else by Operator, else LocalIdentity.
type DecisionRequest struct {
	Reason   string `json:"reason"`
	Operator string `json:"operator,omitempty"`
}

// PauseRequest is the body of POST /v1/scheduler/pause and
// /v1/scheduler/resume: with Type, the pause or resume of that intent type
// alone; with Actor, of that actor's intents alone (not both: 400
// conflicting_fields); with neither, of the whole scheduler. Reason is
// required to pause. Operator is read as in DecisionRequest.
type PauseRequest struct {
	Reason   string `json:"reason"`
	Type     string `json:"type,omitempty"`
	Actor    string `json:"actor,omitempty"`
	Operator string `json:"operator,omitempty"`
}

// ReviewRequest is the body of POST /v1/intents/{id}/review: Flag marks the
// intent for follow-up and then needs a Note. Operator is read as in
// DecisionRequest.
type ReviewRequest struct {
	Note     string `json:"note"`
	Flag     bool   `json:"flag"`
	Operator string `json:"operator,omitempty"`
}

// WhoAmIResponse is the answer to GET /v1/whoami: the caller's identity.
// Local is set for the generated local token (no identities configured).
type WhoAmIResponse struct {
	Name  string `json:"name"`
	Role  string `json:"role"`
	Local bool   `json:"local,omitempty"`
	// Expires is when the token stops being accepted (identities[].expires);
	// absent when it never does.
	Expires *time.Time `json:"expires,omitempty"`
}

// IntentsResponse is the answer to GET /v1/intents.
type IntentsResponse struct {
	Intents []intent.Intent `json:"intents"`
}

// NarrativesResponse is the answer to GET /v1/narratives, newest first.
type NarrativesResponse struct {
	Narratives []clarity.Entry `json:"narratives"`
	// ResumeBefore, when present, says the page stopped early, at the
	// most records one page may read (100,000 holding a phrase's words,
	// or judged for words to leave out alone): every record down to this
	// narrative ID was judged, and older matches may remain. Ask again
	// with before= this ID to read on. Absent, a page shorter than its
	// limit is the end of the results.
	ResumeBefore int64 `json:"resume_before,omitempty"`
}

// ReadyResponse is the answer to GET /readyz (200 when ready, 503 when not).
type ReadyResponse struct {
	Ready  bool              `json:"ready"`
	Checks map[string]string `json:"checks,omitempty"`
}

// ErrorResponse is every error's body.
type ErrorResponse struct {
	Error ErrorBody `json:"error"`
	// Problems lists every reason a submission was rejected (422 only).
	Problems []engine.Problem `json:"problems,omitempty"`
	// Results says, for an atomic batch refused whole (batch_refused), how
	// each submission fared, in order.
	Results []BatchResult `json:"results,omitempty"`
}

// ErrorBody is the stable part of an error: a machine-readable code, a
// human-readable message and, where one field is at fault, its name.
type ErrorBody struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Field   string `json:"field,omitempty"`
}
