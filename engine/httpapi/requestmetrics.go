package httpapi

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// unmatchedRoute labels the requests no route took (404, 405, a path that
// is not canonical), so that probing cannot grow the label set.
const unmatchedRoute = "unmatched"

// waitRoute labels GET /v1/intents/{id}?wait=: its time is the wait's, not
// the API's, and would hide the plain reads' latency.
const waitRoute = "GET /v1/intents/{id}?wait"

// requestMetrics are the API's request counts and latencies for GET
// /metrics, labelled by route pattern (a bounded set) and status code.
type requestMetrics struct {
	total    *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

func newRequestMetrics() *requestMetrics {
	return &requestMetrics{
		total: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "grace_http_requests_total",
			Help: "HTTP API requests answered, by route pattern and status code.",
		}, []string{"route", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "grace_http_request_duration_seconds",
			Help: "Time to answer an HTTP API request, by route pattern (the event stream, which lasts as long as its client stays, is left out).",
			// 0.5 ms to about 8 s: a submission takes a few milliseconds.
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 15),
		}, []string{"route"}),
	}
}

// collectors are what GET /metrics registers.
func (m *requestMetrics) collectors() []prometheus.Collector {
	return []prometheus.Collector{m.total, m.duration}
}

// observe counts one answered request of route with status (0: nothing
// was written, which net/http answers 200) begun at start.
func (m *requestMetrics) observe(route string, status int, start time.Time) {
	if status == 0 {
		status = http.StatusOK
	}
	m.total.WithLabelValues(route, strconv.Itoa(status)).Inc()
	if route != eventsRoute {
		m.duration.WithLabelValues(route).Observe(time.Since(start).Seconds())
	}
}

// routeLabel is the label of a request the mux routes to pattern.
func routeLabel(pattern string, r *http.Request) string {
	if pattern == "GET /v1/intents/{id}" && r.URL.Query().Get("wait") != "" {
		return waitRoute
	}
	return pattern
}
