package mesh

import (
	"context"
	"time"
)

// Why a shedding episode was narrated.
const (
	reasonQuiet        = "quiet"        // no drops for mesh.episode_quiet
	reasonLong         = "long"         // still shedding after mesh.episode_max; narrated in parts
	reasonShutdown     = "shutdown"     // the mesh stopped
	reasonUnsubscribed = "unsubscribed" // the subscription was closed
)

// episode is one stretch of dropping on one subscription.
type episode struct {
	open       bool
	start      time.Time
	last       time.Time // the latest drop
	dropped    uint64
	offered0   uint64 // the subscription's offered count when it began
	delivered0 uint64
	peak       int
	topics     map[string]uint64 // drops per topic
}

// episodeReport is a closed episode, ready to narrate.
type episodeReport struct {
	Subscription string
	Pattern      string
	Policy       Backpressure
	Capacity     int
	Start, End   time.Time
	Dropped      uint64
	Offered      uint64 // offered during the episode
	Delivered    uint64 // delivered during the episode
	Queued       int
	Topics       map[string]uint64
	Reason       string
	// Total figures of the subscription when the episode closed.
	TotalOffered, TotalDelivered, TotalDropped uint64
}

// takeEpisode closes the subscription's episode when it has been quiet for
// quiet or has lasted longer than maxLen (then a new one begins at once if
// drops continue). It returns nil when there is nothing to narrate.
func (s *Subscription) takeEpisode(now time.Time, quiet, maxLen time.Duration) *episodeReport {
	s.mu.Lock()
	defer s.mu.Unlock()
	e := &s.ep
	switch {
	case !e.open:
		return nil
	case now.Sub(e.last) >= quiet:
		return s.takeEpisodeLocked(now, reasonQuiet)
	case now.Sub(e.start) >= maxLen:
		return s.takeEpisodeLocked(now, reasonLong)
	}
	return nil
}

// takeEpisodeLocked closes the open episode, if any, for reason.
func (s *Subscription) takeEpisodeLocked(now time.Time, reason string) *episodeReport {
	e := s.ep
	if !e.open {
		return nil
	}
	s.ep = episode{}
	s.episodes++
	end := e.last
	if reason == reasonLong || reason == reasonShutdown {
		end = now
	}
	return &episodeReport{
		Subscription: s.name, Pattern: s.pattern.String(), Policy: s.policy, Capacity: s.buffer,
		Start: e.start, End: end, Dropped: e.dropped,
		Offered: s.offered - e.offered0, Delivered: s.delivered - e.delivered0, Queued: s.q.len(),
		Topics: e.topics, Reason: reason,
		TotalOffered: s.offered, TotalDelivered: s.delivered, TotalDropped: s.dropped,
	}
}

// narrateLoop closes quiet and long episodes every mesh.episode_quiet
// until ctx is cancelled.
func (m *Mesh) narrateLoop(ctx context.Context) {
	t := m.clock.NewTicker(m.cfg.EpisodeQuiet)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C():
			m.closeEpisodes(now)
		}
	}
}

// closeEpisodes narrates every episode due at now.
func (m *Mesh) closeEpisodes(now time.Time) {
	for _, s := range m.subscriptions() {
		if rep := s.takeEpisode(now, m.cfg.EpisodeQuiet, m.cfg.EpisodeMax); rep != nil {
			m.narrateEpisode(*rep)
		}
	}
}

// flushEpisodes narrates every open episode (the mesh is stopping).
func (m *Mesh) flushEpisodes() {
	now := m.clock.Now()
	for _, s := range m.subscriptions() {
		s.mu.Lock()
		rep := s.takeEpisodeLocked(now, reasonShutdown)
		s.mu.Unlock()
		if rep != nil {
			m.narrateEpisode(*rep)
		}
	}
}

// narrateEpisode writes the episode's record and announces it on
// TopicShedding (without waiting).
func (m *Mesh) narrateEpisode(r episodeReport) {
	m.episodes.Add(1)
	m.record(episodeRecord(r))
	_, _ = m.Offer(Event{Topic: TopicShedding, Source: actorMesh, Fields: map[string]string{
		"subscription": r.Subscription, "policy": string(r.Policy),
		"dropped": uitoa(r.Dropped), "offered": uitoa(r.Offered), "reason": r.Reason,
	}})
}
