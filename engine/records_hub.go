package engine

// The records of the unified logic hub's health loop: Layer 2 trouble and
// its correlation with Layer 1 faults, and scaling decisions.

import (
	"fmt"
	"strings"
	"time"

	"grace/engine/clarity"
)

// whereLayer2 is the Where of the hub's records about Layer 2 as a whole.
const whereLayer2 = "layer2_orchestration"

// The record names (What) of the hub's health loop.
const (
	WhatTroubleCorrelated = "layer2_trouble_correlated"
	WhatTroubleObserved   = "layer2_trouble_observed"
	WhatTroubleCleared    = "layer2_trouble_cleared"
	WhatWorkersScaled     = "workers_scaled"
)

// troubleWords says what a kind of trouble means, for "X because kernel Y
// stopped".
func troubleWords(kind string) string {
	switch kind {
	case troubleBacklog:
		return "the queue backed up"
	case troubleStalled:
		return "the dispatch rate fell"
	case troublePaused:
		return "the scheduler is paused with work waiting"
	case troubleLost:
		return "the pool lost workers"
	}
	return strings.TrimPrefix(kind, troubleCompPref) + " turned unhealthy"
}

func troubleRecord(now time.Time, kind, detail string, f *Layer1Fault, window time.Duration) clarity.Record {
	ctx := map[string]any{"trouble": kind, "detail": detail}
	if f == nil {
		r := rec(now, actorHub, WhatTroubleObserved, whereLayer2, "fault_correlation", "no_layer1_cause", "",
			[]string{detail, fmt.Sprintf("No Layer 1 fault was reported within hub.correlation_window (%v): the cause lies in Layer 2", window)}, ctx)
		r.Confidence, r.Risk = 0.6, 0.4
		return r
	}
	order := fmt.Sprintf("%s before", roundDur(now.Sub(f.At)))
	if f.At.After(now) {
		order = "just now"
	}
	ctx["kernel"], ctx["kernel_cause"], ctx["fault_at"] = f.Kernel, f.Cause, f.At.UTC().Format(time.RFC3339Nano)
	r := rec(now, actorHub, WhatTroubleCorrelated, whereLayer2, "fault_correlation", "layer1_cause", "",
		[]string{
			detail,
			fmt.Sprintf("Layer 1 kernel %s reported a fault %s: %s", f.Kernel, order, orDefault(f.Cause, "no cause given")),
			fmt.Sprintf("Correlated: %s because kernel %s stopped (within hub.correlation_window %v)", troubleWords(kind), f.Kernel, window),
		}, ctx)
	r.Confidence, r.Risk = 0.7, 0.6
	return r
}

func troubleClearedRecord(now time.Time, kind string, t *trouble) clarity.Record {
	why := []string{fmt.Sprintf("Cleared after %s: %s", roundDur(now.Sub(t.since)), t.detail)}
	ctx := map[string]any{"trouble": kind, "lasted_s": now.Sub(t.since).Seconds()}
	if t.fault != nil {
		why = append(why, "It had been correlated with a fault of kernel "+t.fault.Kernel)
		ctx["kernel"] = t.fault.Kernel
	}
	r := rec(now, actorHub, WhatTroubleCleared, whereLayer2, "fault_correlation", "cleared", "", why, ctx)
	r.Confidence, r.Risk = 0.9, 0.1
	return r
}

func scaledRecord(now time.Time, from, to, least, most int, s healthSample, held time.Duration, sc ScalingConfig) clarity.Record {
	result, why := "scaled_up", []string{
		fmt.Sprintf("%s for %s (hub.scaling.sustain %v)", s.depth.Describe(), roundDur(held), sc.Sustain),
		fmt.Sprintf("Pool target %d → %d workers (bounds %d..%d, step %d); %d alive, %d idle", from, to, least, most, sc.Step, s.alive, s.idle),
		"More workers drain the backlog before it reaches the critical depth and load shedding",
	}
	if to < from {
		result = "scaled_down"
		why[2] = "The backlog is gone: idle workers beyond the configured size are retired, none mid-task"
	}
	r := rec(now, actorHub, WhatWorkersScaled, wherePool, "queue_pressure_scaling", result, "", why, map[string]any{
		"from": from, "to": to, "min": least, "max": most, "queue_depth": s.depth.Len, "queue_warn": s.depth.Warn,
		"sustained_s": held.Seconds(), "alive": s.alive, "idle": s.idle,
	})
	r.Confidence, r.Risk = 0.8, 0.2
	return r
}
