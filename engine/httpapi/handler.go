package httpapi

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"path"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"grace/engine"
	"grace/engine/clock"
)

// DefaultMaxBodyBytes bounds request bodies when Options.MaxBodyBytes is 0.
const DefaultMaxBodyBytes = 1 << 20

// DefaultHeartbeat is how often an idle event stream sends a comment line
// when Options.Heartbeat is 0, so that proxies keep it open and a client
// can tell a quiet stream from a dead one.
const DefaultHeartbeat = 15 * time.Second

// OperatorHeader names the local operator. With the generated local token
// (no identities configured) it names who approves or denies, and who
// submits when the body names no actor ("cli:" + the header). With
// configured identities it is ignored: the token's identity is the operator.
const OperatorHeader = "X-Grace-Operator"

// RefusalRecorder puts a refused request on the record. *engine.Engine
// implements it.
type RefusalRecorder interface {
	RecordRefusal(ctx context.Context, r engine.Refusal) error
}

// Options configures NewHandler.
type Options struct {
	// Identities are the operators, agents and viewers the API knows.
	Identities []Identity
	// Token is the local operator token, used only when Identities is
	// empty. With neither, every authenticated request is refused (fail
	// closed).
	Token string
	// MaxBodyBytes bounds request bodies (413 past it); 0 means
	// DefaultMaxBodyBytes.
	MaxBodyBytes int64
	// WriteTimeout bounds the writing of each event on an event stream (the
	// server's own WriteTimeout would end the stream); 0 means 30 s.
	WriteTimeout time.Duration
	// MaxStreams caps the open event streams (503 streams_full past it),
	// and MaxStreamsPerIdentity one identity's (429 too_many_streams); 0
	// means DefaultMaxStreams, DefaultMaxStreamsPerIdentity.
	MaxStreams, MaxStreamsPerIdentity int
	// Heartbeat is the idle event stream's keep-alive; 0 means
	// DefaultHeartbeat.
	Heartbeat time.Duration
	// Logger receives request failures that are not the caller's fault;
	// nil discards them.
	Logger *slog.Logger
	// Ready answers /readyz with readiness and named checks. Nil uses the
	// engine snapshot's Ready flag.
	Ready func() (bool, map[string]string)
	// Refusals records refused requests. Nil uses the API itself when it
	// implements RefusalRecorder; otherwise refusals are only answered.
	Refusals RefusalRecorder
	// Chaos is the chaos service behind the /v1/chaos routes. Nil: those
	// routes answer 503 chaos_unavailable (to callers whose role may call
	// them) and /metrics has no chaos figures. With it, the handler follows
	// the API's events for the chaos metrics until Close.
	Chaos engine.ChaosAPI
	// Clock tells the time that identities' expiries are compared with
	// (and ends an expiring identity's event stream); nil means the wall
	// clock.
	Clock clock.Clock
	// Store reads the store's figures for /metrics at each scrape; nil:
	// /metrics has no store figures.
	Store func() StoreFigures
	// Connections is the listener the server serves on (LimitListener):
	// /metrics reads its figures at each scrape (open, idle and waiting
	// connections, and idle ones closed to make room at the cap), and
	// NewServer/NewServerWith set the server's ConnState to tell it which
	// connections are idle. Nil: neither.
	Connections *LimitedListener
}

// StoreFigures are the store's totals /metrics exposes: group commits and
// what they held, failed batches, the full-text index's lag, and the size
// of each file by name.
type StoreFigures struct {
	GroupCommits, Changes, Records, FailedBatches int64
	IndexLag                                      int64
	FileBytes                                     map[string]int64
}

// Handler serves one engine.OperatorAPI over HTTP. It is safe for
// concurrent use. Close ends its event streams (NewServer arranges that on
// Shutdown).
type Handler struct {
	api      engine.OperatorAPI
	opts     Options
	log      *slog.Logger
	keys     atomic.Pointer[keyring] // swapped whole by SetAccess
	refusals RefusalRecorder
	mux      *http.ServeMux
	clock    clock.Clock

	closeOnce sync.Once
	closed    chan struct{} // closed by Close: event streams end

	// accessChanged is closed and replaced by every SetAccess, waking the
	// held requests to check their token again (held.go).
	accessMu      sync.Mutex
	accessChanged chan struct{}

	streamsMu sync.Mutex
	streams   map[*liveStream]struct{} // open event streams, ended by SetAccess when their token goes
	streamsBy map[string]int           // open event streams by identity name
	ids       *requestIDs
	requests  *requestMetrics
	// streamMetrics count open, refused and dropped event streams.
	streamMetrics *streamMetrics

	meter     *chaosMeter // nil without Options.Chaos
	stopMeter func()      // ends the meter's subscription and waits for it
}

var _ http.Handler = (*Handler)(nil)

// NewHandler returns the HTTP API over api (the routes are listed in the
// package documentation).
func NewHandler(api engine.OperatorAPI, opts Options) *Handler {
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if opts.WriteTimeout <= 0 {
		opts.WriteTimeout = 30 * time.Second
	}
	if opts.MaxStreams <= 0 {
		opts.MaxStreams = DefaultMaxStreams
	}
	if opts.MaxStreamsPerIdentity <= 0 {
		opts.MaxStreamsPerIdentity = DefaultMaxStreamsPerIdentity
	}
	if opts.Heartbeat <= 0 {
		opts.Heartbeat = DefaultHeartbeat
	}
	if opts.Clock == nil {
		opts.Clock = clock.Real{}
	}
	h := &Handler{
		api: api, opts: opts, log: opts.Logger, mux: http.NewServeMux(), refusals: opts.Refusals,
		closed: make(chan struct{}), clock: opts.Clock, streams: map[*liveStream]struct{}{}, ids: newRequestIDs(),
		streamsBy: map[string]int{}, requests: newRequestMetrics(), streamMetrics: newStreamMetrics(),
		accessChanged: make(chan struct{}),
	}
	h.keys.Store(newKeyring(opts.Identities, opts.Token, opts.Clock.Now))
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	h.warnExpiries(opts.Identities)
	if h.refusals == nil {
		h.refusals, _ = api.(RefusalRecorder)
	}
	if opts.Chaos != nil {
		h.meter, h.stopMeter = startChaosMeter(api)
	}
	h.routes()
	return h
}

// Close ends every open event stream and makes new ones end at once, and
// stops following the events for the chaos metrics (which then stand
// still). The other routes keep working; call it when the server shuts
// down.
func (h *Handler) Close() {
	h.closeOnce.Do(func() {
		close(h.closed)
		if h.stopMeter != nil {
			h.stopMeter()
		}
	})
}

// ServeHTTP routes r, answering unknown routes and methods in the JSON error
// shape. Unknown routes need a token too, so that probing without one
// learns nothing about which routes exist.
//
// A token whose identity has expired (Identity.Expires at or before the
// clock's now) is answered 401 token_expired, and the attempt recorded
// with the identity's name, before anything else, on every route but
// /healthz, /readyz and /metrics (which need no token). An event stream
// opened by an identity that will expire ends at its expiry.
//
// A method that /healthz, /readyz or /metrics does not take is answered
// 405 method_not_allowed with an Allow header, without a token: these
// paths are public, so the answer tells nothing a prober could not learn.
//
// A path that is not canonical ("//", "/./", "/../") is not redirected, as the mux would do (with an HTML
// body, before any token is checked, and for a POST to a route the client
// did not name): it is answered 404 like an unknown route, naming the
// canonical path.
//
// A panic below (a bug, never an input the API expects) is answered 500
// internal in the JSON shape, when nothing has been sent yet, and logged
// as an error with its stack; net/http would drop the connection with no
// answer and print the trace to the server's log.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	sw := &sentWriter{ResponseWriter: w}
	w = sw
	id := h.ids.of(r)
	w.Header()[requestIDHeader] = []string{id}
	r = r.WithContext(context.WithValue(r.Context(), requestIDKey{}, id))
	start, label := time.Now(), unmatchedRoute
	defer func() { h.requests.observe(label, sw.status, start) }() // after recoverPanic's answer
	if h.log.Enabled(r.Context(), slog.LevelDebug) {
		defer h.logRequest(sw, r, start)
	}
	defer h.recoverPanic(sw, r)
	canonical := cleanPath(r.URL.Path)
	route, pattern := h.mux.Handler(r)
	if pattern != "" && canonical == r.URL.Path {
		label = routeLabel(pattern, r)
	}
	if h.keys.Load().expiring {
		var done func()
		var ok bool
		if r, done, ok = h.checkExpiry(w, r, pattern); !ok {
			return
		}
		defer done()
	}
	if pattern != "" && canonical == r.URL.Path {
		h.mux.ServeHTTP(w, r) // the mux sets the path values
		return
	}
	if publicPaths[r.URL.Path] {
		h.noRoute(w, r, route) // a probe's path, another method: 405, no token needed
		return
	}
	p, fp, ok := h.keys.Load().authenticate(r)
	if !ok {
		h.unauthorized(w, r, fp, "")
		return
	}
	r = r.WithContext(withPrincipal(r.Context(), p))
	if canonical != r.URL.Path {
		h.refuse(w, r, newError(http.StatusNotFound, CodeNotFound, "", "no route %s %s: the path is not canonical (%s is)",
			r.Method, clipText(r.URL.Path, 200), clipText(canonical, 200)), "")
		return
	}
	h.noRoute(w, r, route)
}

// noRoute answers a request no route takes in the JSON shape: 405 with
// the mux's Allow header when the path has routes for other methods, else
// 404. route is what the mux would answer.
func (h *Handler) noRoute(w http.ResponseWriter, r *http.Request, route http.Handler) {
	rec := &statusRecorder{header: http.Header{}}
	route.ServeHTTP(rec, r)
	e := newError(http.StatusNotFound, CodeNotFound, "", "no route %s %s", clipText(r.Method, 20), clipText(r.URL.Path, 200))
	if strings.HasPrefix(r.URL.Path, "/v1/v1/") {
		// A client given the server's URL with /v1 on it (--server
		// http://host:7420/v1) asks for /v1/v1/...
		e = newError(http.StatusNotFound, CodeNotFound, "", "no route %s %s: the server's URL was given with /v1 on its end; give it without (http://host:port), the client adds /v1",
			clipText(r.Method, 20), clipText(r.URL.Path, 200))
	}
	if rec.status == http.StatusMethodNotAllowed {
		w.Header().Set("Allow", rec.header.Get("Allow"))
		e = newError(http.StatusMethodNotAllowed, CodeMethodNotAllowed, "", "%s is not allowed on %s", clipText(r.Method, 20), clipText(r.URL.Path, 200))
	}
	h.refuse(w, r, e, "")
}

// recoverPanic turns a handler's panic into a 500 answer and an error log.
// http.ErrAbortHandler (a handler ending its response on purpose) passes.
func (h *Handler) recoverPanic(w *sentWriter, r *http.Request) {
	v := recover()
	if v == nil {
		return
	}
	if v == http.ErrAbortHandler {
		panic(v)
	}
	h.log.Error("http api handler failed", "method", r.Method, "path", clipText(r.URL.Path, 200),
		"request_id", requestIDOf(r), "err", fmt.Sprint(v), "stack", string(debug.Stack()))
	if w.sent {
		panic(http.ErrAbortHandler) // an answer has begun: end the connection quietly
	}
	writeError(w, internalError(requestIDOf(r)))
}

// The header values of every JSON answer, shared so that answering does
// not allocate them per request (net/http only reads header values).
var (
	jsonContentType = []string{"application/json"}
	noStore         = []string{"no-store"}
)

// writeJSON answers with status and v as JSON.
func writeJSON(w http.ResponseWriter, status int, v any) {
	h := w.Header()
	h["Content-Type"] = jsonContentType // canonical keys: as Set would write them
	h["Cache-Control"] = noStore
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	_ = enc.Encode(v) // the client has gone if this fails; nothing to do
}

// maxMessageBytes bounds an error's message: a message that quotes the
// request (a 10 KB ID) must not send it all back.
const maxMessageBytes = 1024

func writeError(w http.ResponseWriter, e *apiError) {
	e.body.Message = clipText(e.body.Message, maxMessageBytes)
	switch {
	case e.retryAfter > 0:
		w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(e.retryAfter.Seconds()))))
	case e.status == http.StatusServiceUnavailable:
		w.Header().Set("Retry-After", "1")
	}
	writeJSON(w, e.status, ErrorResponse{Error: e.body, Problems: e.problems})
}

// cleanPath is p as the mux would route it: "." and ".." elements resolved,
// "//" collapsed, a trailing "/" kept.
func cleanPath(p string) string {
	if p == "" {
		return "/"
	}
	if p[0] != '/' {
		p = "/" + p
	}
	np := path.Clean(p)
	if p[len(p)-1] == '/' && np != "/" {
		np += "/"
	}
	return np
}

// sentWriter notes whether an answer has begun, so that a panic is
// answered only when nothing was sent. Unwrap keeps
// http.ResponseController (flushes, deadlines) working through it.
type sentWriter struct {
	http.ResponseWriter
	sent bool
	// status and bytes are what was answered, for the access log.
	status int
	bytes  int64
}

func (s *sentWriter) WriteHeader(code int) {
	if !s.sent {
		s.status = code
	}
	s.sent = true
	s.ResponseWriter.WriteHeader(code)
}

func (s *sentWriter) Write(b []byte) (int, error) {
	if !s.sent {
		s.status = http.StatusOK
	}
	s.sent = true
	n, err := s.ResponseWriter.Write(b)
	s.bytes += int64(n)
	return n, err
}

// Unwrap returns the server's ResponseWriter.
func (s *sentWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// rawWriter is the server's own ResponseWriter under w, which
// http.MaxBytesReader needs to close the connection after a 413.
func rawWriter(w http.ResponseWriter) http.ResponseWriter {
	if s, ok := w.(*sentWriter); ok {
		return s.ResponseWriter
	}
	return w
}

// statusRecorder captures the mux's own 404/405 answer without sending it.
type statusRecorder struct {
	header http.Header
	status int
}

func (s *statusRecorder) Header() http.Header         { return s.header }
func (s *statusRecorder) Write(b []byte) (int, error) { return len(b), nil }
func (s *statusRecorder) WriteHeader(code int)        { s.status = code }
