package notify

import (
	"sort"
	"sync"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
)

// The results a notification is counted under.
const (
	// ResultDelivered: the receiver answered 2xx.
	ResultDelivered = "delivered"
	// ResultFailed: the receiver refused it (a 4xx other than 429, a 3xx)
	// or every attempt failed.
	ResultFailed = "failed"
	// ResultDropped: the webhook's queue was full, or Grace stopped before
	// it was sent.
	ResultDropped = "dropped"
)

// Results lists the results in the order they are reported.
var Results = []string{ResultDelivered, ResultFailed, ResultDropped}

var descNotifications = prometheus.NewDesc("grace_notifications_total",
	"Webhook notifications since start, by webhook, kind (alert, approval_requested, approvals_pending) and result: delivered (2xx), failed (refused, or every attempt failed) or dropped (the webhook's queue was full, or Grace stopped first).",
	[]string{"webhook", "kind", "result"}, nil)

// Metrics counts notifications by webhook, kind and result. It is a
// prometheus.Collector (grace_notifications_total) and safe for
// concurrent use. The zero value is not usable: NewMetrics.
type Metrics struct {
	mu     sync.Mutex
	counts map[series]*atomic.Uint64
}

type series struct{ webhook, kind, result string }

// DefaultMetrics is the process's notification counts: a Notifier given no
// Metrics counts here, and the HTTP API's /metrics exposes it.
var DefaultMetrics = NewMetrics()

// NewMetrics returns empty counts.
func NewMetrics() *Metrics { return &Metrics{counts: map[series]*atomic.Uint64{}} }

// counter returns the count of one series, creating it at zero.
func (m *Metrics) counter(webhook, kind, result string) *atomic.Uint64 {
	k := series{webhook, kind, result}
	m.mu.Lock()
	defer m.mu.Unlock()
	c := m.counts[k]
	if c == nil {
		c = new(atomic.Uint64)
		m.counts[k] = c
	}
	return c
}

// add counts n notifications.
func (m *Metrics) add(webhook, kind, result string, n int) {
	if n > 0 {
		m.counter(webhook, kind, result).Add(uint64(n))
	}
}

// Value returns how many notifications of kind for webhook had result.
func (m *Metrics) Value(webhook, kind, result string) uint64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	if c := m.counts[series{webhook, kind, result}]; c != nil {
		return c.Load()
	}
	return 0
}

// Describe sends the description of grace_notifications_total.
func (m *Metrics) Describe(ch chan<- *prometheus.Desc) { ch <- descNotifications }

// Collect sends every series, zero ones included (a webhook's series exist
// from its start, so that a rate over them is defined).
func (m *Metrics) Collect(ch chan<- prometheus.Metric) {
	m.mu.Lock()
	keys := make([]series, 0, len(m.counts))
	for k := range m.counts {
		keys = append(keys, k)
	}
	vals := make(map[series]uint64, len(keys))
	for _, k := range keys {
		vals[k] = m.counts[k].Load()
	}
	m.mu.Unlock()
	sort.Slice(keys, func(i, j int) bool {
		a, b := keys[i], keys[j]
		if a.webhook != b.webhook {
			return a.webhook < b.webhook
		}
		if a.kind != b.kind {
			return a.kind < b.kind
		}
		return a.result < b.result
	})
	for _, k := range keys {
		m, err := prometheus.NewConstMetric(descNotifications, prometheus.CounterValue, float64(vals[k]), k.webhook, k.kind, k.result)
		if err != nil {
			m = prometheus.NewInvalidMetric(descNotifications, err)
		}
		ch <- m
	}
}
