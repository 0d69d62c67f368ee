package engine

import (
	"context"
	"fmt"
	"slices"
	"time"

	"grace/engine/clock"
	"grace/engine/htm"
)

// The kinds of Layer 2 trouble the hub recognises; an unhealthy reported
// component is the kind "component:<name>".
const (
	troubleBacklog  = "queue_backlog"
	troubleStalled  = "dispatch_stalled"
	troublePaused   = "scheduler_paused"
	troubleLost     = "workers_lost"
	troubleCompPref = "component:"
)

// healthSample is what the hub sees at one moment.
type healthSample struct {
	at           time.Time
	depth        htm.Depth
	dispatchRate float64
	paused       bool
	alive, idle  int
	target       int
	unhealthy    []HealthFact
	faults       []Layer1Fault // within hub.correlation_window
}

// trouble is one kind of Layer 2 trouble the hub has seen begin.
type trouble struct {
	since  time.Time
	detail string
	fault  *Layer1Fault // the Layer 1 fault it was correlated with
}

// hubMind is the hub loop's memory, confined to hubLoop.
type hubMind struct {
	active    map[string]*trouble
	warnSince time.Time // the queue has been at its warn depth since
	calmSince time.Time // the queue has been below its warn depth since
	lastScale time.Time
}

// hubLoop is the unified logic hub's health loop. On each tick of t
// (every hub.interval), and whenever a fact is reported, it samples the
// engine's live figures and the reported facts, narrates Layer 2 trouble
// as it begins (correlated with a Layer 1 fault when one was reported
// within hub.correlation_window) and as it clears, and on the tick
// considers scaling the worker pool. It returns, stopping t, when ctx ends.
func (e *Engine) hubLoop(ctx context.Context, t clock.Ticker) {
	defer t.Stop()
	m := hubMind{active: make(map[string]*trouble)}
	for {
		tick := false
		select {
		case <-ctx.Done():
			return
		case <-t.C():
			tick = true
		case <-e.facts.kick:
		}
		s := e.sampleHealth()
		e.assessTroubles(&m, s)
		if tick {
			e.considerScaling(&m, s)
		}
	}
}

// sampleHealth reads the live figures the hub reasons on.
func (e *Engine) sampleHealth() healthSample {
	now := e.clock.Now()
	s := healthSample{at: now, depth: e.queue.Depth(), paused: e.pause.paused(), target: e.pool.size()}
	s.alive, s.idle = e.pool.counts()
	var snap Snapshot
	e.stats.fill(now, &snap)
	s.dispatchRate = snap.DispatchRate
	s.unhealthy, s.faults = e.facts.read(now.Add(-e.cfg.Hub.CorrelationWindow))
	return s
}

// troubles lists the kinds of trouble in s, each with its description.
func (e *Engine) troubles(s healthSample) map[string]string {
	out := map[string]string{}
	d := s.depth
	if d.Level != htm.LevelOK {
		out[troubleBacklog] = d.Describe()
	}
	if min := e.cfg.Watchdog.Scheduler.MinDispatchRate; d.Ready > 0 && !s.paused && s.dispatchRate < min {
		out[troubleStalled] = fmt.Sprintf("Dispatch rate %.2f/s below the minimum %g/s (watchdog.scheduler.min_dispatch_rate) while %d intents are ready", s.dispatchRate, min, d.Ready)
	}
	if s.paused && d.Len > 0 {
		out[troublePaused] = fmt.Sprintf("The scheduler is paused while %d intents wait", d.Len)
	}
	if s.alive < s.target {
		out[troubleLost] = fmt.Sprintf("%d of the pool's %d workers are alive", s.alive, s.target)
	}
	for _, f := range s.unhealthy {
		out[troubleCompPref+f.Component] = fmt.Sprintf("%s reported unhealthy: %s", f.Component, orDefault(f.Detail, "no detail"))
	}
	return out
}

// assessTroubles compares the trouble in s with what the hub saw before:
// each kind that begins is narrated, correlated with the newest Layer 1
// fault within the window if there is one; a kind already active that
// finds a Layer 1 fault for the first time is correlated then; each kind
// that ends is narrated as cleared.
func (e *Engine) assessTroubles(m *hubMind, s healthSample) {
	now := s.at
	seen := e.troubles(s)
	var fault *Layer1Fault
	if n := len(s.faults); n > 0 {
		fault = &s.faults[n-1]
	}
	for kind, detail := range seen {
		t, ok := m.active[kind]
		switch {
		case !ok:
			t = &trouble{since: now, detail: detail, fault: fault}
			m.active[kind] = t
			e.note(troubleRecord(now, kind, detail, fault, e.cfg.Hub.CorrelationWindow))
		case t.fault == nil && fault != nil:
			t.fault, t.detail = fault, detail
			e.note(troubleRecord(now, kind, detail, fault, e.cfg.Hub.CorrelationWindow))
		}
	}
	for kind, t := range m.active {
		if _, ok := seen[kind]; !ok {
			delete(m.active, kind)
			e.note(troubleClearedRecord(now, kind, t))
		}
	}
	kinds := make([]string, 0, len(m.active))
	for k := range m.active {
		kinds = append(kinds, k)
	}
	slices.Sort(kinds)
	e.facts.setTroubles(kinds)
}
