package watchdog

import (
	"encoding/json"
	"fmt"
	"time"
)

// Telemetry is one snapshot of Layer 2 in the seed's shape: the layer, and
// per component whether it is ready and healthy, its SLO breaches and the
// figures its check read (queue_depth, worker_count, subscriptions,
// event_queue_depth, …). The watchdog publishes one every interval.
type Telemetry struct {
	Layer string    `json:"layer"`
	At    time.Time `json:"at"`
	// Ready and Healthy hold when every component is ready, and ok.
	Ready   bool   `json:"ready"`
	Healthy bool   `json:"healthy"`
	Status  Status `json:"status"`
	// Components is keyed by component name.
	Components map[string]ComponentTelemetry `json:"components"`
	// SLOs gives each objective's status and fastest burn.
	SLOs map[string]SLOTelemetry `json:"slos,omitempty"`
	// AlertsFiring counts the alerts firing after this check.
	AlertsFiring int `json:"alerts_firing"`
}

// ComponentTelemetry is one component in a telemetry snapshot. In JSON its
// metrics sit beside the fixed fields, as in the seed:
// {"ready": true, "healthy": true, "queue_depth": 127, "slo_breaches": 0}.
type ComponentTelemetry struct {
	Ready       bool
	Healthy     bool
	Status      Status
	Reason      string
	SLOBreaches uint64
	Metrics     map[string]float64
}

// The fixed keys of a component's JSON object; a metric of the same name
// is dropped.
var fixedKeys = map[string]bool{"ready": true, "healthy": true, "status": true, "reason": true, "slo_breaches": true}

// MarshalJSON writes the component as one flat object.
func (c ComponentTelemetry) MarshalJSON() ([]byte, error) {
	m := make(map[string]any, len(c.Metrics)+len(fixedKeys))
	for k, v := range c.Metrics {
		if !fixedKeys[k] {
			m[k] = v
		}
	}
	m["ready"], m["healthy"], m["status"], m["reason"], m["slo_breaches"] = c.Ready, c.Healthy, c.Status, c.Reason, c.SLOBreaches
	return json.Marshal(m)
}

// UnmarshalJSON reads the flat object MarshalJSON writes: the fixed keys
// into their fields, every other number into Metrics.
func (c *ComponentTelemetry) UnmarshalJSON(b []byte) error {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	*c = ComponentTelemetry{Metrics: make(map[string]float64, len(raw))}
	for k, v := range raw {
		var err error
		switch k {
		case "ready":
			err = json.Unmarshal(v, &c.Ready)
		case "healthy":
			err = json.Unmarshal(v, &c.Healthy)
		case "status":
			err = json.Unmarshal(v, &c.Status)
		case "reason":
			err = json.Unmarshal(v, &c.Reason)
		case "slo_breaches":
			err = json.Unmarshal(v, &c.SLOBreaches)
		default:
			var f float64
			err = json.Unmarshal(v, &f)
			c.Metrics[k] = f
		}
		if err != nil {
			return fmt.Errorf("telemetry component field %q: %w", k, err)
		}
	}
	return nil
}

// SLOTelemetry is one objective in a telemetry snapshot.
type SLOTelemetry struct {
	Status    Status  `json:"status"`
	Objective float64 `json:"objective"`
	// BurnRate is the fastest burn among the long windows, over Window.
	BurnRate float64       `json:"burn_rate"`
	Window   time.Duration `json:"window"`
	Good     uint64        `json:"good"`
	Bad      uint64        `json:"bad"`
}

// Issues lists, for a snapshot that shows something wrong, one line per
// component that is not ready or not ok ("scheduler (warn): Dispatch rate
// 0.2/s below …"); nil when all is well.
func (t Telemetry) Issues() []string {
	var out []string
	for _, name := range sortedNames(t.Components) {
		c := t.Components[name]
		if c.Status != OK || !c.Ready {
			out = append(out, fmt.Sprintf("%s (%s): %s", name, c.Status, c.Reason))
		}
	}
	for _, name := range sortedNames(t.SLOs) {
		if s := t.SLOs[name]; s.Status != OK {
			out = append(out, fmt.Sprintf("SLO %s (%s): burning %.1f× over %s", name, s.Status, s.BurnRate, span(s.Window)))
		}
	}
	return out
}
