package engine

import (
	"slices"
	"strings"
	"sync"
	"time"
)

// HealthFact is one component's health as some part of Grace observed it
// (the Layer 2 watchdog, the trigger mesh, the event policy engine). The
// unified logic hub keeps the newest fact per component; an unhealthy one
// counts as Layer 2 trouble until a healthy fact for the same component
// replaces it.
type HealthFact struct {
	// Component names what was observed, e.g. "trigger_mesh".
	Component string `json:"component"`
	Healthy   bool   `json:"healthy"`
	// Detail says what was seen, in words, e.g. "3 subscriptions, minimum 5".
	Detail string `json:"detail,omitempty"`
	// At is when it was observed; zero means when it was reported.
	At time.Time `json:"at"`
}

// Layer1Fault is a Layer 1 kernel fault as reported to the hub.
type Layer1Fault struct {
	Kernel string    `json:"kernel"`
	Cause  string    `json:"cause"`
	At     time.Time `json:"at"`
}

// HubReporter is how the rest of Grace feeds the unified logic hub: the
// watchdog and the Layer 2 components report health facts, and the Layer 1
// control plane reports kernel faults so that the hub can tell "dispatch
// rate fell because kernel X stopped" from trouble of Layer 2's own.
// *Engine implements it. Both methods are cheap, never block on I/O, never
// fail, and work on an engine that is not started (the facts wait for the
// hub's loop).
type HubReporter interface {
	// ReportHealth hands the hub one component's health.
	ReportHealth(f HealthFact)
	// ReportLayer1Fault tells the hub that kernel failed for cause (for
	// example "missed_heartbeats", "panic: nil map", "dependency failure:
	// bus"). The fault stays a candidate cause of Layer 2 trouble for
	// hub.correlation_window.
	ReportLayer1Fault(kernel, cause string)
}

var _ HubReporter = (*Engine)(nil)

// maxLayer1Faults bounds the Layer 1 faults the hub remembers.
const maxLayer1Faults = 256

// hubFacts is what has been reported to the hub, and the troubles its loop
// currently sees (for Snapshot). Reporters and the loop share it.
type hubFacts struct {
	mu       sync.Mutex
	health   map[string]HealthFact
	faults   []Layer1Fault // oldest first
	troubles []string
	kick     chan struct{}
}

func newHubFacts() *hubFacts {
	return &hubFacts{health: make(map[string]HealthFact), kick: make(chan struct{}, 1)}
}

// ReportHealth hands the hub one component's health fact. A fact without a
// component is ignored.
func (e *Engine) ReportHealth(f HealthFact) {
	f.Component = strings.TrimSpace(f.Component)
	if f.Component == "" {
		return
	}
	if f.At.IsZero() {
		f.At = e.clock.Now()
	}
	e.facts.mu.Lock()
	e.facts.health[f.Component] = f
	e.facts.mu.Unlock()
	e.facts.wake()
}

// ReportLayer1Fault tells the hub that a Layer 1 kernel failed, and why.
// The hub correlates it with Layer 2 trouble seen within
// hub.correlation_window of it (before or after) and narrates each
// correlation. An empty kernel name is ignored.
func (e *Engine) ReportLayer1Fault(kernel, cause string) {
	kernel = strings.TrimSpace(kernel)
	if kernel == "" {
		return
	}
	f := Layer1Fault{Kernel: kernel, Cause: strings.TrimSpace(cause), At: e.clock.Now()}
	e.facts.mu.Lock()
	e.facts.faults = append(e.facts.faults, f)
	if n := len(e.facts.faults); n > maxLayer1Faults {
		e.facts.faults = slices.Delete(e.facts.faults, 0, n-maxLayer1Faults)
	}
	e.facts.mu.Unlock()
	e.facts.wake()
}

func (h *hubFacts) wake() {
	select {
	case h.kick <- struct{}{}:
	default:
	}
}

// read returns the unhealthy components, sorted, and the faults reported
// at or after since.
func (h *hubFacts) read(since time.Time) (unhealthy []HealthFact, faults []Layer1Fault) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, f := range h.health {
		if !f.Healthy {
			unhealthy = append(unhealthy, f)
		}
	}
	slices.SortFunc(unhealthy, func(a, b HealthFact) int { return strings.Compare(a.Component, b.Component) })
	for _, f := range h.faults {
		if !f.At.Before(since) {
			faults = append(faults, f)
		}
	}
	return unhealthy, faults
}

// setTroubles publishes the kinds of trouble the hub sees now.
func (h *hubFacts) setTroubles(kinds []string) {
	h.mu.Lock()
	h.troubles = kinds
	h.mu.Unlock()
}

// currentTroubles returns the kinds of trouble the hub saw last.
func (h *hubFacts) currentTroubles() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.troubles)
}
