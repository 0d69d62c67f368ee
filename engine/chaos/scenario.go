package chaos

import (
	"math"
	"time"
)

// The scenario categories (DESIGN.md, Chaos).
const (
	CategoryDiRT   = "dirt"
	CategoryLayer2 = "layer2_orchestration"
	CategoryFIT    = "fit"
	CategoryJepsen = "jepsen"
)

// Categories lists the known categories.
var Categories = []string{CategoryDiRT, CategoryLayer2, CategoryFIT, CategoryJepsen}

// The invariants every run checks; a scenario lists them to say so.
const (
	InvariantNoLost         = "no_lost_intents"
	InvariantNoDuplicate    = "no_duplicate_execution"
	InvariantNoUnauthorized = "no_unapproved_tier0"
	InvariantAuditIntact    = "audit_chain_intact"
	// InvariantCancelledStay: an intent the run cancelled never runs
	// again and ends cancelled.
	InvariantCancelledStay = "cancelled_stay_cancelled"
)

// Invariants lists the known invariants.
var Invariants = []string{InvariantNoLost, InvariantNoDuplicate, InvariantNoUnauthorized, InvariantAuditIntact, InvariantCancelledStay}

// The steady-state checks a scenario may ask for, before and after.
const (
	// SteadyReady: the engine is ready (Snapshot.Ready).
	SteadyReady = "engine_ready"
	// SteadySchedulerRunning: the scheduler is not paused.
	SteadySchedulerRunning = "scheduler_running"
	// SteadyWorkersFull: the pool has at least workers.count workers; on
	// backend.kind nats, at least workers.count healthy remote workers
	// (the pool's slots there are the dispatcher's, never lost), none of
	// them one a fault killed.
	SteadyWorkersFull = "workers_full"
	// SteadyQueueDrained: no intent waits in the queue and no worker is
	// busy (after: within the scenario's deadline).
	SteadyQueueDrained = "queue_drained"
)

// SteadyChecks lists the known steady-state checks.
var SteadyChecks = []string{SteadyReady, SteadySchedulerRunning, SteadyWorkersFull, SteadyQueueDrained}

// Scenario is one chaos scenario as its YAML file writes it.
type Scenario struct {
	// ID names the scenario (L2_HTM_queue_flood_stress).
	ID string `yaml:"id" json:"id"`
	// Category is dirt, layer2_orchestration, fit or jepsen.
	Category string `yaml:"category" json:"category"`
	// Description says what the scenario proves.
	Description string `yaml:"description" json:"description"`
	// Parameters are the scenario's knobs by name, scaled by difficulty.
	Parameters map[string]Parameter `yaml:"parameters" json:"parameters"`
	// Faults are injected in order.
	Faults []Fault `yaml:"faults" json:"faults"`
	// Safeguards are the safeguards expected to fire.
	Safeguards Expectation `yaml:"safeguards" json:"safeguards"`
	// Invariants are the invariants the scenario stresses (every run
	// checks all of them).
	Invariants []string `yaml:"invariants" json:"invariants"`
	// SteadyState are checked before the faults and after the rollback.
	SteadyState []string `yaml:"steady_state" json:"steady_state"`
	// Deadline bounds the wait for the safeguards and for the steady
	// state after (default 10s).
	Deadline time.Duration `yaml:"deadline" json:"deadline"`
	// Source is the file the scenario came from (set by the loader).
	Source string `yaml:"-" json:"source"`
}

// Expectation is the safeguards a scenario expects to fire.
type Expectation struct {
	// Expected are the safeguards' config names (htm_rate_limit).
	Expected []string `yaml:"expected" json:"expected"`
	// Require is "all" (default: every expected safeguard must fire) or
	// "any" (one is enough).
	Require string `yaml:"require" json:"require"`
}

// Parameter is one knob: Base at difficulty 1, multiplied by Growth for
// every level above, capped at Max when Max is set.
type Parameter struct {
	Base   float64 `yaml:"base" json:"base"`
	Growth float64 `yaml:"growth" json:"growth"`
	Max    float64 `yaml:"max" json:"max"`
}

// At returns the parameter's value at a difficulty (levels below 1 count
// as 1).
func (p Parameter) At(difficulty int) float64 {
	g := p.Growth
	if g == 0 {
		g = 1
	}
	v := p.Base * math.Pow(g, float64(max(difficulty, 1)-1))
	if p.Max > 0 && v > p.Max {
		v = p.Max
	}
	return v
}

// Fault is one fault to inject: Kind names one of the fault kinds the
// runner knows (FaultKinds), which reads its parameters by name.
type Fault struct {
	Kind string `yaml:"kind" json:"kind"`
	// Reason is recorded with the injection.
	Reason string `yaml:"reason" json:"reason,omitempty"`
}

// value returns parameter name at difficulty d.
func (s *Scenario) value(name string, d int) float64 {
	return s.Parameters[name].At(d)
}

// intValue returns parameter name at difficulty d, rounded.
func (s *Scenario) intValue(name string, d int) int {
	return int(math.Round(s.value(name, d)))
}

// deadline is the scenario's deadline or the default.
func (s *Scenario) deadline() time.Duration {
	if s.Deadline > 0 {
		return s.Deadline
	}
	return 10 * time.Second
}

// UsedLevel is the level the scenario's parameters actually take at
// difficulty d: the lowest level at which every parameter has the value
// it has at d. Past it they have all stopped growing (each at its max), so
// asking for more runs the same scenario; with no parameter that grows it
// is 1.
func (s *Scenario) UsedLevel(d int) int {
	d = max(d, 1)
	for l := 1; l < d; l++ {
		same := true
		for _, p := range s.Parameters {
			if p.At(l) != p.At(d) {
				same = false
				break
			}
		}
		if same {
			return l
		}
	}
	return d
}
