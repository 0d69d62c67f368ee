package httpapi

import (
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"
)

// requestIDHeader carries a request's ID both ways: a client may send one
// (it is kept when it is a usable ID), and every answer has one.
const requestIDHeader = "X-Request-Id"

// maxRequestID bounds a client's request ID.
const maxRequestID = 128

// requestIDs gives requests that came without a usable ID one of their
// own: a random prefix per handler and a counter, so IDs are unique
// within a run and unlikely to repeat across runs.
type requestIDs struct {
	prefix string
	n      atomic.Uint64
}

func newRequestIDs() *requestIDs {
	var b [4]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand panics instead)
	return &requestIDs{prefix: hex.EncodeToString(b[:]) + "-"}
}

// of returns r's X-Request-Id when it is usable (1 to 128 of A-Z a-z 0-9
// and . _ : -), else a new ID.
func (g *requestIDs) of(r *http.Request) string {
	if v := r.Header[requestIDHeader]; len(v) == 1 && usableRequestID(v[0]) {
		return v[0]
	}
	return g.prefix + strconv.FormatUint(g.n.Add(1), 36)
}

func usableRequestID(s string) bool {
	if s == "" || len(s) > maxRequestID {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == ':' || c == '-') {
			return false
		}
	}
	return true
}

type requestIDKey struct{}

// requestIDOf is the ID ServeHTTP gave r ("" for a request it did not
// serve).
func requestIDOf(r *http.Request) string {
	id, _ := r.Context().Value(requestIDKey{}).(string)
	return id
}

// logRequest writes the access log line of r, at debug level (log.level:
// debug): what was asked, by whom, the answer and how long it took.
func (h *Handler) logRequest(w *sentWriter, r *http.Request, start time.Time) {
	who := "-" // no known token
	if p, ok := h.keys.Load().identify(r); ok {
		who = p.name
	}
	h.log.LogAttrs(r.Context(), slog.LevelDebug, "http request",
		slog.String("method", r.Method), slog.String("path", clipText(r.URL.Path, 200)),
		slog.Int("status", w.status), slog.Int64("bytes", w.bytes),
		slog.Duration("took", time.Since(start)), slog.String("identity", who),
		slog.String("remote", r.RemoteAddr), slog.String("request_id", requestIDOf(r)))
}
