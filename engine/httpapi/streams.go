package httpapi

import (
	"context"
	"errors"
	"net/http"
	"os"

	"github.com/prometheus/client_golang/prometheus"
)

// The default caps on open event streams (Options.MaxStreams,
// Options.MaxStreamsPerIdentity) and on the server's open connections
// (LimitListener, api.max_connections).
const (
	DefaultMaxStreams            = 256
	DefaultMaxStreamsPerIdentity = 16
	DefaultMaxConnections        = 1024
)

// The refusals of an event stream beyond a cap.
const (
	CodeTooManyStreams = "too_many_streams" // 429: the identity has api.max_streams_per_identity event streams open; see Retry-After
	CodeStreamsFull    = "streams_full"     // 503: the server has api.max_streams event streams open; see Retry-After
)

// liveStream is one open event stream, ended by SetAccess when its token
// no longer names the same identity.
type liveStream struct {
	p      principal
	cancel context.CancelFunc
}

// track registers an open stream of p, or refuses it (429 past the
// identity's cap, 503 past the server's); untrack it when it ends.
func (h *Handler) track(p principal, cancel context.CancelFunc) (*liveStream, *apiError) {
	h.streamsMu.Lock()
	defer h.streamsMu.Unlock()
	var e *apiError
	switch {
	case h.streamsBy[p.name] >= h.opts.MaxStreamsPerIdentity:
		e = newError(http.StatusTooManyRequests, CodeTooManyStreams, "",
			"%s has %d event streams open, the most one identity may (api.max_streams_per_identity); close one first",
			clipText(p.name, 64), h.streamsBy[p.name])
		h.streamMetrics.refused.WithLabelValues("identity").Inc()
	case len(h.streams) >= h.opts.MaxStreams:
		e = newError(http.StatusServiceUnavailable, CodeStreamsFull, "",
			"the server has %d event streams open, the most it serves (api.max_streams)", len(h.streams))
		h.streamMetrics.refused.WithLabelValues("server").Inc()
	}
	if e != nil {
		e.retryAfter = streamRetry
		return nil, e
	}
	ls := &liveStream{p: p, cancel: cancel}
	h.streams[ls] = struct{}{}
	h.streamsBy[p.name]++
	h.streamMetrics.open.Inc()
	return ls, nil
}

func (h *Handler) untrack(ls *liveStream) {
	h.streamsMu.Lock()
	h.forgetStream(ls)
	h.streamsMu.Unlock()
}

// forgetStream takes ls off the open streams, once. Called with streamsMu
// held.
func (h *Handler) forgetStream(ls *liveStream) {
	if _, ok := h.streams[ls]; !ok {
		return
	}
	delete(h.streams, ls)
	if h.streamsBy[ls.p.name]--; h.streamsBy[ls.p.name] <= 0 {
		delete(h.streamsBy, ls.p.name)
	}
	h.streamMetrics.open.Dec()
}

// dropped notes a stream cut because its client did not read an event
// within the write timeout.
func (h *Handler) dropped(p principal, err error) {
	if !errors.Is(err, os.ErrDeadlineExceeded) {
		return // the client went
	}
	h.streamMetrics.dropped.Inc()
	h.log.Info("event stream dropped: its client did not read an event within the write timeout",
		"identity", p.name, "role", p.role, "write_timeout", h.opts.WriteTimeout)
}

// streamMetrics are the event streams' figures for GET /metrics.
type streamMetrics struct {
	open    prometheus.Gauge
	refused *prometheus.CounterVec
	dropped prometheus.Counter
}

func newStreamMetrics() *streamMetrics {
	m := &streamMetrics{
		open: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "grace_event_streams_open",
			Help: "Event streams (GET /v1/events) open now.",
		}),
		refused: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "grace_event_streams_refused_total",
			Help: "Event streams refused since start because a cap was reached: an identity's (api.max_streams_per_identity, 429) or the server's (api.max_streams, 503).",
		}, []string{"limit"}),
		dropped: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "grace_event_streams_dropped_total",
			Help: "Event streams cut since start because their client did not read an event within the write timeout (api.write_timeout).",
		}),
	}
	m.refused.WithLabelValues("identity")
	m.refused.WithLabelValues("server")
	return m
}

func (m *streamMetrics) collectors() []prometheus.Collector {
	return []prometheus.Collector{m.open, m.refused, m.dropped}
}
