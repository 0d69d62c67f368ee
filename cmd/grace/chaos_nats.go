package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"

	"grace/engine"
	"grace/engine/chaos"
	"grace/engine/clock"
	"grace/engine/dist"
	"grace/engine/intent"
	"grace/engine/mesh"
	"grace/engine/worker"
	"grace/store"
)

// An isolated chaos engine on backend.kind nats (chaos.IsolatedConfig
// gives it an embedded nats-server of its own on a free loopback port,
// with its files in the run's folder) runs as a real deployment would, in
// one process: the control plane's side (the dispatcher, the mesh bridge,
// the store) and what would be other processes (the server, the remote
// workers, a remote mesh publisher), each worker with a NATS connection of
// its own. A crash and restart of the engine (JEPSEN_crash_restart)
// crashes and restarts the control plane's side only: the embedded server
// keeps running, as the workers do, and the new dispatcher finds the task
// stream as the crash left it.

// chaosFleetDrain is how long a remote worker may finish its task when the
// run ends.
const chaosFleetDrain = time.Second

// chaosRestartDelay is how long the isolated run's stand-in for a process
// supervisor waits before it starts a killed remote worker's replacement,
// as systemd's RestartSec or a Kubernetes container restart would.
const chaosRestartDelay = 300 * time.Millisecond

// chaosRemoteOrigin names the remote side's mesh publisher among bridges.
const chaosRemoteOrigin = "chaos-remote"

// errChaosKilled cuts off the handlers of a killed remote worker.
var errChaosKilled = errors.New("remote worker killed by a chaos fault")

// chaosRemote is what lives outside the control plane's process: the
// embedded server, the remote workers, the supervisor that restarts them
// and the mesh publisher. It outlives a crash of the engine.
//
// In production Grace does not restart a `grace worker` that dies: that is
// the job of whatever runs the worker processes (systemd, Kubernetes, a
// process manager), and the control plane only sees the replacement join
// with its first heartbeat. The isolated run simulates that supervisor: a
// killed worker is replaced after chaosRestartDelay by a new worker with a
// new name ("<name>-r1", then "-r2"), as a restarted process with a new
// identity would be.
type chaosRemote struct {
	srv *dist.Server
	url string
	log *slog.Logger
	pub *nats.Conn
	// latency is the handler slowdown in force (nanoseconds).
	latency atomic.Int64
	// runaway, when set, makes its type's handlers ignore their context
	// until its release is closed.
	runaway atomic.Pointer[remoteRunaway]
	// What a (re)started worker runs with.
	reg  dist.Catalog
	host string
	hb   time.Duration
	// abandonAfter frees a slot whose handler ignores being told to stop.
	abandonAfter time.Duration
	// scrub hides masked values in the handlers' errors.
	scrub func(intent.Intent, error) error
	// supervise ends the pending restarts (close cancels it).
	supervise context.Context
	endSuper  context.CancelFunc

	mu      sync.Mutex
	workers map[string]*fleetWorker // running, by name
	closed  bool                    // no worker starts any more
	wg      sync.WaitGroup
}

// remoteRunaway is the runaway_handler fault on the fleet: handlers of
// typ run until release is closed.
type remoteRunaway struct {
	typ     string
	release chan struct{}
}

// fleetWorker is one remote worker of the fleet.
type fleetWorker struct {
	name string
	// base is the name of the worker it replaces (its own for an original
	// one), gen how many restarts separate them.
	base string
	gen  int
	nc   *nats.Conn
	stop context.CancelFunc // ends Run (a clean shutdown)
	// killed cuts its handlers off (a kill).
	killed     context.Context
	killCancel context.CancelFunc
	busy       atomic.Int32
}

// chaosNATSTarget is the isolated record with the nats backend
// (chaos.Target, EngineAttacher, Restarter, RemoteWorkerFaults,
// RemoteMeshFaults).
type chaosNATSTarget struct {
	chaosTarget
	cfg    engine.Config
	remote *chaosRemote
	// cp is the control plane's side: connection, dispatcher, bridge (its
	// srv is nil: the server belongs to remote).
	cp *natsBackend
}

var (
	_ chaos.Target             = (*chaosNATSTarget)(nil)
	_ chaos.EngineAttacher     = (*chaosNATSTarget)(nil)
	_ chaos.Restarter          = (*chaosNATSTarget)(nil)
	_ chaos.RemoteWorkerFaults = (*chaosNATSTarget)(nil)
	_ chaos.RemoteMeshFaults   = (*chaosNATSTarget)(nil)
)

// openChaosNATS starts the run's embedded server, the control plane's
// side on st and workers.count remote workers of one slot each. On error
// it closes what it started, st included.
func openChaosNATS(ctx context.Context, cfg engine.Config, st *store.Store, log *slog.Logger) (_ *chaosNATSTarget, err error) {
	if cfg.Backend.NATS.URL != engine.NATSEmbedded {
		_ = st.Close()
		return nil, fmt.Errorf("isolated chaos run on nats: backend.nats.url is %q; an isolated run needs an embedded server of its own", cfg.Backend.NATS.URL)
	}
	rm := &chaosRemote{log: log, workers: map[string]*fleetWorker{}, hb: cfg.Backend.NATS.HeartbeatInterval,
		abandonAfter: cfg.HandlerAbandonAfter(), scrub: engine.ErrorScrubber(cfg.Masking.Fields)}
	rm.supervise, rm.endSuper = context.WithCancel(context.WithoutCancel(ctx))
	t := &chaosNATSTarget{chaosTarget: chaosTarget{st: st, log: log}, cfg: cfg, remote: rm}
	defer func() {
		if err != nil {
			t.cp.stop()
			rm.close()
			_ = st.Close()
		}
	}()
	if rm.srv, err = startEmbeddedNATS(cfg, log); err != nil {
		return nil, err
	}
	rm.url = rm.srv.ClientURL()
	if t.cp, err = connectControlPlane(ctx, cfg, rm.url, st, log); err != nil {
		return nil, err
	}
	if rm.pub, err = dialNATS(rm.url, "", "grace-chaos-remote-mesh", log); err != nil {
		return nil, err
	}
	if rm.reg, err = worker.NewRegistry(cfg.Handlers, worker.Options{Clock: clock.Real{}}); err != nil {
		return nil, fmt.Errorf("handlers: %w", err)
	}
	if rm.host, err = os.Hostname(); err != nil || rm.host == "" {
		rm.host = "unknown-host" // as grace worker names it: a remote worker always has a host
	}
	for i := range max(cfg.Workers.Count, 1) {
		name := fmt.Sprintf("nats-worker-%d", i+1)
		if err := rm.startWorker(ctx, name, name, 0); err != nil {
			return nil, err
		}
	}
	return t, nil
}

// connectControlPlane connects the control plane's side to url; its
// dispatcher's loops end with stop, not with ctx.
func connectControlPlane(ctx context.Context, cfg engine.Config, url string, st *store.Store, log *slog.Logger) (*natsBackend, error) {
	cp := &natsBackend{url: url}
	if err := cp.connect(context.WithoutCancel(ctx), cfg, st, log); err != nil {
		cp.stop()
		return nil, err
	}
	return cp, nil
}

// startWorker starts a remote worker called name (the gen-th restart of
// base) with a connection of its own, running until killed or closed.
func (rm *chaosRemote) startWorker(ctx context.Context, name, base string, gen int) error {
	nc, err := dialNATS(rm.url, "", "grace-worker-"+name, rm.log)
	if err != nil {
		return err
	}
	fw := &fleetWorker{name: name, base: base, gen: gen, nc: nc}
	fw.killed, fw.killCancel = context.WithCancel(context.Background())
	w, err := dist.NewWorker(ctx, nc, dist.WorkerOptions{Name: name, Host: rm.host, Handlers: fleetCatalog{inner: rm.reg, w: fw, rm: rm},
		Slots: 1, HeartbeatInterval: rm.hb, Drain: chaosFleetDrain, AbandonAfter: rm.abandonAfter, Scrub: rm.scrub, Logger: rm.log.With("worker", name)})
	if err != nil {
		nc.Close()
		fw.killCancel()
		return err
	}
	runCtx, stop := context.WithCancel(context.WithoutCancel(ctx))
	fw.stop = stop
	rm.mu.Lock()
	if rm.closed {
		rm.mu.Unlock()
		stop()
		nc.Close()
		fw.killCancel()
		return fmt.Errorf("start remote worker %s: the fleet is closing", name)
	}
	rm.workers[name] = fw
	rm.mu.Unlock()
	rm.wg.Go(func() {
		defer fw.killCancel()
		defer nc.Close()
		if err := w.Run(runCtx); err != nil && fw.killed.Err() == nil {
			rm.log.Warn("remote worker stopped", "worker", name, "err", err)
		}
	})
	return nil
}

// restartLater is the supervisor's restart of the killed worker fw: after
// chaosRestartDelay a new worker, the next generation of fw's base name,
// starts and joins (the dispatcher records remote_worker_joined on its
// first heartbeat). A pending restart ends when the fleet closes.
func (rm *chaosRemote) restartLater(fw *fleetWorker) {
	gen := fw.gen + 1
	name := fmt.Sprintf("%s-r%d", fw.base, gen)
	rm.mu.Lock()
	defer rm.mu.Unlock()
	if rm.closed {
		return
	}
	rm.wg.Go(func() {
		t := time.NewTimer(chaosRestartDelay)
		defer t.Stop()
		select {
		case <-rm.supervise.Done():
			return
		case <-t.C:
		}
		if err := rm.startWorker(rm.supervise, name, fw.base, gen); err != nil {
			if rm.supervise.Err() == nil {
				rm.log.Warn("supervisor could not restart a killed remote worker", "worker", fw.name, "replacement", name, "err", err)
			}
			return
		}
		rm.log.Info("supervisor restarted a killed remote worker", "worker", fw.name, "replacement", name, "after", chaosRestartDelay)
	})
}

// stopWorkers ends the pending restarts and stops the workers cleanly
// (their running tasks may finish for chaosFleetDrain), and waits for
// them. No worker starts afterwards. Idempotent.
func (rm *chaosRemote) stopWorkers() {
	rm.mu.Lock()
	rm.closed = true
	if rm.endSuper != nil {
		rm.endSuper()
	}
	for _, fw := range rm.workers {
		fw.stop()
	}
	clear(rm.workers)
	rm.mu.Unlock()
	rm.wg.Wait()
}

// close stops the workers (stopWorkers), then the mesh publisher and the
// server. Nil-safe.
func (rm *chaosRemote) close() {
	if rm == nil {
		return
	}
	rm.stopWorkers()
	if rm.pub != nil {
		rm.pub.Close()
	}
	if rm.srv != nil {
		rm.srv.Shutdown()
	}
}

// fleetCatalog runs a remote worker's handlers behind the run's slowdown,
// counts them while they run, and cuts them off when the worker is killed.
type fleetCatalog struct {
	inner dist.Catalog
	w     *fleetWorker
	rm    *chaosRemote
}

// Kind names the configured handler's kind.
func (c fleetCatalog) Kind(intentType string) string { return c.inner.Kind(intentType) }

// For returns the configured handler of intentType behind the fault.
func (c fleetCatalog) For(intentType string) (worker.Handler, time.Duration) {
	h, timeout := c.inner.For(intentType)
	if h == nil {
		return nil, timeout
	}
	return worker.HandlerFunc(func(ctx context.Context, in intent.Intent) error {
		c.w.busy.Add(1)
		defer c.w.busy.Add(-1)
		ctx, cancel := context.WithCancelCause(ctx)
		defer cancel(nil)
		defer context.AfterFunc(c.w.killed, func() { cancel(errChaosKilled) })()
		if d := time.Duration(c.rm.latency.Load()); d > 0 {
			t := time.NewTimer(d)
			defer t.Stop()
			select {
			case <-ctx.Done():
				return context.Cause(ctx)
			case <-t.C:
			}
		}
		if ra := c.rm.runaway.Load(); ra != nil && ra.typ == in.Type {
			// Deaf to ctx: only the fault's end or the worker's kill (its
			// process gone) ends the run.
			select {
			case <-ra.release:
			case <-c.w.killed.Done():
				return errChaosKilled
			}
		}
		return h.Handle(ctx, in)
	}), timeout
}

// Deps gives the isolated engine the store and the dispatcher as its
// handlers and remote worker list, as newEngineOn does.
func (t *chaosNATSTarget) Deps() engine.Deps {
	d := t.chaosTarget.Deps()
	d.Handlers, d.Remote = t.cp.disp, t.cp.disp
	return d
}

// Attach bridges the engine's trigger mesh over NATS.
func (t *chaosNATSTarget) Attach(eng *engine.Engine) error {
	return t.cp.bridgeMesh(eng, t.cfg, t.log)
}

// Crash drops the control plane's NATS connection at once: its dispatcher
// and bridge go silent mid-flight, as when its process dies.
func (t *chaosNATSTarget) Crash() { t.cp.nc.Close() }

// Reopen closes the control plane's side and the store and opens them
// again on cfg; the server and the remote workers keep running.
func (t *chaosNATSTarget) Reopen(ctx context.Context, cfg engine.Config, log *slog.Logger) (chaos.Target, error) {
	t.cp.stop()
	if err := t.st.Close(); err != nil {
		t.remote.close()
		return nil, fmt.Errorf("close the record %s: %w", cfg.DB, err)
	}
	st, err := openStore(ctx, cfg, false, log)
	if err != nil {
		t.remote.close()
		return nil, err
	}
	cp, err := connectControlPlane(ctx, cfg, t.remote.url, st, log)
	if err != nil {
		t.remote.close()
		_ = st.Close()
		return nil, err
	}
	return &chaosNATSTarget{chaosTarget: chaosTarget{st: st, log: log}, cfg: cfg, remote: t.remote, cp: cp}, nil
}

// Close stops the remote workers, the control plane's side, the server
// and the store, in that order (the engine has stopped).
func (t *chaosNATSTarget) Close() error {
	rm := t.remote
	rm.stopWorkers() // their goodbyes reach the dispatcher, which records them
	t.cp.stop()
	rm.close()
	return t.st.Close()
}

// RemoteWorkers lists the fleet's running workers, by name.
func (t *chaosNATSTarget) RemoteWorkers() []chaos.RemoteWorker {
	rm := t.remote
	rm.mu.Lock()
	defer rm.mu.Unlock()
	out := make([]chaos.RemoteWorker, 0, len(rm.workers))
	for name, fw := range rm.workers {
		out = append(out, chaos.RemoteWorker{Name: name, Busy: fw.busy.Load() > 0})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// KillRemoteWorker drops the worker's connection (nothing more leaves it:
// no result, no release, no leaving heartbeat), then cuts its handlers off
// and ends its loops. The simulated supervisor starts its replacement,
// "<name>-r1", after chaosRestartDelay (see chaosRemote).
func (t *chaosNATSTarget) KillRemoteWorker(name string) error {
	rm := t.remote
	rm.mu.Lock()
	fw, ok := rm.workers[name]
	delete(rm.workers, name)
	rm.mu.Unlock()
	if !ok {
		return fmt.Errorf("no running remote worker called %q", name)
	}
	fw.nc.Close()
	fw.killCancel()
	fw.stop()
	rm.restartLater(fw)
	return nil
}

// SlowRemoteHandlers sets the remote handlers' slowdown.
func (t *chaosNATSTarget) SlowRemoteHandlers(d time.Duration) {
	t.remote.latency.Store(int64(max(d, 0)))
}

// RunawayRemoteHandlers makes intentType's remote handlers ignore their
// context; "" ends that, and the runs it holds.
func (t *chaosNATSTarget) RunawayRemoteHandlers(intentType string) {
	var next *remoteRunaway
	if intentType != "" {
		next = &remoteRunaway{typ: intentType, release: make(chan struct{})}
	}
	if prev := t.remote.runaway.Swap(next); prev != nil {
		close(prev.release)
	}
}

// PublishRemoteMesh publishes n events on topic from the remote side, as
// another process's bridge would, paced at perSecond in 10 ms batches,
// then flushes them to the server.
func (t *chaosNATSTarget) PublishRemoteMesh(ctx context.Context, topic string, n int, perSecond float64) (int, error) {
	const batchEvery = 10 * time.Millisecond
	sent := 0
	send := func(k int) error {
		for range k {
			ev := mesh.Event{Topic: topic, Source: "chaos.remote_storm", Fields: map[string]string{"seq": fmt.Sprint(sent + 1)}}
			if err := dist.PublishMeshEvent(t.remote.pub, chaosRemoteOrigin, ev); err != nil {
				return err
			}
			sent++
		}
		return ctx.Err()
	}
	if perSecond <= 0 {
		if err := send(n); err != nil {
			return sent, err
		}
	} else {
		tick := time.NewTicker(batchEvery)
		defer tick.Stop()
		perBatch, carry := perSecond*batchEvery.Seconds(), 0.0
		for sent < n {
			select {
			case <-ctx.Done():
				return sent, ctx.Err()
			case <-tick.C:
			}
			carry += perBatch
			k := min(int(carry), n-sent)
			carry -= float64(k)
			if err := send(k); err != nil {
				return sent, err
			}
		}
	}
	if err := t.remote.pub.FlushTimeout(5 * time.Second); err != nil {
		return sent, fmt.Errorf("flush the mesh events to %s: %w", t.remote.url, err)
	}
	return sent, nil
}

// MeshInbound reads the engine's bridge's inbound counts.
func (t *chaosNATSTarget) MeshInbound() chaos.MeshInbound {
	if t.cp.bridge == nil {
		return chaos.MeshInbound{}
	}
	s := t.cp.bridge.Stats()
	return chaos.MeshInbound{Received: s.Received, Dropped: s.DroppedInbound}
}
