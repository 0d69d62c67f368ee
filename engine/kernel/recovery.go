package kernel

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"grace/engine/intent"
	"grace/engine/mesh"
	"grace/engine/worker"
)

// HandlesRecovery reports whether an intent is a playbook run for
// RunRecovery: its payload names a playbook and a kernel.
func HandlesRecovery(in intent.Intent) bool {
	var p RecoveryPayload
	return json.Unmarshal(in.Payload, &p) == nil && p.Playbook != "" && p.Kernel != ""
}

// RunRecovery is the handler of an emergency_recovery intent: it runs the
// payload's playbook on the payload's kernel. Each step is narrated on the
// intent's story. An attempt is the playbook's steps in order; a failed
// step fails the attempt, and after escalate.after_failures failed
// attempts the recovery escalates (narrated, announced on
// kernel.escalated) and RunRecovery returns a permanent error. A kernel
// that is running and heartbeating needs no recovery: the run is refused
// with a permanent error. ctx ending stops it with ctx's error.
func (cp *ControlPlane) RunRecovery(ctx context.Context, in intent.Intent) error {
	var p RecoveryPayload
	if err := json.Unmarshal(in.Payload, &p); err != nil {
		return worker.Permanent(fmt.Errorf("recovery payload: %w", err))
	}
	pb, k := cp.playbooks[p.Playbook], cp.kernels[p.Kernel]
	switch {
	case pb == nil:
		return worker.Permanent(fmt.Errorf("recovery: playbook %q is not known (known: %s)", p.Playbook, playbookIDs(cp.playbooks)))
	case k == nil:
		return worker.Permanent(fmt.Errorf("recovery: %w: %q", ErrUnknownKernel, p.Kernel))
	}
	cp.mu.Lock()
	healthy := k.state == StateRunning && k.incident == nil
	if !healthy {
		k.setState(StateRecovering, cp.clock.Now())
	}
	cp.mu.Unlock()
	if healthy {
		cp.record(refusedRecord(cp.clock.Now(), in, p))
		return worker.Permanent(fmt.Errorf("recovery: kernel %s is running and heartbeating; nothing to recover", p.Kernel))
	}
	r := &recoveryRun{cp: cp, pb: pb, k: k, in: in, p: p, started: cp.clock.Now()}
	return r.execute(ctx)
}

// recoveryRun is one run of a playbook on a kernel.
type recoveryRun struct {
	cp      *ControlPlane
	pb      *Playbook
	k       *kernel
	in      intent.Intent
	p       RecoveryPayload
	started time.Time
	attempt int
	inc     int // the incarnation the last restart started
}

func (r *recoveryRun) execute(ctx context.Context) error {
	cp := r.cp
	var last error
	for r.attempt = 1; r.attempt <= r.pb.Escalate.AfterFailures; r.attempt++ {
		err := r.steps(ctx, r.pb, r.pb.Steps)
		if err == nil {
			cp.mu.Lock()
			inc := r.k.incarnation
			cp.mu.Unlock()
			now := cp.clock.Now()
			cp.record(recoveredRecord(now, r.in, r.pb, r.k.name, r.attempt, inc, now.Sub(r.started), r.p))
			_, _ = cp.mesh.Offer(mesh.Event{Topic: TopicRecovered, Source: senderControlPlane, Fields: map[string]string{
				"kernel": r.k.name, "incarnation": itoa(inc), "how": "playbook " + r.pb.ID, "intent": r.in.ID}})
			return nil
		}
		if ctx.Err() != nil {
			return err
		}
		last = err
	}
	now := cp.clock.Now()
	cp.mu.Lock()
	r.k.setState(StateEscalated, now)
	if r.k.incident != nil {
		r.k.incident.escalated = true
	}
	cp.mu.Unlock()
	cp.record(escalatedRecord(now, r.in, r.pb, r.k.name, r.pb.Escalate.AfterFailures, last, r.p))
	_, _ = cp.mesh.Offer(mesh.Event{Topic: TopicEscalated, Source: senderControlPlane, Fields: map[string]string{
		"kernel": r.k.name, "playbook": r.pb.ID, "attempts": itoa(r.pb.Escalate.AfterFailures), "severity": r.pb.Escalate.Severity,
		"message": r.pb.Escalate.Message, "intent": r.in.ID}})
	return worker.Permanent(fmt.Errorf("recovery of kernel %s escalated after %d failed attempts: %w", r.k.name, r.pb.Escalate.AfterFailures, last))
}

// steps runs a playbook's steps in order, narrating each; the first that
// fails ends them.
func (r *recoveryRun) steps(ctx context.Context, pb *Playbook, steps []Step) error {
	for i, s := range steps {
		start := r.cp.clock.Now()
		detail, ctxData, err := r.step(ctx, s)
		if s.Action == StepRunPlaybook && err == nil {
			continue // its own steps were narrated
		}
		now := r.cp.clock.Now()
		r.cp.record(stepRecord(now, r.in, pb, i+1, s, r.k.name, r.attempt, now.Sub(start), detail, ctxData, err))
		if err != nil {
			return fmt.Errorf("step %d (%s): %w", i+1, s.Name, err)
		}
	}
	return nil
}

// step carries out one step and says what it did.
func (r *recoveryRun) step(ctx context.Context, s Step) (string, map[string]any, error) {
	cp, k := r.cp, r.k
	switch s.Action {
	case StepIsolate:
		cp.bus.isolate(k.name, true)
		return fmt.Sprintf("Bus traffic from %s is refused except its heartbeats", k.name), nil, nil
	case StepRelease:
		cp.bus.isolate(k.name, false)
		return fmt.Sprintf("%s may publish within its ACL again", k.name), nil, nil
	case StepCaptureState:
		cp.mu.Lock()
		info := cp.infoLocked(k, cp.clock.Now())
		ev := cp.evidenceLocked(k, cp.clock.Now())
		cp.mu.Unlock()
		diag := Analyze(ev)
		data := map[string]any{"kernel": info, "last_exit": ev.Exit, "heartbeats": ev.Beats, "dependencies": ev.Deps, "diagnosis": diag}
		return fmt.Sprintf("Captured %s: %s, incarnation %d, %d recent heartbeats; diagnosis: %s", k.name, info.State,
			info.Incarnation, len(ev.Beats), diag.Summary), data, nil
	case StepRestart:
		inc, err := cp.restart(ctx, k, time.Duration(s.Timeout))
		if err != nil {
			return "", nil, err
		}
		r.inc = inc
		return fmt.Sprintf("Stopped the previous incarnation and started incarnation %d", inc), map[string]any{"incarnation": inc}, nil
	case StepVerifyHeartbeat:
		select {
		case <-cp.waitBeat(k, r.inc):
			cp.mu.Lock()
			closing := cp.closing
			cp.mu.Unlock()
			if closing {
				return "", nil, ErrStopping
			}
			return fmt.Sprintf("Incarnation %d heartbeats", r.inc), nil, nil
		case <-cp.clock.After(time.Duration(s.Timeout)):
			return "", nil, fmt.Errorf("no heartbeat from incarnation %d within %v", r.inc, time.Duration(s.Timeout))
		case <-ctx.Done():
			return "", nil, ctx.Err()
		}
	case StepRunPlaybook:
		sub := cp.playbooks[s.Playbook]
		if sub == nil {
			return "", nil, errors.New("playbook " + s.Playbook + " is not loaded")
		}
		return "", nil, r.steps(ctx, sub, sub.Steps)
	}
	return "", nil, fmt.Errorf("unknown step action %q", s.Action)
}
