package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"grace/engine/clarity"
	"grace/engine/clock"
	"grace/engine/governance"
	"grace/engine/htm"
	"grace/engine/intent"
	"grace/engine/watchdog"
	"grace/engine/worker"
)

// HandlerSource finds how an intent type is executed: the handler and its
// timeout (0 means workers.task_timeout). *worker.Registry is the
// production source; tests may supply their own.
type HandlerSource interface {
	For(intentType string) (worker.Handler, time.Duration)
}

// Deps are the engine's collaborators. Store and Journal are required;
// Journal and Searcher default to Store when it implements them.
type Deps struct {
	// Store keeps intents durably.
	Store intent.Store
	// Journal writes records that belong to no intent change (rejections).
	Journal clarity.Journal
	// Searcher reads narratives back for Search.
	Searcher clarity.Searcher
	// Auditor verifies the audit chain for VerifyAudit; defaults to Store
	// when it implements Auditor. Without one VerifyAudit returns an error.
	Auditor Auditor
	// Clock tells the time and makes timers; clock.Real{} when nil.
	Clock clock.Clock
	// Logger receives operational logs; discarded when nil.
	Logger *slog.Logger
	// Handlers runs intents; built from cfg.Handlers when nil.
	Handlers HandlerSource
	// Rand returns a number in [0, 1) for retry jitter; math/rand/v2
	// Float64 when nil.
	Rand func() float64
	// History keeps the watchdog's telemetry and alerts; defaults to Store
	// when it implements watchdog.History, else nothing is kept.
	History watchdog.History
	// Components are watched by the watchdog besides the built-in ones.
	Components []watchdog.Component
	// Remote lists workers in other processes (backend.kind nats); Snapshot
	// shows them after the pool's. None when nil.
	Remote RemoteWorkers
	// Silences keeps alert silences; defaults to Store when it implements
	// SilenceStore, else SilenceAlerts refuses (ErrNoSilences).
	Silences SilenceStore
}

// Engine is the orchestration engine. It implements OperatorAPI. Create it
// with New; Start runs it and Stop ends it.
type Engine struct {
	cfg      Config
	store    intent.Store
	journal  clarity.Journal
	searcher clarity.Searcher
	auditor  Auditor
	clock    clock.Clock
	log      *slog.Logger
	router   *governance.Router
	handlers HandlerSource
	rand     func() float64
	remote   RemoteWorkers

	queue     *htm.Queue
	ids       *idGen
	pool      *pool
	stats     *stats
	recent    *ring
	waiters   waiters // WaitFinished's callers
	subs      *fanout
	deadlines *deadlines
	// guard holds the approval rules, masking and the refusal throttle.
	guard *guard
	// watch is the Layer 2 watchdog's engine side (watchdog.go).
	watch *watch
	// sil holds the alert silences (silences.go).
	sil *silencing
	// retainer is the retention loop, nil unless retention.records is set
	// (retention.go); set by Start before the watchdog is made.
	retainer *retainer
	// Layer 2 hardening (orchestration.go): intake rate limits, load
	// shedding, attempt leases, the scheduler's pause, the worker
	// supervisor, the hub's reported facts and the fault hooks.
	limits  *limits
	shed    *shedder
	leases  *leases
	pause   *pauseState
	super   *supervisor
	facts   *hubFacts
	hfaults *handlerFaults
	hangs   *hangs
	// takenBack: attempts taken back from dead workers, not yet ended.
	takenBack takenBack
	l2stats   *layer2Stats
	// running counts the handlers running; runaways are those abandoned
	// by handler_abandonment that have not returned (abandon.go).
	running  handlerRuns
	runaways runaways
	// layers are the trigger mesh, the event policy engine and the
	// Layer 1 control plane (layers.go).
	layers *layers

	// decideMu serialises read-check-write transitions decided by people
	// or timers (approve, deny, expire, review), so that exactly one of two
	// racing decisions wins.
	decideMu sync.Mutex
	// kick wakes the scheduler: new work was queued or a worker was freed.
	kick chan struct{}
	// hold is dispatch holding while no remote worker is live (RemoteFleet).
	hold *remoteHold
	// accepting is true from the start of Start until Stop: queued work is
	// then pushed into the in-memory queue as well as written to the store.
	accepting atomic.Bool
	// ready is true between a successful Start and Stop (Snapshot.Ready);
	// an atomic, so that a snapshot never waits on lifeMu.
	ready atomic.Bool

	lifeMu  sync.Mutex
	started bool
	stopped bool
	cancel  context.CancelFunc
	wg      sync.WaitGroup
}

var (
	_ OperatorAPI = (*Engine)(nil)
	_ Reviewer    = (*Engine)(nil)
)

// New validates cfg and returns an engine that is not yet started. It fails
// with the config key at fault, or when Store or Journal is missing.
func New(cfg Config, deps Deps) (*Engine, error) {
	if deps.Store == nil {
		return nil, errors.New("new engine: deps.Store is required")
	}
	if deps.Journal == nil {
		j, ok := deps.Store.(clarity.Journal)
		if !ok {
			return nil, errors.New("new engine: deps.Journal is required (the store does not implement clarity.Journal)")
		}
		deps.Journal = j
	}
	if deps.Searcher == nil {
		if s, ok := deps.Store.(clarity.Searcher); ok {
			deps.Searcher = s
		}
	}
	if deps.Auditor == nil {
		if a, ok := deps.Store.(Auditor); ok {
			deps.Auditor = a
		}
	}
	if deps.Clock == nil {
		deps.Clock = clock.Real{}
	}
	if deps.Logger == nil {
		deps.Logger = slog.New(slog.DiscardHandler)
	}
	if deps.Rand == nil {
		deps.Rand = rand.Float64
	}
	if err := cfg.validateOwn(); err != nil {
		return nil, fmt.Errorf("new engine: %w", err)
	}
	if err := checkComponents(deps.Components); err != nil {
		return nil, fmt.Errorf("new engine: %w", err)
	}
	router, err := governance.NewRouter(cfg.Governance)
	if err != nil {
		return nil, fmt.Errorf("new engine: %w", err)
	}
	if reg, ok := deps.Handlers.(*worker.Registry); deps.Handlers == nil || (ok && reg == nil) {
		reg, err := worker.NewRegistry(cfg.Handlers, worker.Options{Clock: deps.Clock, Rand: deps.Rand})
		if err != nil {
			return nil, fmt.Errorf("new engine: handlers: %w", err)
		}
		deps.Handlers = reg
	}
	q, err := htm.New(cfg.HTM.Capacity, cfg.HTM.WarnDepth, cfg.HTM.CriticalDepth)
	if err != nil {
		return nil, fmt.Errorf("new engine: %w", err)
	}
	e := &Engine{
		cfg: cfg, store: deps.Store, journal: deps.Journal, searcher: deps.Searcher, auditor: deps.Auditor,
		clock: deps.Clock, log: deps.Logger, router: router, handlers: deps.Handlers, rand: deps.Rand,
		remote:    deps.Remote,
		queue:     q,
		ids:       &idGen{},
		pool:      newPool(cfg.Workers.Count),
		stats:     newStats(),
		recent:    newRing(recentSize),
		subs:      newFanout(nil),
		deadlines: newDeadlines(),
		guard:     newGuard(cfg),
		watch:     newWatch(cfg, deps),
		sil:       newSilencing(deps),
		limits:    newLimits(cfg.HTM.RateLimit),
		shed:      newShedder(cfg.HTM.Shedding),
		leases:    newLeases(),
		pause:     &pauseState{},
		super:     newSupervisor(),
		facts:     newHubFacts(),
		hfaults:   newHandlerFaults(deps.Clock, deps.Rand),
		hangs:     &hangs{by: make(map[string]*workerState)},
		l2stats:   &layer2Stats{},
		kick:      make(chan struct{}, 1),
		hold:      &remoteHold{},
	}
	if f, ok := e.fleet(); ok {
		f.OnLiveChange(e.remoteLiveChanged) // a remote worker joining ends a hold, and is checked at once
	}
	e.subs.mask = func(ev Event) Event {
		ev.Intent = e.guard.mask.intent(ev.Intent)
		return ev
	}
	if err := e.initLayers(); err != nil {
		return nil, fmt.Errorf("new engine: %w", err)
	}
	return e, nil
}

// Start recovers the intents left unfinished by the previous run (see
// recoverUnfinished), then starts the scheduler, the workers, the worker
// supervisor, the HTM protection and hub loops (startOrchestration) and the
// approval expiry loop. They run until ctx is cancelled or Stop is called. Start fails if
// recovery cannot read the store (nothing is left running then), and when
// called twice or after Stop.
func (e *Engine) Start(ctx context.Context) error {
	e.lifeMu.Lock()
	defer e.lifeMu.Unlock()
	switch {
	case e.stopped:
		return fmt.Errorf("start engine: %w (an engine runs once; create a new one)", ErrStopped)
	case e.started:
		return errors.New("start engine: already started")
	}
	if err := e.checkRetentionArchive(); err != nil {
		return fmt.Errorf("start engine: %w", err)
	}
	// Accept pushes before recovery reads the store, so that an intent
	// submitted meanwhile is queued either by its Submit or by recovery
	// (the queue keeps an ID once).
	e.accepting.Store(true)
	if err := e.recoverUnfinished(ctx); err != nil {
		e.accepting.Store(false)
		return fmt.Errorf("start engine: %w", err)
	}
	if err := e.restorePause(ctx); err != nil {
		e.accepting.Store(false)
		return fmt.Errorf("start engine: %w", err)
	}
	if err := e.restoreNamedPauses(ctx); err != nil {
		e.accepting.Store(false)
		return fmt.Errorf("start engine: %w", err)
	}
	if err := e.loadSilences(ctx); err != nil {
		e.accepting.Store(false)
		return fmt.Errorf("start engine: %w", err)
	}
	runCtx, cancel := context.WithCancel(ctx)
	e.cancel = cancel
	e.started = true
	e.startOrchestration(runCtx)
	e.startLayers(runCtx)
	e.wg.Go(func() { e.dispatchLoop(runCtx) })
	ticker := e.clock.NewTicker(e.approvalTick())
	e.wg.Go(func() { e.expiryLoop(runCtx, ticker) })
	e.ready.Store(true)
	e.startRetention(runCtx) // before the watchdog, which watches it
	if e.sil.loaded {
		e.wg.Go(func() { e.silenceLoop(runCtx) })
	}
	e.startWatch(runCtx)
	e.log.Info("engine started", "workers", e.pool.size(), "queued", e.queue.Len(), "pending_approvals", e.deadlines.len())
	return nil
}

// Stop cancels the background loops and running handlers and waits for
// them to return. Intents whose handler was cancelled stay "running" in the
// store; the next Start requeues them (at-least-once). Subscribers' channels
// are closed. Stop on an engine that was never started does nothing more
// than close subscriptions; calling it twice is safe.
func (e *Engine) Stop() {
	e.lifeMu.Lock()
	defer e.lifeMu.Unlock()
	if e.stopped {
		return
	}
	e.stopped = true
	e.ready.Store(false)
	e.accepting.Store(false)
	if e.cancel != nil {
		e.cancel()
	}
	e.wg.Wait()
	// Every handler was told to stop; one that ignores it is not waited
	// for past workers.abandon_after. Its intent stays running in the
	// store, for the next start to requeue.
	if left := e.running.wait(e.cfg.Workers.AbandonAfter); left > 0 {
		e.log.Warn("engine stopped with handlers still running: they ignore their cancellation", "handlers", left,
			"waited", e.cfg.Workers.AbandonAfter)
	}
	e.subs.closeAll()
	if e.started {
		e.log.Info("engine stopped", "queued_in_memory", e.queue.Len())
	}
}

// wake tells the scheduler to look at the queue and the workers again.
func (e *Engine) wake() {
	select {
	case e.kick <- struct{}{}:
	default:
	}
}
