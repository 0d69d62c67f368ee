package policy

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync/atomic"

	"grace/engine/clarity"
	"grace/engine/clock"
	"grace/engine/intent"
	"grace/engine/mesh"
)

// SubmitFunc submits an intent on a rule's behalf and returns its ID.
type SubmitFunc func(ctx context.Context, sub intent.Submission) (string, error)

// Options are the policy engine's collaborators. Zero fields get defaults.
type Options struct {
	// Clock times narration; clock.Real{} when nil.
	Clock clock.Clock
	// Record writes a 5W1H record; discarded when nil.
	Record func(clarity.Record)
	// Submit carries out submit actions; without it they fail (counted as
	// action errors).
	Submit SubmitFunc
	// Logger receives operational logs; discarded when nil.
	Logger *slog.Logger
	// NoCascadeLimit switches the policy_cascade_limit safeguard off.
	NoCascadeLimit bool
}

// Engine evaluates a RuleSet against the events of a mesh. Create it with
// New; Run narrates the repeats its limiter held back.
type Engine struct {
	rs      *RuleSet
	cfg     Config
	mesh    *mesh.Mesh
	clock   clock.Clock
	record  func(clarity.Record)
	submit  SubmitFunc
	log     *slog.Logger
	limit   bool
	narrate *limiter
	subs    []*mesh.Subscription

	evaluated    atomic.Uint64
	fired        atomic.Uint64
	emitted      atomic.Uint64
	submitted    atomic.Uint64
	alerts       atomic.Uint64
	actionErrors atomic.Uint64
	cutDepth     atomic.Uint64
	cutCycle     atomic.Uint64
	deepest      atomic.Int64
	fireRate     mesh.Meter
}

// New subscribes the rules to m, one subscription per distinct pattern
// (named "policy:<pattern>", with policy.buffer and policy.backpressure),
// and returns the engine. The rules are evaluated while the mesh runs.
func New(rs *RuleSet, cfg Config, m *mesh.Mesh, opts Options) (*Engine, error) {
	if opts.Clock == nil {
		opts.Clock = clock.Real{}
	}
	if opts.Record == nil {
		opts.Record = func(clarity.Record) {}
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if err := m.Declare(Topics...); err != nil {
		return nil, fmt.Errorf("policy engine: %w", err)
	}
	e := &Engine{rs: rs, cfg: cfg, mesh: m, clock: opts.Clock, record: opts.Record, submit: opts.Submit,
		log: opts.Logger, limit: !opts.NoCascadeLimit, narrate: newLimiter(cfg.AlertInterval)}
	for _, p := range rs.Patterns() {
		group := rs.groups[p]
		s, err := m.Subscribe(mesh.Spec{Name: "policy:" + p, Pattern: p, Buffer: cfg.Buffer,
			Backpressure: mesh.Backpressure(cfg.Backpressure)}, func(ctx context.Context, ev mesh.Event) {
			e.evaluate(ctx, group, ev)
		})
		if err != nil {
			for _, done := range e.subs {
				done.Close()
			}
			return nil, fmt.Errorf("policy engine: %w", err)
		}
		e.subs = append(e.subs, s)
	}
	return e, nil
}

// Run writes the summaries of held-back records every policy.alert_interval
// until ctx is cancelled, then writes the rest and returns.
func (e *Engine) Run(ctx context.Context) {
	t := e.clock.NewTicker(e.cfg.AlertInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			for _, r := range e.narrate.due(e.clock.Now(), true) {
				e.record(r)
			}
			return
		case now := <-t.C():
			for _, r := range e.narrate.due(now, false) {
				e.record(r)
			}
		}
	}
}

// evaluate runs every rule of the group that ev matches.
func (e *Engine) evaluate(ctx context.Context, group []*Rule, ev mesh.Event) {
	e.evaluated.Add(1)
	for _, r := range group {
		if r.matches(ev) {
			e.fire(ctx, r, ev)
		}
	}
}

// fire carries out r's action for ev, unless the cascade limit cuts it.
func (e *Engine) fire(ctx context.Context, r *Rule, ev mesh.Event) {
	out := r.outTopic()
	if e.limit {
		switch {
		case ev.Depth()+1 > e.cfg.MaxDepth:
			e.cut(r, ev, out, cutDepth)
			return
		case inChain(ev.Chain, r.Name, out):
			e.cut(r, ev, out, cutCycle)
			return
		}
	}
	r.fired.Add(1)
	e.fired.Add(1)
	e.fireRate.Add(ev.At)
	chain := make([]mesh.Link, len(ev.Chain)+1)
	copy(chain, ev.Chain)
	chain[len(ev.Chain)] = mesh.Link{Rule: r.Name, From: ev.Topic, Topic: out, Event: ev.ID}
	for d := int64(len(chain)); ; {
		cur := e.deepest.Load()
		if d <= cur || e.deepest.CompareAndSwap(cur, d) {
			break
		}
	}
	var err error
	switch r.Action {
	case ActionEmit:
		err = e.emit(ctx, r, ev, chain)
	case ActionSubmit:
		err = e.submitIntent(ctx, r, ev, chain)
	case ActionAlert:
		err = e.alert(ctx, r, ev, chain)
	}
	if err != nil && ctx.Err() == nil {
		e.actionErrors.Add(1)
		// Logged at the 1st, 2nd, 4th, 8th … failure of a rule: a storm
		// of refusals (a rate limit, a full queue) cannot flood the log.
		if n := r.failed.Add(1); n&(n-1) == 0 {
			e.log.Warn("policy action failed", "rule", r.Name, "action", r.Action, "event", ev.ID, "failures", n, "err", err)
		}
	}
}

// inChain reports whether rule already produced topic in chain.
func inChain(chain []mesh.Link, rule, topic string) bool {
	for _, l := range chain {
		if l.Rule == rule && l.Topic == topic {
			return true
		}
	}
	return false
}

func (e *Engine) emit(ctx context.Context, r *Rule, ev mesh.Event, chain []mesh.Link) error {
	fields := make(map[string]string, len(r.fields))
	for _, f := range r.fields {
		fields[f.name] = f.tpl.render(ev)
	}
	if _, err := e.mesh.Publish(ctx, mesh.Event{Topic: r.Emit, Source: "policy." + r.Name, Fields: fields, Chain: chain}); err != nil {
		return err
	}
	e.emitted.Add(1)
	return nil
}

func (e *Engine) submitIntent(ctx context.Context, r *Rule, ev mesh.Event, chain []mesh.Link) error {
	if e.submit == nil {
		return fmt.Errorf("rule %s: no intent submitter", r.Name)
	}
	payload, err := json.Marshal(map[string]any{
		"rule": r.Name, "message": r.message.render(ev),
		"cause": map[string]any{"topic": ev.Topic, "event": ev.ID, "fields": ev.Fields},
	})
	if err != nil {
		return err
	}
	sub := intent.Submission{
		Type: r.Intent, Actor: "policy." + r.Name, Priority: r.Priority, Payload: payload,
		Context: map[string]any{ContextCausation: ChainContext(chain), ContextDepth: len(chain)},
	}
	if _, err := e.submit(ctx, sub); err != nil {
		return err
	}
	e.submitted.Add(1)
	return nil
}

func (e *Engine) alert(ctx context.Context, r *Rule, ev mesh.Event, chain []mesh.Link) error {
	msg := r.message.render(ev)
	e.alerts.Add(1)
	if rec, ok := e.narrate.admit("alert:"+r.Name, ev.At, func() clarity.Record { return alertRecord(ev.At, r, ev, msg) }); ok {
		e.record(rec)
	}
	_, err := e.mesh.Publish(ctx, mesh.Event{Topic: TopicAlert, Source: "policy." + r.Name, Chain: chain,
		Fields: map[string]string{"severity": r.Severity, "rule": r.Name, "message": msg, "topic": ev.Topic}})
	return err
}

// The reasons a cascade is cut.
const (
	cutDepth = "depth"
	cutCycle = "cycle"
)

// cut counts, announces and narrates a cascade stopped at r.
func (e *Engine) cut(r *Rule, ev mesh.Event, out, reason string) {
	r.cut.Add(1)
	if reason == cutDepth {
		e.cutDepth.Add(1)
	} else {
		e.cutCycle.Add(1)
	}
	if rec, ok := e.narrate.admit("cut:"+reason+":"+r.Name, ev.At, func() clarity.Record {
		return cutRecord(ev.At, r, ev, out, reason, e.cfg.MaxDepth)
	}); ok {
		e.record(rec)
	}
	// A fresh chain: the announcement is not part of the cascade it ends.
	_, _ = e.mesh.Offer(mesh.Event{Topic: TopicCascadeCut, Source: actorPolicy, Fields: map[string]string{
		"rule": r.Name, "reason": reason, "depth": fmt.Sprint(ev.Depth()), "chain": mesh.FormatChain(ev.Chain), "topic": ev.Topic,
	}})
}
