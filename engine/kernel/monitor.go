package kernel

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"grace/engine/intent"
	"grace/engine/mesh"
)

// actorTrigger is the Who of the critical-kernel heartbeat trigger's
// records and the actor of the intents it submits.
const actorTrigger = "critical_kernel_heartbeat_trigger"

// actorMonitor is the Who of the heartbeat monitor's records about
// non-critical kernels.
const actorMonitor = "kernel_heartbeat_monitor"

// RecoveryPayload is the payload of an emergency_recovery intent the
// trigger submits; RunRecovery reads it back.
type RecoveryPayload struct {
	Playbook    string   `json:"playbook"`
	Kernel      string   `json:"kernel"`
	Incident    string   `json:"incident"`
	Incarnation int      `json:"incarnation"`
	RootCause   string   `json:"root_cause"`
	Summary     string   `json:"summary"`
	Evidence    []string `json:"evidence"`
	Missed      int      `json:"missed_heartbeats"`
}

// onBeat records a heartbeat delivered by the mesh.
func (cp *ControlPlane) onBeat(_ context.Context, ev mesh.Event) {
	inc, _ := strconv.Atoi(ev.Field("incarnation"))
	seq, _ := strconv.ParseUint(ev.Field("seq"), 10, 64)
	mem, _ := strconv.ParseFloat(ev.Field("mem_mb"), 64)
	cp.mu.Lock()
	k := cp.kernels[ev.Source]
	if k == nil || inc < k.incarnation {
		cp.mu.Unlock()
		return // not a kernel, or an incarnation already replaced
	}
	k.beats = append(k.beats, Beat{At: ev.At, Incarnation: inc, Seq: seq, MemMB: mem})
	if len(k.beats) > beatsKept {
		k.beats = k.beats[len(k.beats)-beatsKept:]
	}
	k.beatSeen, k.missed = true, 0
	k.totalBeats++
	kept := k.waiters[:0]
	for _, w := range k.waiters {
		if inc >= w.incarnation {
			close(w.ch)
		} else {
			kept = append(kept, w)
		}
	}
	k.waiters = kept
	// A heartbeat sent after the incident opened ends it: from a newer
	// incarnation (a restart), or from the silent one (it resumed by
	// itself). One sent before, and delivered late, is only evidence.
	var resumed *incident
	if in := k.incident; in != nil && ev.At.After(in.opened) && (inc > in.incarnation || k.state == StateUnresponsive) {
		if k.state == StateUnresponsive && inc == in.incarnation {
			resumed = in
			k.setState(StateRunning, ev.At)
		}
		k.incident = nil
	}
	cp.mu.Unlock()
	if resumed != nil {
		cp.record(resumedRecord(ev.At, k.name, inc, *resumed))
	}
}

// waitBeat returns a channel closed when k heartbeats from incarnation inc
// or later (or when the control plane stops).
func (cp *ControlPlane) waitBeat(k *kernel, inc int) <-chan struct{} {
	cp.mu.Lock()
	defer cp.mu.Unlock()
	ch := make(chan struct{})
	if cp.closing || (len(k.beats) > 0 && k.beats[len(k.beats)-1].Incarnation >= inc) {
		close(ch)
		return ch
	}
	k.waiters = append(k.waiters, beatWaiter{incarnation: inc, ch: ch})
	return ch
}

// check is one heartbeat check: each kernel that has not beaten since the
// last check and is not in its loop (stuck in a step, or ended) misses
// one. A kernel in its loop is alive even when its heartbeat is late (a
// starved scheduler, a slow bus), so such delays never set off a
// recovery. At kernels.missed_after misses it is down, and the trigger
// (critical) or the supervisor (others) acts. After a clock jump (a check
// more than two intervals after the last) the counts start again.
func (cp *ControlPlane) check(ctx context.Context, now time.Time) {
	cp.mu.Lock()
	jumped := now.Sub(cp.lastCheck) > 2*cp.cfg.HeartbeatInterval
	cp.lastCheck = now
	var actions []func()
	for _, n := range cp.order {
		k := cp.kernels[n]
		cp.restartDueLocked(k, now)
		alive := k.state == StateRunning && k.looping != nil && k.looping.Load()
		if jumped || k.beatSeen || alive {
			k.beatSeen, k.missed = false, 0
			continue
		}
		k.missed++
		if k.missed < cp.cfg.MissedAfter {
			continue
		}
		if k.state == StateRunning {
			k.setState(StateUnresponsive, now)
		}
		if a := cp.downLocked(ctx, k, now); a != nil {
			actions = append(actions, a)
		}
	}
	cp.mu.Unlock()
	for _, a := range actions {
		a()
	}
	cp.checks.Add(1)
}

// downLocked opens an incident for a kernel that stays silent (once), or
// retries a recovery submission that failed; it returns what to do
// outside the lock.
func (cp *ControlPlane) downLocked(ctx context.Context, k *kernel, now time.Time) func() {
	if k.incident != nil {
		inc := k.incident
		if k.spec.Critical && cp.auto && inc.intentID == "" && !inc.escalated {
			return func() { cp.submitRecovery(ctx, k, inc, now, false) }
		}
		return nil
	}
	cp.incidentSeq++
	diag := Analyze(cp.evidenceLocked(k, now))
	k.diagnosis = &diag
	inc := &incident{seq: cp.incidentSeq, opened: now, incarnation: k.incarnation, diagnosis: diag}
	k.incident = inc
	hung := k.state == StateUnresponsive
	missed := k.missed
	if !k.spec.Critical {
		restart := cp.auto && hung && k.restartAt.IsZero()
		if restart {
			k.restartAt = now.Add(cp.cfg.RestartBackoff)
		}
		return func() {
			cp.record(missedRecord(now, actorMonitor, k.name, false, missed, cp.cfg.HeartbeatInterval, diag, missedAction(false, cp.auto, restart, "")))
			if hung {
				cp.announceFailed(k.name, false, diag, inc.incarnation)
			}
		}
	}
	return func() {
		if hung {
			cp.announceFailed(k.name, true, diag, inc.incarnation)
		}
		if !cp.auto {
			cp.record(missedRecord(now, actorTrigger, k.name, true, missed, cp.cfg.HeartbeatInterval, diag, missedAction(true, false, false, "")))
			return
		}
		cp.submitRecovery(ctx, k, inc, now, true)
	}
}

// submitRecovery submits the emergency_recovery intent for an incident and
// narrates the detection (first) or the retry.
func (cp *ControlPlane) submitRecovery(ctx context.Context, k *kernel, inc *incident, now time.Time, first bool) {
	pb := cp.recovery
	p := RecoveryPayload{Playbook: pb.ID, Kernel: k.name, Incident: cp.incidentID(inc), Incarnation: inc.incarnation,
		RootCause: string(inc.diagnosis.Cause), Summary: inc.diagnosis.Summary, Evidence: inc.diagnosis.Evidence,
		Missed: cp.cfg.MissedAfter}
	payload, _ := json.Marshal(p)
	sub := intent.Submission{Type: pb.Intent.Type, Actor: actorTrigger, Priority: pb.Intent.Priority, Payload: payload,
		IdempotencyKey: "kernel-recovery:" + p.Incident,
		Context:        map[string]any{"resilience_impact": true, "kernel": k.name, "root_cause": p.RootCause}}
	var id string
	err := fmt.Errorf("no intent submitter")
	if cp.submit != nil {
		id, err = cp.submit(ctx, sub)
	}
	cp.mu.Lock()
	if err == nil && k.incident == inc {
		inc.intentID = id
	}
	cp.mu.Unlock()
	action := missedAction(true, true, false, id)
	if err != nil {
		action = fmt.Sprintf("Submitting the %s intent failed (%v); the trigger tries again at the next check", pb.Intent.Type, err)
		cp.log.Warn("submit kernel recovery", "kernel", k.name, "err", err)
	}
	if first || err == nil {
		cp.record(missedRecord(now, actorTrigger, k.name, true, cp.cfg.MissedAfter, cp.cfg.HeartbeatInterval, inc.diagnosis, action))
	}
}

// incidentID names an incident uniquely across runs.
func (cp *ControlPlane) incidentID(inc *incident) string {
	return fmt.Sprintf("%d-%d", cp.runID, inc.seq)
}

// missedAction says what follows a kernel found down.
func missedAction(critical, auto, restart bool, intentID string) string {
	switch {
	case critical && auto:
		return fmt.Sprintf("Submitted Tier 4 emergency_recovery intent %s to run the recovery playbook (kernel_auto_recovery)", intentID)
	case critical:
		return "kernel_auto_recovery is off: no recovery is attempted and the kernel stays down"
	case auto && restart:
		return "Its supervisor restarts it once its dependencies run (kernel_auto_recovery)"
	case auto:
		return "Its supervisor's restart is already scheduled (kernel_auto_recovery)"
	}
	return "kernel_auto_recovery is off: the kernel stays down"
}
