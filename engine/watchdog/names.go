package watchdog

// The four components of the seed's Layer 2, by the names telemetry and
// alerts use.
const (
	NameHTM       = "htm_orchestrator"
	NameMesh      = "trigger_mesh"
	NamePolicy    = "event_policy_engine"
	NameScheduler = "scheduler"
)

// Layer is the telemetry snapshot's "layer".
const Layer = "layer2_orchestration"

// Actor is the Who of every record the watchdog writes.
const Actor = "layer2_watchdog"

// The record names (What) the watchdog writes.
const (
	WhatAlertRaised       = "alert_raised"
	WhatAlertEscalated    = "alert_escalated"
	WhatAlertDeescalated  = "alert_deescalated"
	WhatAlertResolved     = "alert_resolved"
	WhatTelemetryIssue    = "layer2_telemetry_issue"
	WhatReady             = "layer2_ready"
	WhatReadinessTimedOut = "layer2_readiness_timeout"
)
