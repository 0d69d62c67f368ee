package chaos

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"grace/engine"
	"grace/engine/clarity"
	"grace/engine/mesh"
)

// The worker and mesh faults on the nats backend (backend.kind nats). The
// isolated engine's pool slots only wait for remote results there: the
// tasks run on workers in other processes, and the trigger mesh is bridged
// over NATS. A Target that runs the engine so implements RemoteWorkerFaults
// and RemoteMeshFaults, and kill_workers and flood_mesh act on the remote
// side through them.

// RemoteWorker is one worker of another process as the Target sees it.
type RemoteWorker struct {
	Name string
	// Busy is set while one of its handlers runs.
	Busy bool
}

// RemoteWorkerFaults is a Target whose engine runs its tasks on remote
// workers. kill_workers slows and kills those instead of the engine's
// pool slots.
type RemoteWorkerFaults interface {
	// RemoteWorkers lists the remote workers still running.
	RemoteWorkers() []RemoteWorker
	// KillRemoteWorker kills the worker called name as SIGKILL would: its
	// NATS connection dropped, its handlers cut off, nothing reported, no
	// goodbye. Grace never restarts a remote worker: in production the
	// process supervisor that runs it (systemd, Kubernetes) does, and the
	// replacement joins the control plane like any new worker. A Target
	// that stands for a whole deployment simulates that supervisor: after
	// a short restart delay a replacement starts under a new name (the
	// killed name stays dead). workers_full after the faults counts on it.
	KillRemoteWorker(name string) error
	// SlowRemoteHandlers makes every remote handler wait d before it runs
	// (0 ends it; runs under way keep their wait).
	SlowRemoteHandlers(d time.Duration)
	// RunawayRemoteHandlers makes the remote handlers of intentType ignore
	// being told to stop, as a handler that never checks its context does:
	// each runs until the fault is cleared ("" clears it, and ends the runs
	// under way) or its worker is killed.
	RunawayRemoteHandlers(intentType string)
}

// MeshInbound counts what the engine's mesh bridge took in from NATS.
type MeshInbound struct {
	// Received events were offered to the engine's mesh; Dropped were
	// dropped by NATS past the bridge's pending limit.
	Received, Dropped uint64
}

// RemoteMeshFaults is a Target whose engine's trigger mesh is bridged over
// NATS. flood_mesh storms it from the remote side.
type RemoteMeshFaults interface {
	// PublishRemoteMesh publishes n events on topic from outside the
	// engine's process, as another process's bridge does, in 10 ms batches
	// at perSecond (0: as fast as it can), and returns how many it sent.
	PublishRemoteMesh(ctx context.Context, topic string, n int, perSecond float64) (int, error)
	// MeshInbound returns the engine's bridge's inbound counts.
	MeshInbound() MeshInbound
}

// remoteDetectors are the records that show a safeguard firing on the
// nats backend, where the engine's own record of it cannot appear: a dead
// remote worker's task moves by JetStream's redelivery after ack wait and
// the dispatcher's grant of the claim to a live worker
// (remote_task_redelivered, package dist), not by the pool's reroute.
var remoteDetectors = map[string]detector{
	engine.SafeguardWorkerReassignment: {What: "remote_task_redelivered"},
}

// Isolated nats backend timings: a killed worker is lost after two
// heartbeats and its task redelivered after the ack wait, so that a run
// stays a few seconds.
const (
	isolatedAckWait   = time.Second // the least backend.nats.ack_wait allows
	isolatedHeartbeat = 100 * time.Millisecond
)

// isolateNATS makes the nats backend fit for an isolated run in dir: an
// embedded server of its own on a free loopback port with its store in
// dir/nats (never the configured server, whose task stream would mix with
// the run's), and short heartbeats and ack wait.
func isolateNATS(cfg *engine.Config, dir string) {
	n := &cfg.Backend.NATS
	n.URL, n.Listen, n.StoreDir = engine.NATSEmbedded, "127.0.0.1:0", filepath.Join(dir, "nats")
	n.AckWait, n.HeartbeatInterval, n.Replicas = isolatedAckWait, isolatedHeartbeat, 1
}

// recordFault puts a fault the runner injects itself on the isolated
// record, as the engine's fault hooks do theirs.
func (r *run) recordFault(ctx context.Context, where, fault, reason, effect string, extra map[string]any) error {
	c := map[string]any{"fault": fault, "reason": reason}
	for k, v := range extra {
		c[k] = v
	}
	rec := clarity.Record{Who: "fault_injector", What: engine.WhatFaultInjected, When: time.Now(), Where: where,
		Why: []string{"Fault " + fault + ": " + reason, effect}, How: "chaos_fault_hook", Result: "injected", Context: c,
		Confidence: 1, Risk: 0.7, Transparency: clarity.TransparencyComplete}
	if err := r.target.Deps().Journal.Record(ctx, rec); err != nil {
		return fmt.Errorf("record the fault %s: %w", fault, err)
	}
	return nil
}

// injectKillRemoteWorkers is kill_workers on the nats backend: the remote
// workers' handlers are slowed so that the load keeps them busy, the load
// is queued, and kill_share of the busy remote workers, chosen at random,
// are killed like processes.
func injectKillRemoteWorkers(ctx context.Context, r *run, f Fault, rw RemoteWorkerFaults) error {
	lat := time.Duration(r.intParam("handler_latency_ms")) * time.Millisecond
	if err := r.recordFault(ctx, "remote_workers", "handler_fault", "slow the remote workers' handlers",
		fmt.Sprintf("Handlers on the remote workers wait %v more until cleared", lat), map[string]any{"latency_ms": lat.Milliseconds()}); err != nil {
		return err
	}
	rw.SlowRemoteHandlers(lat)
	r.needClearRemote = true
	if err := r.submitLoad(ctx, "dropout", r.intParam("tasks")); err != nil {
		return err
	}
	want := int(float64(r.intParam("workers"))*r.param("kill_share") + 0.5)
	busy, err := r.pickBusy(ctx, want, "remote workers", func() (names []string) {
		for _, w := range rw.RemoteWorkers() {
			if w.Busy {
				names = append(names, w.Name)
			}
		}
		return names
	})
	if err != nil {
		return err
	}
	reason := orDefault(f.Reason, "chaos: worker dropout")
	r.noteHeld(busy)
	for _, name := range busy {
		if err := r.recordFault(ctx, name, "kill_worker", reason,
			name+" is killed like a SIGKILLed process: its NATS connection dropped, its handler cut off, its result never reported",
			map[string]any{"worker": name, "backend": engine.BackendNATS}); err != nil {
			return err
		}
		if err := rw.KillRemoteWorker(name); err != nil {
			return fmt.Errorf("kill remote worker %s: %w", name, err)
		}
		r.killed = append(r.killed, name)
	}
	fate := fmt.Sprintf("their tasks move once JetStream redelivers them (ack wait %v) and a live worker's claim replaces the lost holder's",
		r.cfg.Backend.NATS.AckWait)
	if !r.cfg.SafeguardEnabled(engine.SafeguardWorkerReassignment) {
		fate = fmt.Sprintf("worker_reassignment is off: their tasks stay with them, redeliveries refused, until the task timeout (%v)",
			r.cfg.Workers.TaskTimeout)
	}
	r.notef("killed %d of %d remote workers on nats: %v; %s; the pool refills only when their supervisor (outside Grace; simulated by an isolated run's target) starts replacements, which must join the control plane",
		want, r.intParam("workers"), busy[:want], fate)
	return nil
}

// rollbackRemote ends the remote handler slowdown.
func (r *run) rollbackRemote(ctx context.Context) {
	rw, ok := r.target.(RemoteWorkerFaults)
	if !r.needClearRemote || !ok {
		return
	}
	rw.SlowRemoteHandlers(0)
	rw.RunawayRemoteHandlers("")
	r.needClearRemote = false
	if err := r.recordFault(ctx, "remote_workers", "clear_handler_faults", "end of the handler faults",
		"Remote handlers run as configured again", nil); err != nil {
		r.failf("rollback: %v", err)
	}
}

// remoteStalls numbers the remote floods' stalled subscriptions.
var remoteStalls atomic.Uint64

// injectFloodRemoteMesh is flood_mesh on the nats backend: the storm comes
// from the remote side, over NATS, into the engine's bridge, which offers
// each event to the engine's mesh without waiting; a subscriber of the
// flooded topic is stuck meanwhile. The mesh's backpressure (its bound,
// policy, drop counting and shedding narrative) must hold for bridged
// events as for local ones.
func injectFloodRemoteMesh(ctx context.Context, r *run, f Fault, rm RemoteMeshFaults) error {
	topic, n, rate := engine.TopicChaosFlood, r.intParam("events"), r.param("events_per_second")
	m := r.eng.Mesh()
	if !m.Catalog().Has(topic) {
		return fmt.Errorf("flood mesh over nats: %w: %q", mesh.ErrUnknownTopic, topic)
	}
	name := fmt.Sprintf("chaos.stall.nats.%d", remoteStalls.Add(1))
	released := make(chan struct{})
	var release sync.Once
	sub, err := m.Subscribe(mesh.Spec{Name: name, Pattern: topic}, func(ctx context.Context, _ mesh.Event) {
		select {
		case <-released:
		case <-ctx.Done():
		}
	})
	if err != nil {
		return fmt.Errorf("flood mesh over nats: %w", err)
	}
	defer sub.Close()
	defer release.Do(func() { close(released) })
	if err := r.recordFault(ctx, "mesh:"+topic, "flood_mesh",
		orDefault(f.Reason, "chaos: trigger mesh storm"),
		fmt.Sprintf("%d events on %s at %g/s published over NATS from outside the engine's process, with a stalled subscriber (%s)", n, topic, rate, name),
		map[string]any{"events": n, "per_second": rate, "stall_subscriber": true, "backend": engine.BackendNATS}); err != nil {
		return err
	}
	before := rm.MeshInbound()
	start := time.Now()
	sent, err := rm.PublishRemoteMesh(ctx, topic, n, rate)
	if err != nil {
		return fmt.Errorf("flood mesh over nats: after %d of %d events: %w", sent, n, err)
	}
	var in MeshInbound
	if werr := r.waitFor(ctx, 5*time.Second, func() bool {
		in = rm.MeshInbound()
		return in.Received+in.Dropped-before.Received-before.Dropped >= uint64(sent)
	}); werr != nil {
		r.notef("mesh flood over nats: %d of %d events sent reached the bridge within 5s", in.Received+in.Dropped-before.Received-before.Dropped, sent)
	}
	st, _ := m.Subscription(name)
	release.Do(func() { close(released) })
	if err := r.waitFor(ctx, 5*time.Second, func() bool {
		s, ok := m.Subscription(name)
		return !ok || s.Queued == 0
	}); err != nil {
		return fmt.Errorf("flood mesh over nats: drain the stalled subscriber %s: %w", name, err)
	}
	r.notef("mesh flood over nats: %d published on grace.mesh.%s from the remote side, %d received by the engine's bridge, %d dropped by NATS past its pending limit; stalled subscriber %s offered %d, dropped %d (peak queue %d, bounded %v), in %v",
		sent, topic, in.Received-before.Received, in.Dropped-before.Dropped, name, st.Offered, st.Dropped, st.Peak, m.Bounded(),
		time.Since(start).Round(time.Millisecond))
	return nil
}
