package kernel

import (
	"fmt"
	"strings"
	"time"

	"grace/engine/clarity"
	"grace/engine/intent"
)

// The record names (What) the control plane writes.
const (
	WhatKernelFailed          = "kernel_failed"
	WhatCriticalHeartbeatMiss = "critical_kernel_heartbeat_missed"
	WhatHeartbeatMissed       = "kernel_heartbeat_missed"
	WhatHeartbeatResumed      = "kernel_heartbeat_resumed"
	WhatKernelRestarted       = "kernel_restarted"
	WhatCommandObeyed         = "kernel_command_obeyed"
	WhatACLViolation          = "bus_acl_violation"
	WhatSenderSuspended       = "bus_sender_suspended"
	WhatSenderReinstated      = "bus_sender_reinstated"
	WhatStepCompleted         = "playbook_step_completed"
	WhatStepFailed            = "playbook_step_failed"
	WhatKernelRecovered       = "kernel_recovered"
	WhatRecoveryEscalated     = "kernel_recovery_escalated"
	WhatRecoveryRefused       = "kernel_recovery_refused"
)

// The Who of the supervisor's and the bus's records.
const (
	actorSupervisor = "kernel_supervisor"
	actorBus        = "message_bus"
	actorPlaybook   = "emergency_recovery_playbook"
)

func rec(now time.Time, who, what, where, how, result string, why []string, ctx map[string]any) clarity.Record {
	return clarity.Record{Who: who, What: what, When: now, Where: where, Why: why, How: how, Result: result, Context: ctx,
		Confidence: 1, Transparency: clarity.TransparencyComplete}
}

func diagContext(d Diagnosis) map[string]any {
	return map[string]any{"cause": string(d.Cause), "summary": d.Summary, "evidence": d.Evidence, "confidence": d.Confidence, "related": d.Related}
}

func failedRecord(now time.Time, name string, critical bool, x Exit, d Diagnosis, restart, auto bool, backoff time.Duration) clarity.Record {
	why := []string{"Root cause: " + string(d.Cause) + " — " + d.Summary}
	why = append(why, d.Evidence...)
	switch {
	case critical && auto:
		why = append(why, "Critical kernel: the critical-kernel heartbeat trigger runs the recovery playbook once its heartbeats are missed")
	case critical:
		why = append(why, "Critical kernel, and kernel_auto_recovery is off: nothing will restart it")
	case restart:
		why = append(why, fmt.Sprintf("Its supervisor restarts it after %v once its dependencies run (kernel_auto_recovery)", backoff))
	default:
		why = append(why, "kernel_auto_recovery is off: it stays down")
	}
	r := rec(now, actorSupervisor, WhatKernelFailed, "kernel:"+name, "supervised_goroutine", "failed", why, map[string]any{
		"kernel": name, "critical": critical, "incarnation": x.Incarnation, "diagnosis": diagContext(d),
		"panic": x.Panic, "error": x.Err, "auto_recovery": auto,
	})
	r.Confidence, r.Risk = d.Confidence, 0.5
	if critical {
		r.Risk = 0.8
	}
	return r
}

func missedRecord(now time.Time, who, name string, critical bool, missed int, interval time.Duration, d Diagnosis, action string) clarity.Record {
	what := WhatHeartbeatMissed
	if critical {
		what = WhatCriticalHeartbeatMiss
	}
	why := []string{
		fmt.Sprintf("No heartbeat from %s for %d checks in a row (every %v; kernels.missed_after)", name, missed, interval),
		"Root cause: " + string(d.Cause) + " — " + d.Summary,
	}
	why = append(why, d.Evidence...)
	why = append(why, action)
	r := rec(now, who, what, "kernel:"+name, "heartbeat_check", "down", why, map[string]any{
		"kernel": name, "critical": critical, "missed_checks": missed, "diagnosis": diagContext(d), "action": action,
	})
	r.Confidence, r.Risk = d.Confidence, 0.5
	if critical {
		r.Risk = 0.9
	}
	return r
}

func resumedRecord(now time.Time, name string, inc int, in incident) clarity.Record {
	return rec(now, actorMonitor, WhatHeartbeatResumed, "kernel:"+name, "heartbeat_check", "running",
		[]string{
			fmt.Sprintf("%s heartbeats again (incarnation %d) without a restart", name, inc),
			fmt.Sprintf("It had been silent since %s; the diagnosis was: %s", stamp(in.opened), in.diagnosis.Summary),
		}, map[string]any{"kernel": name, "incarnation": inc, "recovery_intent": in.intentID})
}

func restartedRecord(now time.Time, name string, inc int, d *Diagnosis, backoff time.Duration) clarity.Record {
	why := []string{fmt.Sprintf("Restarted %s as incarnation %d, %v after it failed, its dependencies running", name, inc, backoff)}
	if d != nil {
		why = append(why, "It had failed: "+d.Summary)
	}
	r := rec(now, actorSupervisor, WhatKernelRestarted, "kernel:"+name, "supervisor_restart", "restarted", why,
		map[string]any{"kernel": name, "incarnation": inc})
	r.Risk = 0.2
	return r
}

func commandRecord(now time.Time, from, target, cmd string, inc int, acl bool) clarity.Record {
	why := []string{fmt.Sprintf("%s sent %q for %s on the bus (kernel.control); the control plane obeyed", from, cmd, target)}
	if acl {
		why = append(why, from+" is allowed to publish on kernel.control by its ACL")
	} else {
		why = append(why, "bus_acl is off: any kernel's command is obeyed")
	}
	r := rec(now, from, WhatCommandObeyed, "kernel:"+target, "kernel_control_command", cmd, why,
		map[string]any{"command": cmd, "target": target, "sender": from, "incarnation": inc, "acl": acl})
	r.Risk = 0.6
	return r
}

func violationRecord(now time.Time, from, topic string, allowed []string, limit int, window time.Duration) clarity.Record {
	r := rec(now, actorBus, WhatACLViolation, "kernel:"+from, "bus_acl", "refused", []string{
		fmt.Sprintf("%s tried to publish on %s; its ACL allows only %s", from, topic, strings.Join(allowed, ", ")),
		fmt.Sprintf("Refused and counted; further violations in this %v window are counted, not narrated; at %d the sender is suspended", window, limit),
	}, map[string]any{"sender": from, "topic": topic, "allowed": allowed})
	r.Risk = 0.5
	return r
}

func suspendedRecord(now time.Time, from, topic string, n, limit int, window, suspend time.Duration) clarity.Record {
	r := rec(now, actorBus, WhatSenderSuspended, "kernel:"+from, "bus_acl_rate_limit", "suspended", []string{
		fmt.Sprintf("%s made %d ACL violations within %v (limit %d, kernels.acl_violation_limit); the latest on %s", from, n, window, limit, topic),
		fmt.Sprintf("Suspended from the bus for %v: everything it sends is refused but its heartbeats", suspend),
	}, map[string]any{"sender": from, "violations": n, "limit": limit, "until": stamp(now.Add(suspend))})
	r.Risk = 0.7
	return r
}

func reinstatedRecord(now time.Time, from string, refused uint64, suspend time.Duration) clarity.Record {
	r := rec(now, actorBus, WhatSenderReinstated, "kernel:"+from, "bus_acl_rate_limit", "reinstated", []string{
		fmt.Sprintf("%s's suspension of %v is over; it may publish within its ACL again", from, suspend),
		fmt.Sprintf("%d messages were refused while it was suspended", refused),
	}, map[string]any{"sender": from, "refused_while_suspended": refused})
	r.Risk = 0.2
	return r
}

func stepRecord(now time.Time, in intent.Intent, pb *Playbook, n int, s Step, kernel string, attempt int, took time.Duration,
	detail string, data map[string]any, err error) clarity.Record {
	what, result := WhatStepCompleted, "completed"
	why := []string{fmt.Sprintf("Step %d (%s: %s) of playbook %s, attempt %d, on %s", n, s.Name, s.Action, pb.ID, attempt, kernel)}
	if s.Description != "" {
		why = append(why, strings.TrimSpace(s.Description))
	}
	if err != nil {
		what, result = WhatStepFailed, "failed"
		why = append(why, "Failed: "+err.Error())
	} else {
		why = append(why, detail)
	}
	ctx := map[string]any{"playbook": pb.ID, "step": n, "name": s.Name, "action": s.Action, "kernel": kernel,
		"attempt": attempt, "duration_ms": took.Milliseconds()}
	if data != nil {
		ctx["captured"] = data
	}
	r := rec(now, actorPlaybook, what, "kernel:"+kernel, "playbook_"+s.Action, result, why, ctx)
	r.IntentID = in.ID
	r.Risk = 0.4
	if err != nil {
		r.Risk = 0.7
	}
	return r
}

func recoveredRecord(now time.Time, in intent.Intent, pb *Playbook, kernel string, attempt, inc int, took time.Duration, p RecoveryPayload) clarity.Record {
	r := rec(now, actorPlaybook, WhatKernelRecovered, "kernel:"+kernel, "playbook_"+pb.ID, "recovered", []string{
		fmt.Sprintf("%s heartbeats again as incarnation %d after playbook %s (attempt %d, %s)", kernel, inc, pb.ID, attempt, roundDur(took)),
		"It had failed: " + p.Summary + " (root cause " + p.RootCause + ")",
	}, map[string]any{"kernel": kernel, "playbook": pb.ID, "attempt": attempt, "incarnation": inc, "incident": p.Incident,
		"root_cause": p.RootCause, "duration_ms": took.Milliseconds()})
	r.IntentID = in.ID
	r.Risk = 0.2
	return r
}

func escalatedRecord(now time.Time, in intent.Intent, pb *Playbook, kernel string, attempts int, last error, p RecoveryPayload) clarity.Record {
	why := []string{
		fmt.Sprintf("Playbook %s failed %d attempts to bring %s back (escalate.after_failures)", pb.ID, attempts, kernel),
		fmt.Sprintf("Last failure: %v", last),
		"Root cause as diagnosed: " + p.Summary,
	}
	if pb.Escalate.Message != "" {
		why = append(why, strings.TrimSpace(pb.Escalate.Message))
	}
	why = append(why, "The kernel stays isolated and down until an operator acts")
	r := rec(now, actorPlaybook, WhatRecoveryEscalated, "kernel:"+kernel, "playbook_escalation", "escalated", why,
		map[string]any{"kernel": kernel, "playbook": pb.ID, "attempts": attempts, "severity": pb.Escalate.Severity, "incident": p.Incident})
	r.IntentID = in.ID
	r.Risk = 0.95
	return r
}

func refusedRecord(now time.Time, in intent.Intent, p RecoveryPayload) clarity.Record {
	r := rec(now, actorPlaybook, WhatRecoveryRefused, "kernel:"+p.Kernel, "playbook_"+p.Playbook, "refused", []string{
		fmt.Sprintf("%s is running and heartbeating: there is nothing to recover", p.Kernel),
		"A playbook never restarts a healthy kernel",
	}, map[string]any{"kernel": p.Kernel, "playbook": p.Playbook, "actor": in.Actor})
	r.IntentID = in.ID
	r.Risk = 0.3
	return r
}
