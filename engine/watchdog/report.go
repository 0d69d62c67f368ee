package watchdog

import "time"

// Report is the watchdog's latest verdict on Layer 2. It is replaced
// whole after every check and never changed once published, so readers
// may keep it; they must not modify its slices and maps.
type Report struct {
	// CheckedAt is the time of the latest check (zero before the first;
	// boot readiness probes fill Components but are not checks).
	CheckedAt time.Time `json:"checked_at,omitzero"`
	// Interval is watchdog.interval.
	Interval time.Duration `json:"interval"`
	// Checks counts the checks made since start.
	Checks uint64 `json:"checks"`
	// Status is the worst component status.
	Status Status `json:"status"`
	// Ready holds when every component was ready at the latest check or
	// probe.
	Ready bool `json:"ready"`
	// Readiness is how boot went.
	Readiness Readiness `json:"readiness"`
	// Components are in the order the watchdog watches them.
	Components []ComponentReport `json:"components"`
	// SLOs are the objectives watched with burn-rate alerts.
	SLOs []SLOStatus `json:"slos"`
	// Alerts are those firing, most severe first, then oldest first.
	Alerts []Alert `json:"alerts"`
	// SLOBreaches totals the components' breaches.
	SLOBreaches uint64 `json:"slo_breaches"`
}

// ComponentReport is one component's verdict.
type ComponentReport struct {
	Name           string `json:"name"`
	Status         Status `json:"status"`
	Reason         string `json:"reason"`
	Ready          bool   `json:"ready"`
	NotReadyReason string `json:"not_ready_reason,omitempty"`
	// SLOBreaches counts the checks since start that found the component
	// outside its service levels (status warn or critical).
	SLOBreaches uint64             `json:"slo_breaches"`
	Findings    []Finding          `json:"findings"`
	Metrics     map[string]float64 `json:"metrics,omitempty"`
}

// The boot readiness states.
const (
	ReadinessWaiting  = "waiting"   // the components are given until the deadline
	ReadinessReady    = "ready"     // every component became ready in time
	ReadinessTimedOut = "timed_out" // the deadline passed with some not ready
)

// Readiness is how boot went: every component is probed until all are
// ready or watchdog.readiness_timeout has passed.
type Readiness struct {
	State    string    `json:"state"`
	Started  time.Time `json:"started,omitzero"`
	Deadline time.Time `json:"deadline,omitzero"`
	// At is when the state left "waiting".
	At time.Time `json:"at,omitzero"`
	// NotReady names the components not ready at the latest probe while
	// waiting, or at the deadline.
	NotReady []NotReady `json:"not_ready,omitempty"`
}

// NotReady names a component that is not ready, and why.
type NotReady struct {
	Component string `json:"component"`
	Reason    string `json:"reason"`
}

// Component returns the named component's verdict.
func (r Report) Component(name string) (ComponentReport, bool) {
	for _, c := range r.Components {
		if c.Name == name {
			return c, true
		}
	}
	return ComponentReport{}, false
}
