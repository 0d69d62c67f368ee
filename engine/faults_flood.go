package engine

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"grace/engine/intent"
)

// FloodSpec shapes an intake flood (the seed's L2_HTM_queue_flood_stress:
// 10,000 intents, half of them invalid).
type FloodSpec struct {
	// Count is how many submissions to make.
	Count int `json:"count"`
	// InvalidShare is the share (0..1) made invalid on purpose (a priority
	// out of range), spread evenly through the flood.
	InvalidShare float64 `json:"invalid_share"`
	// Actors spreads the flood over actors flood.agent_1 … flood.agent_N
	// (at least 1).
	Actors int `json:"actors"`
	// InvalidActors, when above 0, makes the invalid submissions come from
	// misbehaving agents of their own, flood.broken_1 … flood.broken_N,
	// as in a real flood where a few broken agents send the garbage; the
	// valid ones still come from the Actors.
	InvalidActors int `json:"invalid_actors"`
	// Type is the intent type submitted (default query_knowledge).
	Type string `json:"type"`
	// Priority of the valid submissions (0–9).
	Priority int `json:"priority"`
	// Concurrency is how many submitters run at once (default 16).
	Concurrency int `json:"concurrency"`
	// Retry makes the submitters behave like well-mannered agents: a
	// submission refused by the global rate limit (everyone is slowed) is
	// made again once its retry-after has passed, until it is taken or
	// refused for another reason. A refusal by the actor's own limit is
	// final: that agent is the one too fast.
	Retry bool `json:"retry"`
}

// FloodResult is what became of a flood's submissions.
type FloodResult struct {
	Submitted int `json:"submitted"`
	Accepted  int `json:"accepted"`
	Invalid   int `json:"invalid"`
	// RateLimited counts the rate limit's refusals (with Retry, each
	// retried refusal; Retried counts those).
	RateLimited int           `json:"rate_limited"`
	Retried     int           `json:"retried"`
	QueueFull   int           `json:"queue_full"`
	OtherErrors int           `json:"other_errors"`
	FirstError  string        `json:"first_error,omitempty"`
	Duration    time.Duration `json:"duration"`
}

// FloodIntake submits spec.Count intents through Submit, as fast as intake
// takes them, from spec.Concurrency goroutines that it waits for, and
// counts the outcomes (see Faults). It stops early, with what was done so
// far and ctx's error, when ctx ends.
func (e *Engine) FloodIntake(ctx context.Context, spec FloodSpec) (FloodResult, error) {
	spec.Type = orDefault(strings.TrimSpace(spec.Type), "query_knowledge")
	spec.Actors = max(spec.Actors, 1)
	spec.InvalidActors = max(spec.InvalidActors, 0)
	if spec.Concurrency < 1 {
		spec.Concurrency = 16
	}
	switch {
	case spec.Count < 1:
		return FloodResult{}, fmt.Errorf("flood intake: count (%d) must be at least 1", spec.Count)
	case math.IsNaN(spec.InvalidShare) || spec.InvalidShare < 0 || spec.InvalidShare > 1:
		return FloodResult{}, fmt.Errorf("flood intake: invalid share (%v) must lie in 0..1", spec.InvalidShare)
	case spec.Priority < 0 || spec.Priority > 9:
		return FloodResult{}, fmt.Errorf("flood intake: priority (%d) must lie in 0..9", spec.Priority)
	}
	effect := fmt.Sprintf("%d %s submissions from %d actors, %g%% invalid, %d at a time", spec.Count, spec.Type, spec.Actors, spec.InvalidShare*100, spec.Concurrency)
	if err := e.recordFault(ctx, whereIntake, "flood_intake", "intake flood", effect,
		"count", spec.Count, "invalid_share", spec.InvalidShare, "actors", spec.Actors, "type", spec.Type); err != nil {
		return FloodResult{}, fmt.Errorf("flood intake: %w", err)
	}
	start := time.Now()
	var next atomic.Int64
	var mu sync.Mutex
	var res FloodResult
	var wg sync.WaitGroup
	for range spec.Concurrency {
		wg.Go(func() {
			for ctx.Err() == nil {
				i := int(next.Add(1)) - 1
				if i >= spec.Count {
					return
				}
				for {
					err := e.floodOne(ctx, spec, i)
					var rl *RateLimitError
					retry := spec.Retry && errors.As(err, &rl) && rl.Scope == scopeGlobal && ctx.Err() == nil
					mu.Lock()
					res.count(err, retry)
					mu.Unlock()
					if !retry {
						break
					}
					select {
					case <-ctx.Done():
					case <-e.clock.After(max(rl.RetryAfter, time.Millisecond)):
					}
				}
			}
		})
	}
	wg.Wait()
	res.Duration = time.Since(start)
	if err := ctx.Err(); err != nil {
		return res, fmt.Errorf("flood intake: stopped after %d of %d: %w", res.Submitted, spec.Count, err)
	}
	return res, nil
}

// floodOne makes the flood's i-th submission.
func (e *Engine) floodOne(ctx context.Context, spec FloodSpec, i int) error {
	sub := intent.Submission{
		Type: spec.Type, Actor: fmt.Sprintf("flood.agent_%d", i%spec.Actors+1), Priority: spec.Priority,
		Payload: []byte(fmt.Sprintf(`{"flood":%d}`, i)),
	}
	// Invalid ones are spread evenly: the i-th is invalid when the running
	// count of invalid ones steps up at i.
	if math.Floor(float64(i+1)*spec.InvalidShare) > math.Floor(float64(i)*spec.InvalidShare) {
		sub.Priority = 42
		if spec.InvalidActors > 0 {
			sub.Actor = fmt.Sprintf("flood.broken_%d", i%spec.InvalidActors+1)
		}
	}
	_, err := e.Submit(ctx, sub)
	return err
}

// count adds one submission's outcome; a retried refusal counts as a
// refusal, not as a submission.
func (r *FloodResult) count(err error, retried bool) {
	if retried {
		r.RateLimited++
		r.Retried++
		return
	}
	r.Submitted++
	var verr *ValidationError
	switch {
	case err == nil:
		r.Accepted++
		return
	case errors.As(err, &verr):
		r.Invalid++
		return
	case errors.Is(err, ErrRateLimited):
		r.RateLimited++
	case errors.Is(err, ErrQueueFull):
		r.QueueFull++
	default:
		r.OtherErrors++
	}
	if r.FirstError == "" {
		r.FirstError = err.Error()
	}
}
