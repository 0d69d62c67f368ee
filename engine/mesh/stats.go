package mesh

import (
	"sort"
	"strconv"
)

// Backpressure states of a subscription and of the mesh.
const (
	StateOK        = "ok"        // room to spare
	StateFilling   = "filling"   // the buffer is at least 80% full
	StateShedding  = "shedding"  // dropping now (an episode is open)
	StateUnbounded = "unbounded" // mesh_backpressure is off: no bound, no drops
)

// fillingAt is the fill ratio from which a subscription is "filling".
const fillingAt = 0.8

// TopicStats are one topic's figures.
type TopicStats struct {
	Name      string `json:"name"`
	Published uint64 `json:"published"`
	// Rate is events per second over the last 10 s.
	Rate        float64 `json:"rate"`
	Subscribers int     `json:"subscribers"`
}

// SubStats are one subscription's figures. Offered = Delivered + Dropped +
// Queued holds at every snapshot.
type SubStats struct {
	Name         string `json:"name"`
	Pattern      string `json:"pattern"`
	Backpressure string `json:"backpressure"`
	// Buffer is the configured bound; Bounded is false when the
	// mesh_backpressure safeguard is off.
	Buffer    int    `json:"buffer"`
	Bounded   bool   `json:"bounded"`
	Queued    int    `json:"queued"`
	Peak      int    `json:"peak"`
	Offered   uint64 `json:"offered"`
	Delivered uint64 `json:"delivered"`
	Dropped   uint64 `json:"dropped"`
	// Waiting counts publishers blocked on a full "block" buffer.
	Waiting  int    `json:"waiting"`
	State    string `json:"state"`
	Episodes uint64 `json:"episodes"`
	Panics   uint64 `json:"panics"`
}

// Stats are the mesh's live figures, for the watchdog and the console.
type Stats struct {
	// Bounded is the mesh_backpressure safeguard.
	Bounded bool `json:"bounded"`
	// Subscriptions counts live subscriptions; SubscriptionsOK is the
	// seed's health fact: at least MinSubscriptions of them.
	Subscriptions    int  `json:"subscriptions"`
	MinSubscriptions int  `json:"min_subscriptions"`
	SubscriptionsOK  bool `json:"subscriptions_ok"`
	// Published counts events accepted on declared topics; UnknownTopic
	// counts publishes refused for an undeclared topic.
	Published    uint64 `json:"published"`
	UnknownTopic uint64 `json:"unknown_topic"`
	// Offered, Delivered, Dropped and Queued sum the subscriptions'.
	Offered   uint64 `json:"offered"`
	Delivered uint64 `json:"delivered"`
	Dropped   uint64 `json:"dropped"`
	Queued    int    `json:"queued"`
	// EventRate is events published per second over the last 10 s.
	EventRate float64 `json:"event_rate"`
	// Backpressure is the worst subscription state (ok, filling,
	// shedding; unbounded when the safeguard is off and nothing worse).
	Backpressure string `json:"backpressure"`
	// Episodes counts shedding episodes narrated.
	Episodes        uint64       `json:"episodes"`
	Topics          []TopicStats `json:"topics"`
	PerSubscription []SubStats   `json:"per_subscription"`
}

// Stats returns the live figures. It takes each subscription's lock
// briefly and never waits on a consumer.
func (m *Mesh) Stats() Stats {
	now := m.clock.Now()
	st := Stats{Bounded: m.bounded, MinSubscriptions: m.minSubs, UnknownTopic: m.unknown.Load(),
		Episodes: m.episodes.Load(), Backpressure: StateOK}
	if !m.bounded {
		st.Backpressure = StateUnbounded
	}
	topics := *m.topics.Load()
	for _, t := range topics {
		ts := TopicStats{Name: t.name, Published: t.published.Load(), Rate: t.meter.Rate(now), Subscribers: len(*t.subs.Load())}
		st.Published += ts.Published
		st.EventRate += ts.Rate
		st.Topics = append(st.Topics, ts)
	}
	sort.Slice(st.Topics, func(i, j int) bool { return st.Topics[i].Name < st.Topics[j].Name })
	rank := map[string]int{StateOK: 0, StateUnbounded: 0, StateFilling: 1, StateShedding: 2}
	for _, s := range m.subscriptions() {
		ss := s.stats()
		st.Offered += ss.Offered
		st.Delivered += ss.Delivered
		st.Dropped += ss.Dropped
		st.Queued += ss.Queued
		if rank[ss.State] > rank[st.Backpressure] {
			st.Backpressure = ss.State
		}
		st.PerSubscription = append(st.PerSubscription, ss)
	}
	st.Subscriptions = len(st.PerSubscription)
	st.SubscriptionsOK = st.Subscriptions >= st.MinSubscriptions
	return st
}

func (s *Subscription) stats() SubStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	ss := SubStats{
		Name: s.name, Pattern: s.pattern.String(), Backpressure: string(s.policy), Buffer: s.buffer,
		Bounded: s.capacity > 0, Queued: s.q.len(), Peak: s.peak, Offered: s.offered, Delivered: s.delivered,
		Dropped: s.dropped, Waiting: s.waiting, Episodes: s.episodes, Panics: s.panics.Load(), State: StateOK,
	}
	switch {
	case s.ep.open:
		ss.State = StateShedding
	case s.capacity == 0:
		ss.State = StateUnbounded
	case float64(ss.Queued) >= fillingAt*float64(s.capacity):
		ss.State = StateFilling
	}
	return ss
}

// Subscription returns the figures of the named subscription.
func (m *Mesh) Subscription(name string) (SubStats, bool) {
	for _, s := range m.subscriptions() {
		if s.name == name {
			return s.stats(), true
		}
	}
	return SubStats{}, false
}

func uitoa(n uint64) string { return strconv.FormatUint(n, 10) }
