package httpapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"grace/engine"
)

// Error codes of the stable error shape. Clients branch on these, never on
// the message.
const (
	CodeUnauthorized     = "unauthorized"       // 401: missing or wrong bearer token
	CodeMalformed        = "malformed_json"     // 400: the body is not one JSON object
	CodeUnknownField     = "unknown_field"      // 400: the body has a field the route does not take
	CodeWrongType        = "wrong_type"         // 400: a field has the wrong JSON type
	CodeBadQuery         = "bad_query"          // 400: a query parameter cannot be used
	CodeBodyTooLarge     = "body_too_large"     // 413: the body is over the limit
	CodeNotFound         = "not_found"          // 404: no such intent or route
	CodeMethodNotAllowed = "method_not_allowed" // 405
	CodeNotPending       = "not_pending"        // 409: approve/deny of an intent not pending approval
	CodeInvalidIntent    = "invalid_intent"     // 422: the submission is invalid; see problems
	CodeReasonRequired   = "reason_required"    // 422: a denial without a reason
	CodeQueueFull        = "queue_full"         // 503: the HTM queue is at capacity
	CodeUnavailable      = "unavailable"        // 503: the engine is stopped or stopping
	CodeInternal         = "internal"           // 500: anything else (logged, not detailed)
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
}

// Error returns the server's message.
func (e *Error) Error() string { return e.Message }

// Unwrap returns the engine sentinel matching the code, or nil.
func (e *Error) Unwrap() error {
	switch e.Code {
	case CodeNotFound:
		return engine.ErrNotFound
	case CodeNotPending:
		return engine.ErrNotPending
	case CodeReasonRequired:
		return engine.ErrReasonRequired
	case CodeQueueFull:
		return engine.ErrQueueFull
	case CodeUnavailable:
		return engine.ErrStopped
	}
	return nil
}

// apiError is an error the handler answers with as it is.
type apiError struct {
	status   int
	body     ErrorBody
	problems []engine.Problem
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
	switch {
	case errors.Is(err, engine.ErrNotFound):
		return newError(http.StatusNotFound, CodeNotFound, "id", "%s", err.Error()), true
	case errors.Is(err, engine.ErrNotPending):
		return newError(http.StatusConflict, CodeNotPending, "", "%s", err.Error()), true
	case errors.Is(err, engine.ErrReasonRequired):
		return newError(http.StatusUnprocessableEntity, CodeReasonRequired, "reason", "%s", err.Error()), true
	case errors.Is(err, engine.ErrQueueFull):
		return newError(http.StatusServiceUnavailable, CodeQueueFull, "", "%s", err.Error()), true
	case errors.Is(err, engine.ErrStopped), errors.Is(err, context.Canceled):
		return newError(http.StatusServiceUnavailable, CodeUnavailable, "", "%s", err.Error()), true
	}
	return newError(http.StatusInternalServerError, CodeInternal, "", "internal error"), false
}

// toClientError turns an error answer back into the error the engine would
// have returned.
func toClientError(status int, body ErrorResponse) error {
	if body.Error.Code == CodeInvalidIntent {
		return &engine.ValidationError{Problems: body.Problems}
	}
	e := &Error{Status: status, Code: body.Error.Code, Message: body.Error.Message, Field: body.Error.Field}
	if e.Code == "" {
		e.Code = CodeInternal
	}
	if e.Message == "" {
		e.Message = http.StatusText(status)
	}
	return e
}
