package httpapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"grace/engine"
	"grace/engine/clarity"
)

// Error codes of the stable error shape. Clients branch on these, never on
// the message.
const (
	CodeUnauthorized        = "unauthorized"         // 401: missing or wrong bearer token
	CodeTokenExpired        = "token_expired"        // 401: the token's identity has expired (identities[].expires); the message names it and when
	CodeForbidden           = "forbidden"            // 403: the identity's role may not do this, or the intent is not its own
	CodeActorMismatch       = "actor_mismatch"       // 403: a submission naming an actor other than the caller
	CodeSelfApproval        = "self_approval"        // 403: the submitter approving its own intent
	CodeSelfReview          = "self_review"          // 403: the submitter marking its own Tier 1 intent reviewed
	CodeAlreadyApproved     = "already_approved"     // 409: the same operator approving twice under the two-person rule
	CodeNotReviewable       = "not_reviewable"       // 409: a review of an intent that is not a finished, unreviewed Tier 1 intent
	CodeOperatorRequired    = "operator_required"    // 422: a decision without an operator name
	CodeNotImplemented      = "not_implemented"      // 501: a route of DESIGN.md whose feature is not built yet; nothing was done
	CodeMalformed           = "malformed_json"       // 400: the body is not one JSON object
	CodeUnknownField        = "unknown_field"        // 400: the body has a field the route does not take
	CodeWrongType           = "wrong_type"           // 400: a field has the wrong JSON type
	CodeDuplicateField      = "duplicate_field"      // 400: a name given twice in one object of the body; field is its path
	CodeConflictingFields   = "conflicting_fields"   // 400: fields that exclude each other, as a pause of a type and of an actor at once; field names the second
	CodeInvalidField        = "invalid_field"        // 422: a decision's or review's field is too long or holds control characters
	CodeNoWords             = "no_words"             // 422: GET /v1/narratives' q is not blank but has no letters or digits to search for (field q)
	CodeBadQuery            = "bad_query"            // 400: a query parameter cannot be used (unknown, repeated, malformed)
	CodeBadPath             = "bad_path"             // 404: a path that is not canonical ("//", "..", "%2E"); nothing is redirected
	CodeBodyTooLarge        = "body_too_large"       // 413: the body is over the limit
	CodeBadBody             = "bad_body"             // 400: the body could not be read (broken chunked framing, a body cut short); the message names the problem
	CodeTimeout             = "request_timeout"      // 408: the body did not arrive within the server's read timeout
	CodeUnsupportedEncoding = "unsupported_encoding" // 415: a Content-Encoding other than identity
	CodeNotFound            = "not_found"            // 404: no such intent or route
	CodeMethodNotAllowed    = "method_not_allowed"   // 405
	CodeNotPending          = "not_pending"          // 409: approve/deny of an intent not pending approval
	CodeNotCancellable      = "not_cancellable"      // 409: cancel of an intent that has finished
	CodeNotRetryable        = "not_retryable"        // 409: retry of an intent that has not failed
	CodeAlreadyPaused       = "already_paused"       // 409: a pause of a paused scheduler (or intent type); the message says by whom, since when and why
	CodeNotPaused           = "not_paused"           // 409: a resume of a scheduler (or of an intent type) that is not paused
	CodeUnknownType         = "unknown_type"         // 422: a type pause naming a type the charter does not list (field type)
	CodeTypeRequired        = "type_required"        // 422: a type pause or resume with an empty type
	CodeSilenceEnded        = "silence_ended"        // 409: an end of an alert silence that ended or expired already; nothing was changed
	CodeTooManySilences     = "too_many_silences"    // 409: a new alert silence while engine.MaxActiveSilences are active; nothing was made
	CodeBatchRefused        = "batch_refused"        // an atomic batch refused whole (the status of its first refused item); see results
	CodeNotStored           = "not_stored"           // 424, in an atomic batch's results: this submission was fine, the batch was refused
	CodeIdempotencyConflict = "idempotency_conflict" // 409: the caller's idempotency key holds a different submission; nothing was stored
	CodeInvalidIntent       = "invalid_intent"       // 422: the submission is invalid; see problems
	CodeReasonRequired      = "reason_required"      // 422: a denial without a reason
	CodeRateLimited         = "rate_limited"         // 429: intake's rate limit (htm.rate_limit); see Retry-After
	CodeQueueFull           = "queue_full"           // 503: the HTM queue is at capacity
	CodeUnavailable         = "unavailable"          // 503: the engine is stopped or stopping
	CodeInternal            = "internal"             // 500: anything else (logged, not detailed)
)

// Error is an error answer from the API as the client sees it. It unwraps to
// the engine's sentinel for its code (engine.ErrNotFound for not_found, and
// so on), so errors.Is works across HTTP. A rejected submission is returned
// as *engine.ValidationError instead.
type Error struct {
	Status  int
	Code    string
	Message string
	Field   string
	// Results, for an atomic batch refused whole (batch_refused), says
	// how each submission fared: the refused ones' own errors, the others
	// not_stored.
	Results []BatchResult
}

// Error returns the server's message.
func (e *Error) Error() string { return e.Message }

// HTTPStatus returns the answer's status code, for callers that tell an
// error apart without importing this package (the console says "token
// refused" for a 401).
func (e *Error) HTTPStatus() int { return e.Status }

// Unwrap returns the engine sentinel matching the code, or nil.
func (e *Error) Unwrap() error {
	switch e.Code {
	case CodeNotFound:
		return engine.ErrNotFound
	case CodeNotPending:
		return engine.ErrNotPending
	case CodeNotCancellable:
		return engine.ErrNotCancellable
	case CodeNotRetryable:
		return engine.ErrNotRetryable
	case CodeAlreadyPaused:
		return engine.ErrAlreadyPaused
	case CodeNotPaused:
		return engine.ErrNotPaused
	case CodeReasonRequired:
		return engine.ErrReasonRequired
	case CodeNoWords:
		return clarity.ErrNoWords
	case CodeQueueFull:
		return engine.ErrQueueFull
	case CodeRateLimited:
		return engine.ErrRateLimited
	case CodeUnavailable:
		return engine.ErrStopped
	case CodeSelfApproval:
		return engine.ErrSelfApproval
	case CodeSelfReview:
		return engine.ErrSelfReview
	case CodeAlreadyApproved:
		return engine.ErrAlreadyApproved
	case CodeNotReviewable:
		return engine.ErrNotReviewable
	case CodeOperatorRequired:
		return engine.ErrOperatorRequired
	case CodeUnknownType:
		return engine.ErrUnknownType
	case CodeTypeRequired:
		return engine.ErrTypeRequired
	case CodeSilenceEnded:
		return engine.ErrSilenceEnded
	case CodeTooManySilences:
		return engine.ErrTooManySilences
	}
	return nil
}

// apiError is an error the handler answers with as it is.
type apiError struct {
	status   int
	body     ErrorBody
	problems []engine.Problem
	details  map[string]any // extra facts for the refusal record, never sent
	// recordReason and recordIntent, when set, put on the refusal record
	// what the answer does not say (see notOwn).
	recordReason, recordIntent string
	// retryAfter, when set, is sent as Retry-After (whole seconds, at least 1).
	retryAfter time.Duration
}

func (e *apiError) Error() string { return e.body.Message }

func newError(status int, code, field, format string, args ...any) *apiError {
	return &apiError{status: status, body: ErrorBody{Code: code, Message: fmt.Sprintf(format, args...), Field: field}}
}

// fromEngine turns an error returned by the engine into an answer. The bool
// is false for errors that are not the caller's fault (500).
func fromEngine(err error) (*apiError, bool) {
	var ae *apiError
	if errors.As(err, &ae) {
		return ae, true
	}
	var ve *engine.ValidationError
	if errors.As(err, &ve) {
		e := newError(http.StatusUnprocessableEntity, CodeInvalidIntent, "", "%s", ve.Error())
		e.problems = ve.Problems
		if len(ve.Problems) > 0 {
			e.body.Field = ve.Problems[0].Field
		}
		return e, true
	}
	var te *engine.TextError
	if errors.As(err, &te) {
		return newError(http.StatusUnprocessableEntity, CodeInvalidField, te.Field, "%s", te.Error()), true
	}
	switch {
	case errors.Is(err, engine.ErrNotFound):
		return newError(http.StatusNotFound, CodeNotFound, "id", "%s", err.Error()), true
	case errors.Is(err, engine.ErrNotPending):
		return newError(http.StatusConflict, CodeNotPending, "", "%s", err.Error()), true
	case errors.Is(err, engine.ErrNotCancellable):
		return newError(http.StatusConflict, CodeNotCancellable, "", "%s", err.Error()), true
	case errors.Is(err, engine.ErrNotRetryable):
		return newError(http.StatusConflict, CodeNotRetryable, "", "%s", err.Error()), true
	case errors.Is(err, engine.ErrAlreadyPaused):
		return newError(http.StatusConflict, CodeAlreadyPaused, "", "%s", err.Error()), true
	case errors.Is(err, engine.ErrNotPaused):
		return newError(http.StatusConflict, CodeNotPaused, "", "%s", err.Error()), true
	case errors.Is(err, engine.ErrReasonRequired):
		return newError(http.StatusUnprocessableEntity, CodeReasonRequired, "reason", "%s", err.Error()), true
	case errors.Is(err, engine.ErrSelfApproval):
		return newError(http.StatusForbidden, CodeSelfApproval, "", "%s", err.Error()), true
	case errors.Is(err, engine.ErrSelfReview):
		return newError(http.StatusForbidden, CodeSelfReview, "", "%s", err.Error()), true
	case errors.Is(err, engine.ErrAlreadyApproved):
		return newError(http.StatusConflict, CodeAlreadyApproved, "", "%s", err.Error()), true
	case errors.Is(err, engine.ErrNotReviewable):
		return newError(http.StatusConflict, CodeNotReviewable, "", "%s", err.Error()), true
	case errors.Is(err, engine.ErrOperatorRequired):
		return newError(http.StatusUnprocessableEntity, CodeOperatorRequired, "operator", "%s", err.Error()), true
	case errors.Is(err, engine.ErrUnknownType):
		return newError(http.StatusUnprocessableEntity, CodeUnknownType, "type", "%s", err.Error()), true
	case errors.Is(err, engine.ErrTypeRequired):
		return newError(http.StatusUnprocessableEntity, CodeTypeRequired, "type", "%s", err.Error()), true
	case errors.Is(err, engine.ErrSilenceNotFound):
		return newError(http.StatusNotFound, CodeNotFound, "id", "%s", err.Error()), true
	case errors.Is(err, engine.ErrSilenceEnded):
		return newError(http.StatusConflict, CodeSilenceEnded, "id", "%s", err.Error()), true
	case errors.Is(err, engine.ErrTooManySilences):
		return newError(http.StatusConflict, CodeTooManySilences, "", "%s", err.Error()), true
	case errors.Is(err, engine.ErrNoSilences):
		return newError(http.StatusNotImplemented, CodeNotImplemented, "", "%s", err.Error()), true
	case errors.Is(err, engine.ErrRateLimited):
		e := newError(http.StatusTooManyRequests, CodeRateLimited, "", "%s", err.Error())
		e.retryAfter = time.Second
		var rl *engine.RateLimitError
		if errors.As(err, &rl) && rl.RetryAfter > 0 {
			e.retryAfter = rl.RetryAfter
		}
		return e, true
	case errors.Is(err, engine.ErrQueueFull):
		return newError(http.StatusServiceUnavailable, CodeQueueFull, "", "%s", err.Error()), true
	case errors.Is(err, engine.ErrStopped), errors.Is(err, context.Canceled):
		return newError(http.StatusServiceUnavailable, CodeUnavailable, "", "%s", err.Error()), true
	}
	return newError(http.StatusInternalServerError, CodeInternal, "", "internal error"), false
}

// internalError is the answer to a failure the client cannot act on: the
// server's log has the cause under the request's ID, which the message
// names so that the two can be matched.
func internalError(requestID string) *apiError {
	if requestID == "" {
		return newError(http.StatusInternalServerError, CodeInternal, "", "internal error")
	}
	return newError(http.StatusInternalServerError, CodeInternal, "",
		"internal error (request %s: the server's log has the cause)", requestID)
}

// toClientError turns an error answer back into the error the engine would
// have returned.
func toClientError(status int, body ErrorResponse) error {
	if body.Error.Code == CodeInvalidIntent {
		return &engine.ValidationError{Problems: body.Problems}
	}
	e := &Error{Status: status, Code: body.Error.Code, Message: body.Error.Message, Field: body.Error.Field, Results: body.Results}
	if e.Code == "" {
		e.Code = CodeInternal
	}
	if e.Message == "" {
		e.Message = http.StatusText(status)
	}
	return e
}
