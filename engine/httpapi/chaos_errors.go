package httpapi

import (
	"errors"
	"net/http"
	"strings"

	"grace/engine"
)

// The chaos routes' error codes, beside the ones in errors.go.
const (
	CodeChaosBusy           = "chaos_busy"            // 409: a chaos run is already in progress
	CodeChaosUnavailable    = "chaos_unavailable"     // 503: the engine behind the API has no chaos service
	CodeInvalidChaosRequest = "invalid_chaos_request" // 400: a run request naming no, or an unknown, scenario or category, or a bad difficulty; field names it
)

// declined is an answer to a request the engine took and declined (busy,
// not found, unavailable): handle sends it but does not record it as a
// refused request, as it does not for the engine's other errors.
type declined struct{ *apiError }

// Unwrap returns the answer, for fromEngine.
func (d *declined) Unwrap() error { return d.apiError }

// errChaosUnavailable answers every chaos route when Options.Chaos is nil.
var errChaosUnavailable error = &declined{newError(http.StatusServiceUnavailable, CodeChaosUnavailable, "",
	"%s: this server was started without a chaos service; nothing was run", engine.ErrChaosUnavailable.Error())}

// chaosAnswer turns an error of the chaos service into the answer. A
// refused request (*engine.ChaosRequestError) is a 400 naming the field,
// and goes on the record like any other bad input; busy, not found and
// unavailable are the engine's answers and are not. Anything else is
// returned as it is (fromEngine: a stopped engine is 503, the rest 500).
func chaosAnswer(err error) error {
	var re *engine.ChaosRequestError
	switch {
	case errors.As(err, &re):
		return newError(http.StatusBadRequest, CodeInvalidChaosRequest, re.Field, "%s", re.Error())
	case errors.Is(err, engine.ErrChaosBusy):
		return &declined{newError(http.StatusConflict, CodeChaosBusy, "", "%s", err.Error())}
	case errors.Is(err, engine.ErrChaosRunNotFound):
		return &declined{newError(http.StatusNotFound, CodeNotFound, "id", "%s", err.Error())}
	case errors.Is(err, engine.ErrChaosUnavailable):
		return errChaosUnavailable
	}
	return err
}

// ChaosError is a chaos route's error answer as the client returns it: the
// server's *Error, which also unwraps to the chaos sentinel its code stands
// for (engine.ErrChaosBusy, engine.ErrChaosRunNotFound,
// engine.ErrChaosUnavailable), so both errors.As(err, **Error) and
// errors.Is(err, engine.ErrChaosBusy) work.
type ChaosError struct {
	API      *Error
	Sentinel error
}

// Error returns the server's message.
func (e *ChaosError) Error() string { return e.API.Error() }

// Unwrap returns the server's error and the chaos sentinel.
func (e *ChaosError) Unwrap() []error { return []error{e.API, e.Sentinel} }

// chaosClientError turns a chaos route's error answer back into the error
// the chaos service would have returned. notFound is the sentinel a
// not_found answer stands for on this route (engine.ErrChaosRunNotFound
// for a run; nil elsewhere, where it means a server without the route).
// A server from before the chaos routes (501 not_implemented), or one
// that does not know the route, is unavailable chaos.
func chaosClientError(err error, notFound error) error {
	var e *Error
	if err == nil || !errors.As(err, &e) {
		return err
	}
	switch {
	case e.Code == CodeInvalidChaosRequest:
		return &engine.ChaosRequestError{Field: e.Field, Reason: strings.TrimPrefix(e.Message, "chaos request: "+e.Field+": ")}
	case e.Code == CodeChaosBusy:
		return &ChaosError{API: e, Sentinel: engine.ErrChaosBusy}
	case e.Code == CodeNotFound && notFound != nil:
		return &ChaosError{API: e, Sentinel: notFound}
	case e.Code == CodeChaosUnavailable, e.Code == CodeNotImplemented, e.Code == CodeNotFound:
		return &ChaosError{API: e, Sentinel: engine.ErrChaosUnavailable}
	}
	return err
}
