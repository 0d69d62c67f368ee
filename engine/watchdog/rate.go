package watchdog

import "time"

// delta turns a cumulative counter into what happened since the previous
// reading. The first reading, and a counter that went backwards (its
// source was restarted), count as nothing having happened.
type delta struct {
	prev uint64
	at   time.Time
	seen bool
}

// next returns the increase since the previous reading and the time it
// spans (zero on the first reading).
func (d *delta) next(now time.Time, v uint64) (n uint64, span time.Duration) {
	if d.seen && v >= d.prev && now.After(d.at) {
		n, span = v-d.prev, now.Sub(d.at)
	}
	d.prev, d.at, d.seen = v, now, true
	return n, span
}

// perSecond is n over span, 0 for an empty span.
func perSecond(n uint64, span time.Duration) float64 {
	if span <= 0 {
		return 0
	}
	return float64(n) / span.Seconds()
}
