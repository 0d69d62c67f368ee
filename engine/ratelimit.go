package engine

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"grace/engine/intent"
)

// ErrRateLimited: intake refused a submission because its actor, or all
// actors together, exceeded htm.rate_limit (safeguard htm_rate_limit).
// Nothing was stored; the error is a *RateLimitError saying when to retry.
var ErrRateLimited = errors.New("intake rate limit exceeded")

// RateLimitError is a submission refused by intake's rate limit. It
// matches ErrRateLimited with errors.Is.
type RateLimitError struct {
	// Scope is "actor" (the actor's own bucket) or "global" (the bucket
	// all actors share).
	Scope string `json:"scope"`
	Actor string `json:"actor"`
	// Rate (per second) and Burst are the bucket's limits.
	Rate  float64 `json:"rate"`
	Burst int     `json:"burst"`
	// RetryAfter is when the bucket will next have a token.
	RetryAfter time.Duration `json:"retry_after"`
}

// Error says which limit refused whom, and when to retry.
func (e *RateLimitError) Error() string {
	who := "all actors together"
	if e.Scope == scopeActor {
		who = "actor " + e.Actor
	}
	return fmt.Sprintf("%v: %s over %g/s (burst %d); retry after %v", ErrRateLimited, who, e.Rate, e.Burst, e.RetryAfter.Round(time.Millisecond))
}

// Unwrap returns ErrRateLimited.
func (e *RateLimitError) Unwrap() error { return ErrRateLimited }

// The scopes of a rate limit.
const (
	scopeActor  = "actor"
	scopeGlobal = "global"
)

// maxTrackedActors bounds the per-actor buckets kept; past it, actors
// without a bucket share one (so a flood of made-up actor names cannot
// grow memory without bound). Idle buckets are dropped every shedding
// interval.
const maxTrackedActors = 10000

// overflowActor keys the bucket shared by actors past maxTrackedActors.
const overflowActor = "\x00overflow"

// limits are intake's token buckets and the refusals counted since they
// were last narrated. Time comes from the caller (the engine's clock).
type limits struct {
	mu     sync.Mutex
	cfg    RateLimitConfig
	global *rate.Limiter
	actors map[string]*rate.Limiter
	since  refusals // counted since the last take
}

// refusals counts refused submissions: per actor by the actor's own
// bucket, and by the global bucket; first and last are when.
type refusals struct {
	byActor     map[string]uint64
	global      uint64
	first, last time.Time
}

func (r *refusals) count(now time.Time) {
	if r.first.IsZero() {
		r.first = now
	}
	r.last = now
}

func newLimits(cfg RateLimitConfig) *limits {
	return &limits{
		cfg:    cfg,
		global: rate.NewLimiter(rate.Limit(cfg.GlobalRate), cfg.GlobalBurst),
		actors: make(map[string]*rate.Limiter),
		since:  refusals{byActor: make(map[string]uint64)},
	}
}

// admit takes one token from actor's bucket and, unless skipGlobal, one
// from the global bucket, at now. It returns a *RateLimitError (and takes
// nothing) when either is empty.
func (l *limits) admit(now time.Time, actor string, skipGlobal bool) *RateLimitError {
	l.mu.Lock()
	defer l.mu.Unlock()
	ar := l.bucketLocked(actor).ReserveN(now, 1)
	if wait := ar.DelayFrom(now); !ar.OK() || wait > 0 {
		ar.CancelAt(now)
		l.since.byActor[actor]++
		l.since.count(now)
		return &RateLimitError{Scope: scopeActor, Actor: actor, Rate: l.cfg.ActorRate, Burst: l.cfg.ActorBurst, RetryAfter: wait}
	}
	if skipGlobal {
		return nil
	}
	gr := l.global.ReserveN(now, 1)
	if wait := gr.DelayFrom(now); !gr.OK() || wait > 0 {
		gr.CancelAt(now)
		ar.CancelAt(now)
		l.since.global++
		l.since.count(now)
		return &RateLimitError{Scope: scopeGlobal, Actor: actor, Rate: l.cfg.GlobalRate, Burst: l.cfg.GlobalBurst, RetryAfter: wait}
	}
	return nil
}

// admitAll takes, all or none, want[actor] tokens from each actor's bucket
// and global from the global bucket, at now: an atomic batch's share. On
// a refusal nothing is taken, and the error names the actor (or the
// global bucket) short of tokens. A share larger than a bucket's burst can
// never be taken (RetryAfter 0).
func (l *limits) admitAll(now time.Time, want map[string]int, global int) *RateLimitError {
	l.mu.Lock()
	defer l.mu.Unlock()
	var taken []*rate.Reservation
	undo := func() {
		for _, r := range taken {
			r.CancelAt(now)
		}
	}
	for _, actor := range slices.Sorted(maps.Keys(want)) {
		r := l.bucketLocked(actor).ReserveN(now, want[actor])
		if wait := r.DelayFrom(now); !r.OK() || wait > 0 {
			r.CancelAt(now)
			undo()
			l.since.byActor[actor] += uint64(want[actor])
			l.since.count(now)
			return &RateLimitError{Scope: scopeActor, Actor: actor, Rate: l.cfg.ActorRate, Burst: l.cfg.ActorBurst, RetryAfter: wait}
		}
		taken = append(taken, r)
	}
	if global > 0 {
		r := l.global.ReserveN(now, global)
		if wait := r.DelayFrom(now); !r.OK() || wait > 0 {
			r.CancelAt(now)
			undo()
			l.since.global += uint64(global)
			l.since.count(now)
			return &RateLimitError{Scope: scopeGlobal, Rate: l.cfg.GlobalRate, Burst: l.cfg.GlobalBurst, RetryAfter: wait}
		}
	}
	return nil
}

// bucketLocked returns actor's bucket, made on first use (past
// maxTrackedActors, the shared overflow bucket). Under l.mu.
func (l *limits) bucketLocked(actor string) *rate.Limiter {
	if al, ok := l.actors[actor]; ok {
		return al
	}
	key := actor
	if len(l.actors) >= maxTrackedActors {
		key = overflowActor
		if al := l.actors[key]; al != nil {
			return al
		}
	}
	al := rate.NewLimiter(rate.Limit(l.cfg.ActorRate), l.cfg.ActorBurst)
	l.actors[key] = al
	return al
}

// take returns the refusals counted since the last take and resets them.
// It also drops the buckets of actors that have been idle long enough to
// be full again: a fresh bucket would be the same.
func (l *limits) take(now time.Time) refusals {
	l.mu.Lock()
	defer l.mu.Unlock()
	r := l.since
	l.since = refusals{byActor: make(map[string]uint64)}
	for k, al := range l.actors {
		if al.TokensAt(now) >= float64(l.cfg.ActorBurst) {
			delete(l.actors, k)
		}
	}
	return r
}

// admitSubmission applies htm_rate_limit to sub at now, on a started
// engine with the safeguard on. Tier 4 intents (emergencies) need only
// their actor's token, so that a flood by others never refuses an
// emergency. The actor is keyed as submitted (trimmed); an empty one as
// "unknown".
func (e *Engine) admitSubmission(now time.Time, sub intent.Submission) error {
	if !e.accepting.Load() || !e.cfg.SafeguardEnabled(SafeguardRateLimit) {
		return nil
	}
	actor := clip(strings.TrimSpace(sub.Actor), maxActorLen)
	if actor == "" {
		actor = actorUnknown
	}
	tier, _ := e.router.Tier(strings.TrimSpace(sub.Type))
	if err := e.limits.admit(now, actor, tier == 4); err != nil {
		e.l2stats.rateLimited.Add(1)
		return err
	}
	return nil
}
