package kernel

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"grace/engine/clarity"
	"grace/engine/clock"
	"grace/engine/intent"
	"grace/engine/mesh"
)

// Errors callers branch on.
var (
	// ErrUnknownKernel: no kernel of that name.
	ErrUnknownKernel = errors.New("no such kernel")
	// ErrNotRunning: a fault aimed at a kernel that is not running.
	ErrNotRunning = errors.New("kernel is not running")
	// ErrStopping: the control plane is shutting down.
	ErrStopping = errors.New("control plane is stopping")
)

// SubmitFunc submits an intent and returns its ID.
type SubmitFunc func(ctx context.Context, sub intent.Submission) (string, error)

// Options are the control plane's collaborators. Zero fields get defaults.
type Options struct {
	// Clock drives heartbeats, checks, backoffs and timeouts;
	// clock.Real{} when nil.
	Clock clock.Clock
	// Record writes a 5W1H record; discarded when nil.
	Record func(clarity.Record)
	// Logger receives operational logs; discarded when nil.
	Logger *slog.Logger
	// Submit submits the emergency_recovery intents; without it the
	// trigger cannot recover anything.
	Submit SubmitFunc
	// NoAutoRecovery switches the kernel_auto_recovery safeguard off.
	NoAutoRecovery bool
	// NoACL switches the bus_acl safeguard off.
	NoACL bool
	// Playbooks holds the built-in playbooks (*.yaml at its root).
	Playbooks fs.FS
	// IntentType checks a playbook's intent type (the engine requires
	// Tier 4); nil accepts any.
	IntentType func(string) error
}

// ControlPlane runs the kernels, the bus, the heartbeat trigger and the
// recovery playbooks. Create it with New; Run runs it.
type ControlPlane struct {
	cfg       Config
	order     []string // boot order
	kernels   map[string]*kernel
	mesh      *mesh.Mesh
	bus       *Bus
	playbooks map[string]*Playbook
	recovery  *Playbook
	clock     clock.Clock
	record    func(clarity.Record)
	log       *slog.Logger
	submit    SubmitFunc
	auto      bool

	mu          sync.Mutex
	runCtx      context.Context
	ran         bool
	closing     bool // no goroutine may start any more
	runID       int64
	lastCheck   time.Time
	incidentSeq int
	wg          sync.WaitGroup
	checks      atomic.Uint64 // heartbeat checks done (tests wait on it)
}

// Check validates cfg and the playbooks against the declared topics,
// naming the key, the file or the step at fault.
func Check(cfg Config, topics *mesh.Catalog, opts Options) error {
	_, _, err := prepare(cfg, topics, opts)
	return err
}

func prepare(cfg Config, topics *mesh.Catalog, opts Options) ([]string, map[string]*Playbook, error) {
	order, cfgErr := cfg.validate(topics)
	pbs, pbErr := LoadPlaybooks(opts.Playbooks, cfg.PlaybooksDir, opts.IntentType)
	if err := errors.Join(cfgErr, pbErr); err != nil {
		return nil, nil, err
	}
	if pbs[cfg.RecoveryPlaybook] == nil {
		return nil, nil, fmt.Errorf("kernels.recovery_playbook (%q) is not a known playbook (known: %s)", cfg.RecoveryPlaybook, playbookIDs(pbs))
	}
	return order, pbs, nil
}

// New declares the control plane's topics on m, checks cfg and the
// playbooks, and subscribes the heartbeat monitor and the control handler.
// Kernels start with Run.
func New(cfg Config, m *mesh.Mesh, opts Options) (*ControlPlane, error) {
	if opts.Clock == nil {
		opts.Clock = clock.Real{}
	}
	if opts.Record == nil {
		opts.Record = func(clarity.Record) {}
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if err := m.Declare(Topics...); err != nil {
		return nil, fmt.Errorf("control plane: %w", err)
	}
	order, pbs, err := prepare(cfg, m.Catalog(), opts)
	if err != nil {
		return nil, err
	}
	cp := &ControlPlane{cfg: cfg, order: order, kernels: map[string]*kernel{}, mesh: m, playbooks: pbs,
		recovery: pbs[cfg.RecoveryPlaybook], clock: opts.Clock, record: opts.Record, log: opts.Logger,
		submit: opts.Submit, auto: !opts.NoAutoRecovery}
	for _, n := range order {
		cp.kernels[n] = newKernel(n, cfg.Kernels[n])
	}
	cp.bus = newBus(cfg, m, cp.kernels, !opts.NoACL, opts.Clock, opts.Record)
	if _, err := m.Subscribe(mesh.Spec{Name: "kernel_heartbeat_monitor", Pattern: TopicHeartbeat,
		Buffer: 8 * max(len(order), 8), Backpressure: mesh.DropOldest}, cp.onBeat); err != nil {
		return nil, fmt.Errorf("control plane: %w", err)
	}
	if _, err := m.Subscribe(mesh.Spec{Name: "control_plane_commands", Pattern: TopicControl,
		Buffer: 256, Backpressure: mesh.DropNewest}, cp.onCommand); err != nil {
		return nil, fmt.Errorf("control plane: %w", err)
	}
	return cp, nil
}

// Bus returns the message bus.
func (cp *ControlPlane) Bus() *Bus { return cp.bus }

// Start boots the kernels in dependency order (each is running when Start
// returns) and starts the heartbeat checks; they run until ctx is
// cancelled, when every kernel stops. Wait waits for them. A control
// plane starts once.
func (cp *ControlPlane) Start(ctx context.Context) error {
	cp.mu.Lock()
	defer cp.mu.Unlock()
	if cp.ran {
		return errors.New("start control plane: already started")
	}
	cp.ran, cp.runCtx = true, ctx
	now := cp.clock.Now()
	cp.runID, cp.lastCheck = now.UnixNano(), now
	t := cp.clock.NewTicker(cp.cfg.HeartbeatInterval)
	for _, n := range cp.order {
		cp.launchLocked(cp.kernels[n], now)
	}
	cp.wg.Go(func() { cp.checkLoop(ctx, t) })
	return nil
}

// Wait waits, once the context given to Start has ended, for every kernel
// and loop of the control plane to stop.
func (cp *ControlPlane) Wait() { cp.wg.Wait() }

// Run is Start, then Wait once ctx has ended.
func (cp *ControlPlane) Run(ctx context.Context) error {
	if err := cp.Start(ctx); err != nil {
		return err
	}
	<-ctx.Done()
	cp.Wait()
	return nil
}

// checkLoop runs the heartbeat checks until ctx ends, then closes the
// control plane: nothing new starts, and recoveries waiting for a
// heartbeat give up.
func (cp *ControlPlane) checkLoop(ctx context.Context, t clock.Ticker) {
	defer t.Stop()
	for done := false; !done; {
		select {
		case <-ctx.Done():
			done = true
		case now := <-t.C():
			cp.check(ctx, now)
		}
	}
	cp.mu.Lock()
	cp.closing = true
	for _, k := range cp.kernels {
		for _, w := range k.waiters {
			close(w.ch)
		}
		k.waiters = nil
	}
	cp.mu.Unlock()
}

// launchLocked starts a new incarnation of k. It does nothing once the
// control plane is closing.
func (cp *ControlPlane) launchLocked(k *kernel, now time.Time) bool {
	if cp.closing || cp.runCtx == nil || cp.runCtx.Err() != nil {
		return false
	}
	k.incarnation++
	inc := k.incarnation
	ctx, cancel := context.WithCancel(cp.runCtx)
	done := make(chan struct{})
	faults := make(chan fault, 1)
	looping := &atomic.Bool{}
	looping.Store(true) // in its loop from launch until it leaves it
	k.cancel, k.done, k.faults, k.looping, k.stopBy = cancel, done, faults, looping, ""
	k.missed, k.beatSeen = 0, true
	k.setState(StateRunning, now)
	cp.wg.Go(func() {
		defer close(done)
		exit := cp.runKernel(ctx, k, inc, faults, looping)
		cancelled := ctx.Err() != nil
		cancel()
		cp.exited(k, exit, cancelled, looping)
	})
	return true
}

// exited handles the end of an incarnation: a stop (cancelled, no panic)
// or a failure, which is analysed, narrated and announced, and for a
// non-critical kernel with kernel_auto_recovery on, followed by a restart.
func (cp *ControlPlane) exited(k *kernel, exit Exit, cancelled bool, looping *atomic.Bool) {
	cp.mu.Lock()
	// Under the lock, so that a check sees at once that it ended, and how.
	looping.Store(false)
	if k.incarnation != exit.Incarnation { // an older incarnation, already replaced
		cp.mu.Unlock()
		return
	}
	if cancelled && exit.Panic == "" && !exit.Exhausted && exit.Dependency == "" {
		exit.StoppedBy = k.stopBy
		k.exit = &exit
		if k.state != StateRecovering {
			k.setState(StateStopped, exit.At)
		}
		cp.mu.Unlock()
		return
	}
	k.exit = &exit
	if k.state != StateRecovering {
		k.setState(StateFailed, exit.At)
	}
	diag := Analyze(cp.evidenceLocked(k, exit.At))
	k.diagnosis = &diag
	restart := !k.spec.Critical && cp.auto && !cp.closing
	if restart {
		k.restartAt = exit.At.Add(cp.cfg.RestartBackoff)
	}
	cp.mu.Unlock()
	cp.record(failedRecord(exit.At, k.name, k.spec.Critical, exit, diag, restart, cp.auto, cp.cfg.RestartBackoff))
	cp.announceFailed(k.name, k.spec.Critical, diag, exit.Incarnation)
}

// evidenceLocked gathers what the analyzer needs about k.
func (cp *ControlPlane) evidenceLocked(k *kernel, now time.Time) Evidence {
	ev := Evidence{Kernel: k.name, Now: now, Exit: k.exit, Beats: append([]Beat(nil), k.beats...), Missed: k.missed,
		Interval: cp.cfg.HeartbeatInterval, MemoryLimitMB: float64(cp.cfg.MemoryLimitMB)}
	if k.state == StateUnresponsive || (k.exit != nil && k.exit.Incarnation != k.incarnation) {
		ev.Exit = nil // the current incarnation has not ended
	}
	for _, d := range k.spec.DependsOn {
		dk := cp.kernels[d]
		ev.Deps = append(ev.Deps, DepState{Name: d, State: dk.state, Since: dk.since})
	}
	return ev
}

// announceFailed publishes kernel.failed.
func (cp *ControlPlane) announceFailed(name string, critical bool, d Diagnosis, inc int) {
	_, _ = cp.mesh.Offer(mesh.Event{Topic: TopicFailed, Source: senderControlPlane, Fields: map[string]string{
		"kernel": name, "critical": fmt.Sprint(critical), "cause": string(d.Cause), "summary": d.Summary, "incarnation": itoa(inc),
	}})
}
