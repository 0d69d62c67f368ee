package policy

import (
	"fmt"
	"time"

	"grace/engine/clarity"
	"grace/engine/mesh"
)

// actorPolicy is the Who of the policy engine's records.
const actorPolicy = "event_policy_engine"

// The record names (What) the policy engine writes.
const (
	WhatAlertRaised = "policy_alert_raised"
	WhatCascadeCut  = "policy_cascade_cut"
)

var severityRisk = map[string]float64{"info": 0.1, "warning": 0.4, "critical": 0.8}

func alertRecord(now time.Time, r *Rule, ev mesh.Event, msg string) clarity.Record {
	why := []string{
		msg,
		fmt.Sprintf("Rule %s (%s) matched %s: event #%d from %s", r.Name, r.Source, r.describeMatch(), ev.ID, ev.Source),
	}
	if ev.Depth() > 0 {
		why = append(why, fmt.Sprintf("Causation depth %d: %s", ev.Depth(), mesh.FormatChain(ev.Chain)))
	}
	return clarity.Record{
		Who: actorPolicy, What: WhatAlertRaised, When: now, Where: "rule:" + r.Name, Why: why, How: "policy_rule_alert",
		Result: r.Severity,
		Context: map[string]any{"rule": r.Name, "severity": r.Severity, "message": msg, "topic": ev.Topic, "event": ev.ID,
			"depth": ev.Depth(), "fields": fieldsAny(ev.Fields)},
		Confidence: 1, Risk: severityRisk[r.Severity], Transparency: clarity.TransparencyComplete,
	}
}

func cutRecord(now time.Time, r *Rule, ev mesh.Event, out, reason string, maxDepth int) clarity.Record {
	var first string
	if reason == cutDepth {
		first = fmt.Sprintf("Rule %s would carry the cascade to depth %d, past policy.max_depth (%d)", r.Name, ev.Depth()+1, maxDepth)
	} else {
		first = fmt.Sprintf("Rule %s already produced %s in this cascade: acting again would loop", r.Name, out)
	}
	chain := make([]any, len(ev.Chain))
	for i, l := range ev.Chain {
		chain[i] = l.String()
	}
	return clarity.Record{
		Who: actorPolicy, What: WhatCascadeCut, When: now, Where: "rule:" + r.Name,
		Why: []string{
			first,
			"Chain: " + mesh.FormatChain(ev.Chain) + " ⇒ " + r.Name + "→" + out + " (cut)",
			fmt.Sprintf("The %s action of %s (%s) was not carried out; the cascade ends here", r.Action, r.Name, r.Source),
		},
		How: "policy_cascade_limit", Result: "cut",
		Context: map[string]any{"rule": r.Name, "reason": reason, "depth": ev.Depth(), "max_depth": maxDepth,
			"chain": chain, "topic": ev.Topic, "event": ev.ID, "would_produce": out},
		Confidence: 1, Risk: 0.5, Transparency: clarity.TransparencyComplete,
	}
}

func fieldsAny(f map[string]string) map[string]any {
	out := make(map[string]any, len(f))
	for k, v := range f {
		out[k] = v
	}
	return out
}
