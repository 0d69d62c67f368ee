package cortex

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"

	"grace/engine/intent"
)

// Rates of the deliberate oddities among submissions.
const (
	// invalidRate is the share of submissions spoiled on purpose (a bad
	// priority or an empty actor) so that rejections show on the record.
	invalidRate = 0.02
	// retryRate is the share of submissions that resend an accepted one
	// with its idempotency key, as an agent does after a lost answer.
	retryRate = 0.01
)

// drawKind says what a generated submission is meant to be.
type drawKind int

const (
	drawValid   drawKind = iota // a fresh, valid submission
	drawInvalid                 // spoiled on purpose
	drawRetry                   // a resend of an accepted submission
)

// generator makes the cortex's submissions. It is used by one goroutine.
type generator struct {
	r    *rand.Rand
	mix  *mix
	run  string // distinguishes this run's idempotency keys from earlier runs'
	seq  uint64
	last *intent.Submission // the latest accepted fresh submission
}

func newGenerator(r *rand.Rand, m *mix) *generator {
	return &generator{r: r, mix: m, run: fmt.Sprintf("%08x", r.Uint32())}
}

// next returns the next submission and what it is meant to be.
func (g *generator) next() (intent.Submission, drawKind) {
	if g.r.Float64() < retryRate && g.last != nil {
		return *g.last, drawRetry
	}
	typ := g.mix.draw(g.r)
	rec, ok := recipes[typ]
	if !ok {
		rec = genericRecipe
	}
	g.seq++
	payload, err := json.Marshal(rec.payload(g.r))
	if err != nil {
		payload = []byte(`{}`)
	}
	sub := intent.Submission{
		Type:           typ,
		Actor:          pick(g.r, rec.agents...),
		Payload:        payload,
		Context:        g.context(rec),
		Priority:       g.priority(rec),
		IdempotencyKey: fmt.Sprintf("cortex-%s-%06d", g.run, g.seq),
	}
	if g.r.Float64() < invalidRate {
		g.spoil(&sub)
		return sub, drawInvalid
	}
	return sub, drawValid
}

// accepted remembers sub as the one a later retry resends.
func (g *generator) accepted(sub intent.Submission) { g.last = &sub }

// priority is mostly 3 to 6, now and then 2 or 7, and 8 or 9 about one time
// in twenty-five; recipes with their own bounds (emergencies, Tier 0
// requests) draw within them.
func (g *generator) priority(rec recipe) int {
	if rec.minPri > 0 {
		return rec.minPri + g.r.IntN(rec.maxPri-rec.minPri+1)
	}
	switch u := g.r.Float64(); {
	case u < 0.04:
		return 2
	case u < 0.08:
		return 7
	case u < 0.12:
		return 8 + g.r.IntN(2)
	default:
		return 3 + g.r.IntN(4)
	}
}

// context claims the charter priorities the work serves, each with the
// recipe's probability, and sometimes cites a ticket. Nil when empty.
func (g *generator) context(rec recipe) map[string]any {
	ctx := map[string]any{}
	for _, c := range rec.claims {
		if g.r.Float64() < c.p {
			ctx[c.priority+"_impact"] = true
		}
	}
	if g.r.Float64() < 0.3 {
		ctx["ticket"] = fmt.Sprintf("GR-%04d", 100+g.r.IntN(9900))
	}
	if len(ctx) == 0 {
		return nil
	}
	return ctx
}

// spoil makes sub invalid the way a buggy agent would: a priority out of
// 0..9, or no actor.
func (g *generator) spoil(sub *intent.Submission) {
	if g.r.IntN(2) == 0 {
		sub.Priority = pick(g.r, -1, 10, 12, 42)
		return
	}
	sub.Actor = pick(g.r, "", "   ")
}
