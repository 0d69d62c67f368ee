package engine

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync/atomic"
	"time"

	"grace/engine/intent"
	"grace/engine/watchdog"
)

// HealthReport is the Layer 2 watchdog's latest verdict: per component its
// status, reason, readiness and SLO breaches, the burn rate of each SLO,
// boot readiness, and the alerts firing. Snapshot carries it as Health.
type HealthReport = watchdog.Report

// HealthAPI is the watchdog's part of the engine's API, apart from
// OperatorAPI so that its other implementations keep compiling. *Engine
// implements it.
type HealthAPI interface {
	// Health returns the watchdog's latest verdict, without I/O.
	Health() HealthReport
	// Alerts returns the alerts firing (firing true) or the alert history,
	// newest first.
	Alerts(ctx context.Context, firing bool) ([]watchdog.Alert, error)
	// TelemetryHistory returns stored telemetry snapshots, newest first.
	TelemetryHistory(ctx context.Context, q watchdog.TelemetryQuery) ([]watchdog.Telemetry, error)
}

var _ HealthAPI = (*Engine)(nil)

// watch is the engine's side of the Layer 2 watchdog: the objectives and
// histograms the engine feeds from its hot paths, and the watchdog itself
// once Start has made it.
type watch struct {
	history watchdog.History
	extra   []watchdog.Component
	// dispatchSLO counts dispatches within watchdog.slo.dispatch_latency.threshold
	// of the intent becoming ready; intakeSLO counts valid submissions
	// accepted versus refused by Grace (a full queue, a store failure).
	dispatchSLO, intakeSLO *watchdog.SLO
	// dispatchLatency is the time from ready to dispatch; taskDuration a
	// handler's run time.
	dispatchLatency, taskDuration *watchdog.Histogram
	// refused counts submissions refused for a full queue.
	refused atomic.Uint64
	// startedAt (unix nanoseconds) is when this engine began to dispatch:
	// an intent ready before it waited for no engine (written while none
	// ran, or left by the one before), so its dispatch latency counts
	// from then.
	startedAt atomic.Int64
	wd        atomic.Pointer[watchdog.Watchdog]
	// reported is the health last reported to the hub per component; the
	// watchdog's goroutine alone touches it (publishTelemetry).
	reported map[string]bool
}

// newWatch prepares the watchdog's engine side; Start makes the watchdog.
// History defaults to the store when it keeps one.
func newWatch(cfg Config, deps Deps) *watch {
	h := deps.History
	if h == nil {
		h, _ = deps.Store.(watchdog.History)
	}
	slo := cfg.Watchdog.SLO
	return &watch{
		history: h,
		extra:   deps.Components,
		dispatchSLO: watchdog.NewSLO("dispatch_latency", watchdog.NameScheduler,
			fmt.Sprintf("%g%% of dispatches within %s of the intent becoming ready", 100*slo.DispatchLatency.Objective, slo.DispatchLatency.Threshold),
			slo.DispatchLatency.Objective, slo.Period),
		intakeSLO: watchdog.NewSLO("intake_errors", watchdog.NameHTM,
			fmt.Sprintf("%g%% of valid submissions accepted (refusals for a full queue or a store failure are errors; invalid input is not)", 100*slo.IntakeErrors.Objective),
			slo.IntakeErrors.Objective, slo.Period),
		dispatchLatency: watchdog.NewHistogram(watchdog.LatencyBuckets),
		taskDuration:    watchdog.NewHistogram(watchdog.LatencyBuckets),
		reported:        make(map[string]bool),
	}
}

// checkComponents refuses extra components that are unnamed, have no check,
// or take a name already watched.
func checkComponents(comps []watchdog.Component) error {
	seen := map[string]bool{watchdog.NameHTM: true, watchdog.NameScheduler: true, watchdog.NameMesh: true, watchdog.NamePolicy: true}
	for _, c := range comps {
		switch {
		case c.Name == "" || c.Check == nil:
			return errors.New("deps.Components: a component needs a name and a check")
		case seen[c.Name]:
			return fmt.Errorf("deps.Components: %s is already watched", c.Name)
		}
		seen[c.Name] = true
	}
	return nil
}

// startWatch makes the watchdog over the engine's components, probes their
// readiness once (so that Snapshot shows it when Start returns) and runs
// the watchdog until ctx ends. It is called by Start, after the loops it
// watches have started.
func (e *Engine) startWatch(ctx context.Context) {
	if err := e.declareWatchTopics(); err != nil { // constant, valid names: cannot fail
		e.log.Error("watchdog: declare mesh topics", "err", err)
	}
	wd, err := watchdog.New(e.cfg.Watchdog, e.watchComponents(), []*watchdog.SLO{e.watch.dispatchSLO, e.watch.intakeSLO},
		watchdog.Options{Clock: e.clock, Logger: e.log, Journal: watchJournal{e}, History: e.watch.history,
			Publish: e.publishTelemetry, OnAlert: e.publishAlert})
	if err != nil { // the config and the components were checked by New
		e.log.Error("watchdog not started", "err", err)
		return
	}
	wd.Boot()
	e.watch.wd.Store(wd)
	e.wg.Go(func() { wd.Run(ctx) })
}

// watchComponents lists what the watchdog watches, in the seed's order,
// then Deps.Components.
func (e *Engine) watchComponents() []watchdog.Component {
	t := e.cfg.Watchdog
	comps := []watchdog.Component{
		watchdog.HTMCheck(t.HTM, e.htmFigures),
		watchdog.MeshCheck(t.Mesh, e.meshFigures),
		watchdog.PolicyCheck(t.Policy, e.policyFigures),
		watchdog.SchedulerCheck(t.Scheduler, e.schedulerFigures),
	}
	if e.retainer != nil {
		comps = append(comps, e.retainer.component())
	}
	return append(comps, e.watch.extra...)
}

// Health returns the watchdog's latest verdict. Before Start (and on an
// engine never started) it reports readiness as waiting and no component.
func (e *Engine) Health() HealthReport {
	if wd := e.watch.wd.Load(); wd != nil {
		rep := wd.Report()
		if len(rep.Alerts) > 0 {
			rep.Alerts = slices.Clone(rep.Alerts) // the watchdog's own are shared
			e.markSilenced(rep.Alerts)
		}
		return rep
	}
	return HealthReport{Interval: e.cfg.Watchdog.Interval, Readiness: watchdog.Readiness{State: watchdog.ReadinessWaiting}}
}

// Alerts returns the alerts firing (firing true: from the running
// watchdog, or, on an engine not started, as the store last recorded them)
// or the alert history (firing false: from the store), newest first, at
// most watchdog.DefaultLimit. Without a store that keeps history, only a
// running watchdog's firing alerts are known. A firing alert that an
// active silence mutes carries it (Alert.Silenced).
func (e *Engine) Alerts(ctx context.Context, firing bool) ([]watchdog.Alert, error) {
	if wd := e.watch.wd.Load(); firing && wd != nil {
		return e.Health().Alerts, nil
	}
	if e.watch.history == nil {
		return nil, nil
	}
	as, err := e.watch.history.Alerts(ctx, watchdog.AlertQuery{Firing: firing})
	if err != nil {
		return nil, fmt.Errorf("read alerts: %w", err)
	}
	e.markSilenced(as)
	return as, nil
}

// TelemetryHistory returns the stored telemetry snapshots matching q,
// newest first; none without a store that keeps them.
func (e *Engine) TelemetryHistory(ctx context.Context, q watchdog.TelemetryQuery) ([]watchdog.Telemetry, error) {
	if e.watch.history == nil {
		return nil, nil
	}
	ts, err := e.watch.history.Telemetry(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("read telemetry: %w", err)
	}
	return ts, nil
}

// LatestTelemetry returns the newest telemetry snapshot; false before the
// watchdog's first check.
func (e *Engine) LatestTelemetry() (watchdog.Telemetry, bool) {
	if wd := e.watch.wd.Load(); wd != nil {
		return wd.Latest()
	}
	return watchdog.Telemetry{}, false
}

// observeDispatch feeds the dispatch-latency objective and histogram: the
// time from the intent becoming ready (queued, approved, or its retry
// backoff over: its UpdatedAt or NotBefore, whichever is later, and not
// before this engine started) to now.
// The scheduler calls it before it changes in.
func (e *Engine) observeDispatch(now time.Time, in intent.Intent) {
	ready := in.UpdatedAt
	if in.NotBefore.After(ready) {
		ready = in.NotBefore
	}
	if start := time.Unix(0, e.watch.startedAt.Load()); start.After(ready) {
		ready = start
	}
	wait := now.Sub(ready)
	e.watch.dispatchLatency.Observe(wait)
	e.watch.dispatchSLO.Record(now, wait <= e.cfg.Watchdog.SLO.DispatchLatency.Threshold)
}

// observeRun feeds the task-duration histogram.
func (e *Engine) observeRun(took time.Duration) { e.watch.taskDuration.Observe(took) }

// observeSubmit feeds the intake-error objective with Submit's outcome.
// Invalid input, a rate-limited agent and a caller that gave up are not
// Grace's errors and are not counted; a full queue and any other failure
// are.
func (e *Engine) observeSubmit(err error) {
	var verr *ValidationError
	switch {
	case errors.As(err, &verr), errors.Is(err, ErrRateLimited), errors.Is(err, context.Canceled):
		return
	case errors.Is(err, ErrQueueFull):
		e.watch.refused.Add(1)
	}
	e.watch.intakeSLO.Record(e.clock.Now(), err == nil)
}
