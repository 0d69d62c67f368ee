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

// Run boots the kernels in dependency order and runs the heartbeat checks
// until ctx is cancelled; then it stops every kernel and waits for them.
// A control plane runs once.
func (cp *ControlPlane) Run(ctx context.Context) error {
	cp.mu.Lock()
	if cp.ran {
		cp.mu.Unlock()
		return errors.New("run control plane: already ran")
	}
	cp.ran, cp.runCtx = true, ctx
	now := cp.clock.Now()
	cp.runID, cp.lastCheck = now.UnixNano(), now
	t := cp.clock.NewTicker(cp.cfg.HeartbeatInterval)
	for _, n := range cp.order {
		cp.launchLocked(cp.kernels[n], now)
	}
	cp.mu.Unlock()

	for done := false; !done; {
		select {
		case <-ctx.Done():
			done = true
		case now := <-t.C():
			cp.check(ctx, now)
		}
	}
	t.Stop()
	cp.mu.Lock()
	cp.closing = true
	for _, k := range cp.kernels {
		for _, w := range k.waiters {
			close(w.ch)
		}
		k.waiters = nil
	}
	cp.mu.Unlock()
	cp.wg.Wait()
	return nil
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
	idle := &atomic.Bool{}
	k.cancel, k.done, k.faults, k.idle, k.stopBy = cancel, done, faults, idle, ""
	k.missed, k.beatSeen = 0, true
	k.setState(StateRunning, now)
	cp.wg.Go(func() {
		defer close(done)
		exit := cp.runKernel(ctx, k, inc, faults, idle)
		cancelled := ctx.Err() != nil
		cancel()
		cp.exited(k, exit, cancelled)
	})
	return true
}

// exited handles the end of an incarnation: a stop (cancelled, no panic)
// or a failure, which is analysed, narrated and announced, and for a
// non-critical kernel with kernel_auto_recovery on, followed by a restart.
func (cp *ControlPlane) exited(k *kernel, exit Exit, cancelled bool) {
	cp.mu.Lock()
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

// restartDue restarts, at a heartbeat check, a non-critical kernel whose
// supervisor restart is due (kernels.restart_backoff after it failed or
// was found hung) and whose dependencies run; with a dependency down it
// tries again a backoff later. The restart itself runs on a goroutine of
// its own (it waits for the old incarnation to stop).
func (cp *ControlPlane) restartDueLocked(k *kernel, now time.Time) {
	if k.restartAt.IsZero() || now.Before(k.restartAt) || cp.closing {
		return
	}
	if k.state != StateFailed && k.state != StateUnresponsive {
		k.restartAt = time.Time{}
		return
	}
	if dep := cp.depNotRunningLocked(k); dep != "" {
		k.restartAt = now.Add(cp.cfg.RestartBackoff)
		return
	}
	k.restartAt = time.Time{}
	ctx := cp.runCtx
	cp.wg.Go(func() {
		inc, err := cp.restart(ctx, k, cp.stopTimeout())
		if err != nil {
			cp.log.Warn("supervisor restart failed", "kernel", k.name, "err", err)
			return
		}
		cp.mu.Lock()
		diag := k.diagnosis
		cp.mu.Unlock()
		cp.record(restartedRecord(cp.clock.Now(), k.name, inc, diag, cp.cfg.RestartBackoff))
	})
}

// stopTimeout bounds the wait for an incarnation to stop in a supervisor
// restart.
func (cp *ControlPlane) stopTimeout() time.Duration {
	return cp.cfg.HeartbeatInterval * time.Duration(cp.cfg.MissedAfter)
}

// restart stops k's current incarnation, waiting up to timeout for its
// goroutine to end, and starts a new one, whose number it returns.
func (cp *ControlPlane) restart(ctx context.Context, k *kernel, timeout time.Duration) (int, error) {
	cp.mu.Lock()
	cancel, done, old := k.cancel, k.done, k.incarnation
	cp.mu.Unlock()
	if cancel != nil {
		cancel()
	}
	if done != nil {
		select {
		case <-done:
		case <-cp.clock.After(timeout):
			return 0, fmt.Errorf("incarnation %d of kernel %s did not stop within %v", old, k.name, timeout)
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	}
	cp.mu.Lock()
	defer cp.mu.Unlock()
	if !cp.launchLocked(k, cp.clock.Now()) {
		return 0, ErrStopping
	}
	k.restarts++
	return k.incarnation, nil
}

// depDown returns a dependency of the kernel that has been down for
// kernels.missed_after heartbeat intervals, or "".
func (cp *ControlPlane) depDown(name string) string {
	cp.mu.Lock()
	defer cp.mu.Unlock()
	grace := cp.stopTimeout()
	now := cp.clock.Now()
	for _, d := range cp.kernels[name].spec.DependsOn {
		if dk := cp.kernels[d]; dk.down() && now.Sub(dk.since) >= grace {
			return d
		}
	}
	return ""
}

// depNotRunningLocked returns a dependency that is not running, or "".
func (cp *ControlPlane) depNotRunningLocked(k *kernel) string {
	for _, d := range k.spec.DependsOn {
		if cp.kernels[d].down() {
			return d
		}
	}
	return ""
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
