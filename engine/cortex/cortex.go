package cortex

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"sync/atomic"
	"time"

	"grace/engine"
	"grace/engine/clock"
)

// ErrRunning is returned by Run when the cortex is already running.
var ErrRunning = errors.New("cortex is already running")

const (
	// maxGapFactor caps one gap at this many mean gaps, so that an unlucky
	// draw does not leave the demo silent.
	maxGapFactor = 10
	// maxLag is how far the schedule may fall behind (a slow Submit) before
	// it is reset to now instead of catching up in a burst.
	maxLag = time.Second
	// errorLogEvery spaces warnings about failing submissions.
	errorLogEvery = 10 * time.Second
)

// Options are a Cortex's outside dependencies. Zero fields get defaults.
type Options struct {
	// Clock times the submissions; default clock.Real.
	Clock clock.Clock
	// Rand draws gaps, types and contents; default a PCG seeded at random.
	// Only Run's goroutine uses it.
	Rand *rand.Rand
	// Logger receives warnings about failed submissions; default discard.
	Logger *slog.Logger
}

// Stats counts what a Cortex has done since New.
type Stats struct {
	// Submitted counts Submit calls that returned (cancelled ones aside).
	Submitted uint64 `json:"submitted"`
	// Accepted counts submissions the engine accepted, Duplicates included.
	Accepted uint64 `json:"accepted"`
	// Duplicates counts accepted submissions answered with an existing
	// intent (deliberate retries with the same idempotency key).
	Duplicates uint64 `json:"duplicates"`
	// Invalid counts submitted submissions spoiled on purpose; with an
	// engine that validates, Rejected equals Invalid.
	Invalid uint64 `json:"invalid"`
	// Rejected counts submissions refused as invalid (*engine.ValidationError).
	Rejected uint64 `json:"rejected"`
	// Errors counts other failures (queue full, engine stopped, store errors).
	Errors uint64 `json:"errors"`
}

// Cortex is the demo load generator. Create it with New and call Run once
// at a time; Stats may be called from any goroutine.
type Cortex struct {
	cfg   engine.CortexConfig
	api   engine.OperatorAPI
	clock clock.Clock
	rand  *rand.Rand
	log   *slog.Logger

	running atomic.Bool
	gen     *generator // created by the first Run, used by Run only

	submitted, accepted, duplicates, invalid, rejected, errs atomic.Uint64

	lastErrLog    time.Time // Run's goroutine only
	suppressedErr int
}

// New returns a cortex that submits to api as cfg says. It does not check
// cfg: Run does, so that a broken setting surfaces where the cortex is
// started. cfg.Enabled is not consulted; the caller decides whether to Run.
func New(cfg engine.CortexConfig, api engine.OperatorAPI, opts Options) *Cortex {
	if opts.Clock == nil {
		opts.Clock = clock.Real{}
	}
	if opts.Rand == nil {
		opts.Rand = rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return &Cortex{cfg: cfg, api: api, clock: opts.Clock, rand: opts.Rand, log: opts.Logger}
}

// Run submits intents at cfg.Rate per second, with exponentially
// distributed gaps measured on the clock, until ctx is cancelled; then it
// returns nil. A submission that fails is logged and counted, never fatal.
// Run returns an error at once, without submitting anything, when the
// config is unusable (cortex.rate not positive, cortex.mix without a
// positive weight or with a negative one), when api is nil, or when another
// Run of the same Cortex is in progress (ErrRunning). When Submit is slower
// than the rate, the schedule slips rather than catching up in a burst.
func (c *Cortex) Run(ctx context.Context) error {
	if c.api == nil {
		return errors.New("run cortex: no operator API to submit to")
	}
	rate := c.cfg.Rate
	if math.IsNaN(rate) || math.IsInf(rate, 0) || rate <= 0 {
		return fmt.Errorf("run cortex: cortex.rate (%v) must be a positive number of intents per second", rate)
	}
	if !c.running.CompareAndSwap(false, true) {
		return ErrRunning
	}
	defer c.running.Store(false)
	if c.gen == nil {
		m, err := newMix(c.cfg.Mix)
		if err != nil {
			return fmt.Errorf("run cortex: %w", err)
		}
		c.gen = newGenerator(c.rand, m)
	}

	mean := float64(time.Second) / rate
	next := c.clock.Now()
	for {
		gap := time.Duration(math.Min(c.rand.ExpFloat64(), maxGapFactor) * mean)
		next = next.Add(gap)
		now := c.clock.Now()
		if now.Sub(next) > maxLag {
			next = now
		}
		if wait := next.Sub(now); wait > 0 {
			select {
			case <-ctx.Done():
				return nil
			case <-c.clock.After(wait):
			}
		} else if ctx.Err() != nil {
			return nil
		}
		c.submitOne(ctx)
	}
}

// submitOne generates one submission, submits it and counts the outcome.
func (c *Cortex) submitOne(ctx context.Context) {
	sub, kind := c.gen.next()
	res, err := c.api.Submit(ctx, sub)
	if err != nil && ctx.Err() != nil {
		return // shutting down: not the engine's failure
	}
	c.submitted.Add(1)
	if kind == drawInvalid {
		c.invalid.Add(1)
	}
	var verr *engine.ValidationError
	switch {
	case err == nil:
		c.accepted.Add(1)
		if res.Existing {
			c.duplicates.Add(1)
		}
		if kind == drawValid {
			c.gen.accepted(sub)
		}
	case errors.As(err, &verr):
		c.rejected.Add(1)
		level := slog.LevelDebug
		if kind != drawInvalid {
			level = slog.LevelWarn // the cortex meant it to be valid
		}
		c.log.Log(ctx, level, "cortex submission rejected", "type", sub.Type, "actor", sub.Actor, "err", err)
	default:
		c.errs.Add(1)
		c.logError(ctx, sub.Type, err)
	}
}

// logError warns about a failed submission, at most once per errorLogEvery
// on the clock, saying how many were not logged in between.
func (c *Cortex) logError(ctx context.Context, typ string, err error) {
	now := c.clock.Now()
	if !c.lastErrLog.IsZero() && now.Sub(c.lastErrLog) < errorLogEvery {
		c.suppressedErr++
		return
	}
	c.log.WarnContext(ctx, "cortex submission failed", "type", typ, "err", err, "not_logged_since_last", c.suppressedErr)
	c.lastErrLog, c.suppressedErr = now, 0
}

// Stats returns the counters so far. It is safe to call while Run runs;
// the counters are read one by one, so a snapshot taken mid-submission may
// be off by one between fields.
func (c *Cortex) Stats() Stats {
	return Stats{
		Submitted:  c.submitted.Load(),
		Accepted:   c.accepted.Load(),
		Duplicates: c.duplicates.Load(),
		Invalid:    c.invalid.Load(),
		Rejected:   c.rejected.Load(),
		Errors:     c.errs.Load(),
	}
}
