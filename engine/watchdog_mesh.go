package engine

import (
	"strconv"

	"grace/engine/mesh"
	"grace/engine/watchdog"
)

// The trigger mesh topics the watchdog publishes on, so that policy rules
// (and the unified logic hub's subscribers) can act on Layer 2 health.
const (
	// TopicTelemetry carries every telemetry snapshot: "status", "ready",
	// "healthy", "alerts_firing", and per component "<name>.status",
	// "<name>.ready" and "<name>.<metric>".
	TopicTelemetry = "layer2.telemetry"
	// TopicAlert carries every alert raised, escalated, de-escalated or
	// resolved: "change", "id", "key", "component", "condition",
	// "severity", "count", "summary".
	TopicAlert = "layer2.alert"
)

// declareWatchTopics declares the watchdog's topics on the mesh.
func (e *Engine) declareWatchTopics() error {
	if e.layers == nil {
		return nil
	}
	return e.layers.mesh.Declare(TopicTelemetry, TopicAlert)
}

// offerWatch offers an event on the mesh without waiting (the watchdog
// must not block); an event the mesh refuses is logged.
func (e *Engine) offerWatch(topic string, fields map[string]string) {
	if e.layers == nil {
		return
	}
	if _, err := e.layers.mesh.Offer(mesh.Event{Topic: topic, Source: watchdog.Actor, Fields: fields}); err != nil {
		e.log.Warn("watchdog: publish on the mesh", "topic", topic, "err", err)
	}
}

// telemetryFields flattens a snapshot into mesh event fields.
func telemetryFields(t watchdog.Telemetry) map[string]string {
	f := map[string]string{
		"status": t.Status.String(), "ready": strconv.FormatBool(t.Ready), "healthy": strconv.FormatBool(t.Healthy),
		"alerts_firing": strconv.Itoa(t.AlertsFiring),
	}
	for name, c := range t.Components {
		f[name+".status"] = c.Status.String()
		f[name+".ready"] = strconv.FormatBool(c.Ready)
		for k, v := range c.Metrics {
			f[name+"."+k] = strconv.FormatFloat(v, 'g', -1, 64)
		}
	}
	return f
}

// alertFields flattens an alert change into mesh event fields.
func alertFields(a watchdog.Alert, ch watchdog.Change) map[string]string {
	return map[string]string{
		"change": ch.String(), "id": a.ID, "key": a.Key, "component": a.Component, "condition": a.Condition,
		"severity": a.Severity.String(), "count": strconv.Itoa(a.Count), "summary": clip(a.Summary, 200),
	}
}
