package engine

// The trigger mesh, the event policy engine and the Layer 1 control plane,
// as the engine owns them: built by New, run by Start, stopped by Stop.
// The engine announces every durable intent change on the mesh, writes
// their records through its journal, submits the intents their rules and
// the critical-kernel trigger ask for, and runs the recovery playbooks as
// the handler of those emergency_recovery intents.

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strconv"
	"sync"
	"sync/atomic"

	"grace/engine/clarity"
	"grace/engine/intent"
	"grace/engine/kernel"
	"grace/engine/mesh"
	"grace/engine/policy"
	"grace/scenarios"
)

// The safeguards the layers enforce (safeguards.<name>.enabled).
const (
	// SafeguardMeshBackpressure bounds every mesh subscription's buffer
	// (dropping per its policy); off, buffers grow without limit.
	SafeguardMeshBackpressure = "mesh_backpressure"
	// SafeguardPolicyCascadeLimit cuts cascades past policy.max_depth and
	// cycles.
	SafeguardPolicyCascadeLimit = "policy_cascade_limit"
	// SafeguardKernelAutoRecovery restarts failed kernels (critical ones
	// through the emergency recovery playbook).
	SafeguardKernelAutoRecovery = "kernel_auto_recovery"
	// SafeguardBusACL enforces the bus ACL.
	SafeguardBusACL = "bus_acl"
)

// The topics on which the engine announces intents. Every event carries
// the fields id, type, actor, tier, state, priority and attempts (and
// worker and error when set); an intent submitted by a policy rule carries
// its causation chain on.
const (
	TopicIntentReceived   = "intent.received"    // a new intent, whatever its state
	TopicApprovalRequired = "approval.requested" // a Tier 0 intent waits for a human
	TopicIntentQueued     = "intent.queued"      // queued again: approved, retried, requeued
	TopicIntentDispatched = "intent.dispatched"
	TopicIntentCompleted  = "intent.completed"
	TopicIntentFailed     = "intent.failed"
	TopicIntentDenied     = "intent.denied"
	TopicIntentExpired    = "intent.expired"
	TopicIntentShed       = "intent.shed"
	TopicIntentCancelled  = "intent.cancelled"
	// TopicChaosFlood is where FloodMesh publishes unless told otherwise.
	TopicChaosFlood = "chaos.flood"
)

// IntentTopics are the topics that announce intents.
var IntentTopics = []string{TopicIntentReceived, TopicApprovalRequired, TopicIntentQueued, TopicIntentDispatched,
	TopicIntentCompleted, TopicIntentFailed, TopicIntentDenied, TopicIntentExpired, TopicIntentShed, TopicIntentCancelled}

// stateTopic is the topic announcing an intent that has moved to a state.
var stateTopic = map[intent.State]string{
	intent.StatePendingApproval: TopicApprovalRequired, intent.StateQueued: TopicIntentQueued,
	intent.StateRunning: TopicIntentDispatched, intent.StateCompleted: TopicIntentCompleted,
	intent.StateFailed: TopicIntentFailed, intent.StateDenied: TopicIntentDenied,
	intent.StateExpired: TopicIntentExpired, intent.StateShed: TopicIntentShed,
	intent.StateCancelled: TopicIntentCancelled,
}

// MeshStats are the trigger mesh's live figures (Snapshot.Mesh).
type MeshStats = mesh.Stats

// PolicyStats are the event policy engine's live figures (Snapshot.Policy).
type PolicyStats = policy.Stats

// KernelInfo is one Layer 1 kernel's live state (Snapshot.Kernels).
type KernelInfo = kernel.KernelInfo

// BusStats are the Layer 1 message bus's live figures (Snapshot.Bus).
type BusStats = kernel.BusStats

// layers holds the mesh, the policy engine and the control plane.
type layers struct {
	mesh    *mesh.Mesh
	policy  *policy.Engine
	cp      *kernel.ControlPlane
	running atomic.Bool
}

// builtinPlaybooks is the embedded scenarios/playbooks folder.
func builtinPlaybooks() (fs.FS, error) {
	sub, err := fs.Sub(scenarios.Playbooks, "playbooks")
	if err != nil {
		return nil, fmt.Errorf("built-in playbooks: %w", err)
	}
	return sub, nil
}

// initLayers builds the mesh, the policy engine and the control plane from
// e.cfg; their goroutines start with startLayers. It fails naming the key,
// the rule, the file or the step at fault.
func (e *Engine) initLayers() error {
	cfg := e.cfg
	m, err := mesh.New(cfg.Mesh, mesh.Options{Clock: e.clock, Record: e.recordLayer, Logger: e.log,
		Unbounded: !cfg.SafeguardEnabled(SafeguardMeshBackpressure), MinSubscriptions: cfg.Watchdog.Mesh.MinSubscriptions})
	if err != nil {
		return err
	}
	if err := m.Declare(append(append([]string{TopicChaosFlood}, IntentTopics...), policy.Topics...)...); err != nil {
		return err
	}
	playbooks, err := builtinPlaybooks()
	if err != nil {
		return err
	}
	cp, err := kernel.New(cfg.Kernels, m, kernel.Options{
		Clock: e.clock, Record: e.recordLayer, Logger: e.log, Submit: e.submitFor,
		NoAutoRecovery: !cfg.SafeguardEnabled(SafeguardKernelAutoRecovery), NoACL: !cfg.SafeguardEnabled(SafeguardBusACL),
		Playbooks: playbooks, IntentType: tier4Check(e.router),
	})
	if err != nil {
		return err
	}
	rs, err := policy.Compile(cfg.Policy, policy.Env{Topics: m.Catalog(), IntentTopics: IntentTopics})
	if err != nil {
		return err
	}
	pol, err := policy.New(rs, cfg.Policy, m, policy.Options{Clock: e.clock, Record: e.recordLayer, Submit: e.submitFor,
		Logger: e.log, NoCascadeLimit: !cfg.SafeguardEnabled(SafeguardPolicyCascadeLimit)})
	if err != nil {
		return err
	}
	// The hub hears of every kernel failure, to correlate Layer 2 trouble
	// with Layer 1 faults.
	if _, err := m.Subscribe(mesh.Spec{Name: "hub_layer1_faults", Pattern: kernel.TopicFailed, Backpressure: mesh.DropOldest},
		func(_ context.Context, ev mesh.Event) {
			e.ReportLayer1Fault(ev.Field("kernel"), ev.Field("cause")+": "+ev.Field("summary"))
		}); err != nil {
		return err
	}
	e.layers = &layers{mesh: m, policy: pol, cp: cp}
	e.handlers = recoveryHandlers{inner: e.handlers, cp: cp}
	return nil
}

// startLayers runs the mesh, the policy engine's narration and the control
// plane until ctx ends, on goroutines the engine waits for in Stop. When
// it returns the kernels have booted and the mesh counts as running.
func (e *Engine) startLayers(ctx context.Context) {
	l := e.layers
	if err := l.cp.Start(ctx); err != nil {
		e.log.Error("control plane", "err", err)
	}
	l.running.Store(true)
	e.wg.Go(func() {
		defer l.running.Store(false)
		var wg sync.WaitGroup
		wg.Go(func() {
			if err := l.mesh.Run(ctx); err != nil {
				e.log.Error("trigger mesh", "err", err)
			}
		})
		wg.Go(func() { l.policy.Run(ctx) })
		<-ctx.Done()
		l.cp.Wait()
		wg.Wait()
	})
}

// recordLayer writes a record of the mesh, the policy engine or the
// control plane durably, then shows it among the recent decisions. A
// record that cannot be written is logged.
func (e *Engine) recordLayer(r clarity.Record) {
	if err := e.journal.Record(context.Background(), r); err != nil {
		e.log.Error("record", "what", r.What, "who", r.Who, "err", err)
		return
	}
	e.recent.add(r)
}

// submitFor submits an intent for a policy rule or the kernel trigger.
func (e *Engine) submitFor(ctx context.Context, sub intent.Submission) (string, error) {
	res, err := e.Submit(ctx, sub)
	if conflict := (*IdempotencyConflictError)(nil); errors.As(err, &conflict) {
		// The layers key a submission by what it is for (an incident, a
		// rule firing), and its payload may have moved on since (a newer
		// diagnosis): the intent for that key exists, which is what they
		// ask for.
		return conflict.ExistingID, nil
	}
	if err != nil {
		return "", err
	}
	return res.Intent.ID, nil
}

// announce publishes a durable intent change on the mesh without waiting
// (it runs on the store's writer goroutine): intent.received for a new
// intent, and the topic of the state it is in (approval.requested,
// intent.denied …) unless it is simply queued.
func (l *layers) announce(c *intent.Change) {
	if l == nil {
		return
	}
	switch {
	case c.Create != nil:
		in := c.Create
		l.offer(TopicIntentReceived, in)
		if in.State != intent.StateQueued {
			l.offer(stateTopic[in.State], in)
		}
	case c.Update != nil:
		if t := stateTopic[c.Update.State]; t != "" {
			l.offer(t, c.Update)
		}
	}
}

func (l *layers) offer(topic string, in *intent.Intent) {
	if topic == "" {
		return
	}
	f := map[string]string{
		"id": in.ID, "type": in.Type, "actor": in.Actor, "tier": strconv.Itoa(in.Tier), "state": string(in.State),
		"priority": strconv.Itoa(in.Priority), "attempts": strconv.Itoa(in.Attempts),
	}
	if in.Worker != "" {
		f["worker"] = in.Worker
	}
	if in.LastError != "" {
		f["error"] = clip(in.LastError, 200)
	}
	ev := mesh.Event{Topic: topic, Source: "engine", Fields: f}
	if in.Context != nil {
		ev.Chain = policy.ChainFromContext(in.Context[policy.ContextCausation])
	}
	_, _ = l.mesh.Offer(ev) // the topics are declared; a refusal is counted in MeshStats.UnknownTopic
}
