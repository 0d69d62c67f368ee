package mesh

import (
	"sync"
	"sync/atomic"
	"time"
)

// rateWindow is how far back rates look.
const rateWindow = 10 * time.Second

// Meter counts events in one-second buckets of a clock and reports their
// rate per second over the last 10 s. Add is cheap and safe for concurrent
// use; a bucket being recycled may lose a count or two to a racing Add,
// which a rate can afford (exact counts are kept apart). The zero value is
// ready to use.
type Meter struct {
	mu    sync.Mutex // serialises recycling a bucket
	sec   [10]atomic.Int64
	count [10]atomic.Uint64
}

// Add counts one event at now.
func (m *Meter) Add(now time.Time) {
	s := now.Unix()
	i := int(uint64(s) % uint64(len(m.sec)))
	if m.sec[i].Load() != s {
		m.mu.Lock()
		if m.sec[i].Load() != s {
			m.count[i].Store(0)
			m.sec[i].Store(s)
		}
		m.mu.Unlock()
	}
	m.count[i].Add(1)
}

// Rate returns events per second over the 10 s ending at now.
func (m *Meter) Rate(now time.Time) float64 {
	s := now.Unix()
	var total uint64
	for i := range m.sec {
		if age := s - m.sec[i].Load(); age >= 0 && age < int64(len(m.sec)) {
			total += m.count[i].Load()
		}
	}
	return float64(total) / rateWindow.Seconds()
}
