package watchdog

import (
	"cmp"
	"fmt"
	"slices"
	"sync"
	"time"
)

// SLO tracks one service-level objective: good and bad events in
// one-minute buckets (for a 30-day period; they scale with it) over the
// longest burn-rate window, and the burn rate of each BurnRules window.
// Record is safe for concurrent use and cheap (one mutex, no allocation),
// so the engine calls it on its hot paths.
type SLO struct {
	// Name identifies the objective ("dispatch_latency").
	Name string
	// Component is the component whose health the objective belongs to;
	// its burn-rate alerts are that component's.
	Component string
	// Objective is the share of events that must be good (0.99).
	Objective float64
	// Description words the objective ("99% of dispatches within 5s of
	// becoming ready").
	Description string

	period time.Duration
	width  time.Duration
	mu     sync.Mutex
	ring   []bucket
	good   uint64
	bad    uint64
}

// bucket counts the events of one time slice; idx is the slice's number
// since the Unix epoch.
type bucket struct {
	idx       int64
	good, bad uint64
}

// NewSLO returns an objective tracked over period (the error budget's
// span, which scales the burn-rate windows).
func NewSLO(name, component, description string, objective float64, period time.Duration) *SLO {
	width := max(period/bucketsPerPeriod, time.Millisecond)
	var longest time.Duration
	for _, r := range BurnRules {
		l, _ := r.scaled(period)
		longest = max(longest, l)
	}
	n := int(longest/width) + 1
	return &SLO{Name: name, Component: component, Description: description, Objective: objective,
		period: period, width: width, ring: make([]bucket, n)}
}

// Record counts one event at now, good or bad.
func (s *SLO) Record(now time.Time, good bool) {
	idx := now.UnixNano() / int64(s.width)
	s.mu.Lock()
	b := &s.ring[int(uint64(idx)%uint64(len(s.ring)))]
	if b.idx != idx {
		*b = bucket{idx: idx}
	}
	if good {
		b.good++
		s.good++
	} else {
		b.bad++
		s.bad++
	}
	s.mu.Unlock()
}

// SLOStatus is an objective's state at one check.
type SLOStatus struct {
	Name        string  `json:"name"`
	Component   string  `json:"component"`
	Objective   float64 `json:"objective"`
	Description string  `json:"description"`
	// Good and Bad count the events since start.
	Good uint64 `json:"good"`
	Bad  uint64 `json:"bad"`
	// Windows holds each rule's long and short window, in BurnRules order.
	Windows []WindowBurn `json:"windows"`
	// Status is the severity of the worst rule firing (OK when none).
	Status Status `json:"status"`
	// Reason words the firing rule, or the fastest burn when none fires.
	Reason string `json:"reason"`
}

// Status evaluates every rule at now.
func (s *SLO) Status(now time.Time) SLOStatus {
	// The windows in buckets, and their order from the longest: a bucket
	// old enough to leave one window has left every shorter one too.
	spans := make([]int64, 0, 2*len(BurnRules))
	for _, r := range BurnRules {
		l, sh := r.scaled(s.period)
		spans = append(spans, int64(l/s.width), max(int64(sh/s.width), 1))
	}
	order := make([]int, len(spans))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { return cmp.Compare(spans[b], spans[a]) })
	wins := make([]WindowBurn, len(spans))
	cur := now.UnixNano() / int64(s.width)
	s.mu.Lock()
	st := SLOStatus{Name: s.Name, Component: s.Component, Objective: s.Objective, Description: s.Description, Good: s.good, Bad: s.bad}
	for i := range s.ring {
		b := &s.ring[i]
		age := cur - b.idx
		if age < 0 || b.good+b.bad == 0 {
			continue
		}
		for _, j := range order {
			if age >= spans[j] {
				break
			}
			wins[j].Events += b.good + b.bad
			wins[j].Bad += b.bad
		}
	}
	s.mu.Unlock()
	budget := 1 - s.Objective
	for j := range wins {
		l, sh := BurnRules[j/2].scaled(s.period)
		wins[j].Window = l
		if j%2 == 1 {
			wins[j].Window = sh
		}
		if wins[j].Events > 0 {
			wins[j].BurnRate = float64(wins[j].Bad) / float64(wins[j].Events) / budget
		}
	}
	st.Windows = wins
	fastest := -1
	for i, r := range BurnRules {
		long, short := wins[2*i], wins[2*i+1]
		if long.BurnRate > r.Factor && short.BurnRate > r.Factor && r.Severity > st.Status {
			st.Status = r.Severity
			st.Reason = describeRule(s.Name, r, long, short, s.period)
		}
		if fastest < 0 || long.BurnRate > wins[2*fastest].BurnRate {
			fastest = i
		}
	}
	if st.Status == OK {
		w := wins[2*fastest]
		st.Reason = fmt.Sprintf("%s within budget: burn rate %.2f× over %s (%d of %d events bad); %s",
			s.Name, w.BurnRate, span(w.Window), w.Bad, w.Events, s.Description)
	}
	return st
}
