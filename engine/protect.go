package engine

import (
	"context"
	"time"

	"grace/engine/clock"
)

// rateEpisodeMax is how long an episode of rate-limit refusals may run
// before it is narrated anyway (and a new one begins).
const rateEpisodeMax = 30 * time.Second

// rateEpisode accumulates rate-limit refusals until they stop, so that a
// flood is narrated once with its counts, not once per refusal. It is
// confined to the protection loop.
type rateEpisode struct {
	refusals
}

func (ep *rateEpisode) open() bool { return !ep.first.IsZero() }

// protectLoop runs the HTM's protections until ctx ends: on each tick of
// t (every htm.shedding.interval) it narrates rate-limit episodes that
// have ended and checks the queue for load shedding; a submission that
// finds the queue critical asks for a check at once; it writes the
// unauthenticated refusal summaries that are due. On the way out it
// narrates the episode still open and the summaries pending, and stops t.
func (e *Engine) protectLoop(ctx context.Context, t clock.Ticker) {
	defer t.Stop()
	var ep rateEpisode
	for {
		select {
		case <-ctx.Done():
			e.foldRefusals(&ep, e.clock.Now())
			e.closeRateEpisode(&ep)
			e.summariseRefusals(context.WithoutCancel(ctx), e.clock.Now(), true)
			return
		case <-t.C():
			now := e.clock.Now()
			e.tickRateEpisode(&ep, now)
			e.summariseRefusals(ctx, now, false)
			e.shedIfCritical(now, false)
			e.shed.ticks.Add(1)
		case <-e.shed.kick:
			e.shedIfCritical(e.clock.Now(), true)
			e.shed.handled.Add(1)
		}
	}
}

// tickRateEpisode folds the refusals since the last tick into ep; an
// episode that had none this tick, or has run rateEpisodeMax, is narrated
// and closed.
func (e *Engine) tickRateEpisode(ep *rateEpisode, now time.Time) {
	if !e.foldRefusals(ep, now) {
		e.closeRateEpisode(ep)
		return
	}
	if now.Sub(ep.first) >= rateEpisodeMax {
		e.closeRateEpisode(ep)
	}
}

// foldRefusals adds the refusals since the last fold to ep, opening it if
// need be, and reports whether there were any.
func (e *Engine) foldRefusals(ep *rateEpisode, now time.Time) bool {
	r := e.limits.take(now)
	if r.first.IsZero() {
		return false
	}
	if !ep.open() {
		ep.first, ep.byActor = r.first, make(map[string]uint64)
	}
	ep.last = r.last
	for a, n := range r.byActor {
		ep.byActor[a] += n
	}
	ep.global += r.global
	return true
}

// closeRateEpisode narrates ep, if open, and resets it.
func (e *Engine) closeRateEpisode(ep *rateEpisode) {
	if !ep.open() {
		return
	}
	e.note(rateLimitedRecord(*ep, e.cfg.HTM.RateLimit))
	*ep = rateEpisode{}
}
