package httpapi

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strings"

	"grace/engine"
)

// DefaultMaxBodyBytes bounds request bodies when Options.MaxBodyBytes is 0.
const DefaultMaxBodyBytes = 1 << 20

// OperatorHeader names the operator of an approve or deny. It wins over the
// body's "operator"; with neither the operator is "api".
const OperatorHeader = "X-Grace-Operator"

// Options configures NewHandler.
type Options struct {
	// Token is the bearer token every route but the probes requires. An
	// empty token refuses every authenticated request (fail closed).
	Token string
	// MaxBodyBytes bounds request bodies (413 past it); 0 means
	// DefaultMaxBodyBytes.
	MaxBodyBytes int64
	// Logger receives request failures that are not the caller's fault;
	// nil discards them.
	Logger *slog.Logger
	// Ready answers /readyz with readiness and named checks. Nil uses the
	// engine snapshot's Ready flag.
	Ready func() (bool, map[string]string)
}

// handler serves one OperatorAPI.
type handler struct {
	api       engine.OperatorAPI
	opts      Options
	log       *slog.Logger
	tokenHash [sha256.Size]byte
	mux       *http.ServeMux
}

// NewHandler returns the HTTP API over api. The handler is safe for
// concurrent use; it holds no state beyond opts.
func NewHandler(api engine.OperatorAPI, opts Options) http.Handler {
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = DefaultMaxBodyBytes
	}
	h := &handler{api: api, opts: opts, log: opts.Logger, mux: http.NewServeMux()}
	if h.log == nil {
		h.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	h.tokenHash = sha256.Sum256([]byte(opts.Token))

	h.mux.HandleFunc("GET /healthz", h.healthz)
	h.mux.HandleFunc("GET /readyz", h.readyz)
	h.mux.Handle("POST /v1/intents", h.authed(h.submit))
	h.mux.Handle("GET /v1/intents", h.authed(h.list))
	h.mux.Handle("GET /v1/intents/{id}", h.authed(h.get))
	h.mux.Handle("POST /v1/intents/{id}/approve", h.authed(h.approve))
	h.mux.Handle("POST /v1/intents/{id}/deny", h.authed(h.deny))
	h.mux.Handle("GET /v1/narratives", h.authed(h.narratives))
	h.mux.Handle("GET /v1/telemetry", h.authed(h.telemetry))
	return h
}

// ServeHTTP routes r, answering unknown routes and methods in the JSON error
// shape. Unknown routes need the token too, so that probing without one
// learns nothing about which routes exist.
func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	route, pattern := h.mux.Handler(r)
	if pattern != "" {
		h.mux.ServeHTTP(w, r) // the mux sets the path values
		return
	}
	if !h.authorized(r) {
		h.unauthorized(w)
		return
	}
	// Let the mux decide between 404 and 405, then answer in our shape.
	rec := &statusRecorder{header: http.Header{}}
	route.ServeHTTP(rec, r)
	if rec.status == http.StatusMethodNotAllowed {
		w.Header().Set("Allow", rec.header.Get("Allow"))
		writeError(w, newError(http.StatusMethodNotAllowed, CodeMethodNotAllowed, "", "%s is not allowed on %s", r.Method, r.URL.Path))
		return
	}
	writeError(w, newError(http.StatusNotFound, CodeNotFound, "", "no route %s %s", r.Method, r.URL.Path))
}

// authed wraps an authenticated route: the token is checked and the body is
// size-limited before fn runs; fn's error is answered in the JSON shape.
func (h *handler) authed(fn func(http.ResponseWriter, *http.Request) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !h.authorized(r) {
			h.unauthorized(w)
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, h.opts.MaxBodyBytes)
		if err := fn(w, r); err != nil {
			ae, ok := fromEngine(err)
			if !ok {
				h.log.Error("http api request failed", "method", r.Method, "path", r.URL.Path, "err", err)
			}
			writeError(w, ae)
		}
	})
}

// authorized reports whether r carries the bearer token. Hashing both sides
// first makes the comparison constant-time in the token's length too.
func (h *handler) authorized(r *http.Request) bool {
	if h.opts.Token == "" {
		return false
	}
	auth := r.Header.Get("Authorization")
	const prefix = "Bearer "
	if len(auth) < len(prefix) || !strings.EqualFold(auth[:len(prefix)], prefix) {
		return false
	}
	got := sha256.Sum256([]byte(strings.TrimSpace(auth[len(prefix):])))
	return subtle.ConstantTimeCompare(got[:], h.tokenHash[:]) == 1
}

func (h *handler) unauthorized(w http.ResponseWriter) {
	w.Header().Set("WWW-Authenticate", `Bearer realm="grace"`)
	writeError(w, newError(http.StatusUnauthorized, CodeUnauthorized, "", "missing or invalid bearer token"))
}

// writeJSON answers with status and v as JSON.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	_ = enc.Encode(v) // the client has gone if this fails; nothing to do
}

func writeError(w http.ResponseWriter, e *apiError) {
	if e.status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", "1")
	}
	writeJSON(w, e.status, ErrorResponse{Error: e.body, Problems: e.problems})
}

// statusRecorder captures the mux's own 404/405 answer without sending it.
type statusRecorder struct {
	header http.Header
	status int
}

func (s *statusRecorder) Header() http.Header         { return s.header }
func (s *statusRecorder) Write(b []byte) (int, error) { return len(b), nil }
func (s *statusRecorder) WriteHeader(code int)        { s.status = code }
