package engine

import "time"

// meterWindow is how far back rates look.
const meterWindow = 10 * time.Second

// meter counts events in one-second buckets and reports their rate per
// second over the last meterWindow. Time comes from the caller (the
// engine's clock), so a fake clock drives it. It is not safe for concurrent
// use; stats guards it.
type meter struct {
	sec   [10]int64 // the Unix second each bucket counts
	count [10]uint64
}

// add counts n events at now.
func (m *meter) add(now time.Time, n uint64) {
	s := now.Unix()
	i := int(uint64(s) % uint64(len(m.sec)))
	if m.sec[i] != s {
		m.sec[i], m.count[i] = s, 0
	}
	m.count[i] += n
}

// rate returns events per second over the window ending at now.
func (m *meter) rate(now time.Time) float64 {
	s := now.Unix()
	var total uint64
	for i := range m.sec {
		if age := s - m.sec[i]; age >= 0 && age < int64(len(m.sec)) {
			total += m.count[i]
		}
	}
	return float64(total) / meterWindow.Seconds()
}
