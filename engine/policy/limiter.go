package policy

import (
	"fmt"
	"sort"
	"sync"
	"time"

	"grace/engine/clarity"
)

// limiter bounds narration: per key (a rule's alerts, a rule's cuts of one
// kind) at most one record per interval. Records refused meanwhile are
// counted; the latest is kept and written, with the count, as a summary
// once the interval has passed (flush) or the engine stops.
type limiter struct {
	interval time.Duration
	mu       sync.Mutex
	slots    map[string]*slot
	total    uint64 // records not written one by one
}

type slot struct {
	last    time.Time             // when a record of this key was last written
	pending uint64                // refused since
	since   time.Time             // the first refused
	latest  func() clarity.Record // builds the latest refused record
}

func newLimiter(interval time.Duration) *limiter {
	return &limiter{interval: interval, slots: map[string]*slot{}}
}

// admit returns the record build makes (noting any repeats counted before
// it) when a record of key may be written at now; otherwise it counts the
// record, keeps build for a later summary and returns false. build is only
// called for records that are written.
func (l *limiter) admit(key string, now time.Time, build func() clarity.Record) (clarity.Record, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := l.slots[key]
	if s == nil {
		s = &slot{}
		l.slots[key] = s
	} else if now.Sub(s.last) < l.interval {
		if s.pending == 0 {
			s.since = now
		}
		s.pending++
		s.latest = build
		l.total++
		return clarity.Record{}, false
	}
	s.last = now
	r := build()
	if s.pending > 0 {
		r = l.summarise(r, s)
	}
	return r, true
}

// due returns the summaries whose interval has passed at now (all of them
// when final).
func (l *limiter) due(now time.Time, final bool) []clarity.Record {
	l.mu.Lock()
	defer l.mu.Unlock()
	keys := make([]string, 0, len(l.slots))
	for k := range l.slots {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var out []clarity.Record
	for _, k := range keys {
		s := l.slots[k]
		if s.pending == 0 || (!final && now.Sub(s.last) < l.interval) {
			continue
		}
		r := s.latest()
		r.Why = append(r.Why, fmt.Sprintf("This is the latest of %d like it since %s, counted rather than narrated one by one (policy.alert_interval %v)",
			s.pending, s.since.UTC().Format(time.RFC3339Nano), l.interval))
		r.Context = withRepeats(r.Context, s.pending)
		s.pending, s.last, s.latest = 0, now, nil
		out = append(out, r)
	}
	return out
}

// summarise notes the repeats counted before r.
func (l *limiter) summarise(r clarity.Record, s *slot) clarity.Record {
	r.Why = append(r.Why, fmt.Sprintf("%d more like it since %s were counted, not narrated one by one (policy.alert_interval %v)",
		s.pending, s.since.UTC().Format(time.RFC3339Nano), l.interval))
	r.Context = withRepeats(r.Context, s.pending)
	s.pending, s.latest = 0, nil
	return r
}

func (l *limiter) suppressed() uint64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.total
}

func withRepeats(ctx map[string]any, n uint64) map[string]any {
	out := make(map[string]any, len(ctx)+1)
	for k, v := range ctx {
		out[k] = v
	}
	out["repeats_not_narrated"] = n
	return out
}
