package chaos

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"grace/engine"
	"grace/engine/intent"
	"grace/engine/policy"
)

// The fault kinds a scenario may name.
const (
	FaultFloodIntake    = "flood_intake"
	FaultFloodMesh      = "flood_mesh"
	FaultPauseScheduler = "pause_scheduler"
	FaultPolicyCascade  = "policy_cascade"
	FaultKillWorkers    = "kill_workers"
	FaultCancelRunning  = "cancel_running"
	FaultPauseType      = "pause_type"
	FaultRunawayHandler = "runaway_handler"
)

// The intent types of a pause_type fault: the one paused, and the one
// that must go on flowing beside it.
const (
	pausedLoadType = "generate_summary"
	flowingType    = "query_knowledge"
	// runawayType's handlers ignore being told to stop (runaway_handler).
	runawayType = "generate_summary"
)

// faultKind is what the runner knows of one fault kind: the parameters it
// reads (required unless listed in optional), how it shapes the isolated
// engine's config, and how it is injected.
type faultKind struct {
	params    []string
	optional  []string
	configure func(cfg *engine.Config, sc *Scenario, d int)
	inject    func(ctx context.Context, r *run, f Fault) error
}

// faultKinds are the fault kinds by name.
var faultKinds = map[string]faultKind{
	FaultFloodIntake: {
		params: []string{"intents", "invalid_share"},
		optional: []string{"actors", "concurrency", "rate_limit_per_second", "rate_limit_burst", "retry", "invalid_actors",
			"priority", "handler_latency_ms", "queue_critical", "shed_age_ms"},
		configure: func(cfg *engine.Config, sc *Scenario, d int) {
			// The engine under test may be given its intake rate, so that
			// the flood outruns it however fast this machine submits.
			if _, ok := sc.Parameters["rate_limit_per_second"]; ok {
				cfg.HTM.RateLimit.GlobalRate = sc.value("rate_limit_per_second", d)
			}
			if _, ok := sc.Parameters["rate_limit_burst"]; ok {
				cfg.HTM.RateLimit.GlobalBurst = sc.intValue("rate_limit_burst", d)
			}
			// And its queue's critical depth and shedding criteria, so that
			// a flood of seconds can take the queue past critical with
			// work stale enough to shed.
			configureShedding(cfg, sc, d)
		},
		inject: injectFloodIntake,
	},
	FaultFloodMesh: {
		params: []string{"events", "events_per_second"},
		inject: injectFloodMesh,
	},
	FaultPauseScheduler: {
		params: []string{"queued", "auto_resume_after_ms"},
		configure: func(cfg *engine.Config, sc *Scenario, d int) {
			cfg.Scheduler.AutoResumeAfter = time.Duration(sc.intValue("auto_resume_after_ms", d)) * time.Millisecond
		},
		inject: injectPause,
	},
	FaultPolicyCascade: {
		params:    []string{"depth"},
		configure: configureCascade,
		inject:    injectCascade,
	},
	FaultKillWorkers: {
		params: []string{"workers", "kill_share", "tasks", "handler_latency_ms"},
		configure: func(cfg *engine.Config, sc *Scenario, d int) {
			n := max(sc.intValue("workers", d), 1)
			cfg.Workers.Count = n
			cfg.Workers.MaxCount = max(cfg.Workers.MaxCount, n)
		},
		inject: injectKillWorkers,
	},
	FaultCancelRunning: {
		params:   []string{"cancel_share"},
		optional: []string{"tasks", "handler_latency_ms"},
		inject:   injectCancelRunning,
	},
	FaultPauseType: {
		params: []string{"queued", "flowing", "auto_resume_after_ms"},
		configure: func(cfg *engine.Config, sc *Scenario, d int) {
			cfg.Scheduler.AutoResumeAfter = time.Duration(sc.intValue("auto_resume_after_ms", d)) * time.Millisecond
		},
		inject: injectPauseType,
	},
	FaultRunawayHandler: {
		params: []string{"workers", "flowing", "task_timeout_ms", "abandon_after_ms"},
		configure: func(cfg *engine.Config, sc *Scenario, d int) {
			// A pool of fixed size: the hub may not add the workers the
			// runaways hold.
			n := max(sc.intValue("workers", d), 1)
			cfg.Workers.Count, cfg.Workers.MaxCount = n, n
			cfg.Workers.TaskTimeout = time.Duration(sc.intValue("task_timeout_ms", d)) * time.Millisecond
			cfg.Workers.AbandonAfter = time.Duration(sc.intValue("abandon_after_ms", d)) * time.Millisecond
		},
		inject: injectRunawayHandler,
	},
}

// FaultKinds lists the fault kinds a scenario may name, sorted.
func FaultKinds() []string { return sortedKeys(faultKinds) }

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// injectFloodIntake floods the intake. With handler_latency_ms the
// handlers are slowed first (rolled back after the run), so that the
// workers cannot keep up with the flood and its backlog stands in the
// queue; the deepest queue seen is noted.
func injectFloodIntake(ctx context.Context, r *run, f Fault) error {
	spec := engine.FloodSpec{
		Count: r.intParam("intents"), InvalidShare: r.param("invalid_share"),
		Actors: max(r.intParam("actors"), 1), Concurrency: r.intParam("concurrency"), Priority: 5,
		Retry: r.param("retry") > 0, InvalidActors: r.intParam("invalid_actors"),
	}
	if _, ok := r.sc.Parameters["priority"]; ok {
		spec.Priority = r.intParam("priority")
	}
	if lat := time.Duration(r.intParam("handler_latency_ms")) * time.Millisecond; lat > 0 {
		if err := r.eng.InjectHandlerFault(ctx, "*", engine.HandlerFault{Latency: lat}); err != nil {
			return err
		}
		r.needClearHandlers = true
	}
	stopSampling := r.sampleDepth()
	res, err := r.eng.FloodIntake(ctx, spec)
	deepest := stopSampling()
	r.floods = append(r.floods, floodDone{actors: spec.Actors, accepted: res.Accepted})
	r.notef("flood: %d submitted, %d accepted, %d invalid, %d rate limited (%d retried), %d queue full, %d other in %v; deepest queue %d (critical %d)",
		res.Submitted, res.Accepted, res.Invalid, res.RateLimited, res.Retried, res.QueueFull, res.OtherErrors, res.Duration.Round(time.Millisecond),
		deepest, r.cfg.HTM.CriticalDepth)
	return err
}

// sampleDepth samples the queue's depth every pollEvery until the func
// it returns is called, which returns the deepest seen.
func (r *run) sampleDepth() func() int {
	done := make(chan struct{})
	var deepest atomic.Int64
	var wg sync.WaitGroup
	wg.Go(func() {
		tick := time.NewTicker(pollEvery)
		defer tick.Stop()
		for {
			if d := int64(r.eng.Snapshot().QueueDepth); d > deepest.Load() {
				deepest.Store(d)
			}
			select {
			case <-done:
				return
			case <-tick.C:
			}
		}
	})
	return func() int {
		close(done)
		wg.Wait()
		return max(int(deepest.Load()), r.eng.Snapshot().QueueDepth)
	}
}

func injectFloodMesh(ctx context.Context, r *run, f Fault) error {
	if rm, ok := r.target.(RemoteMeshFaults); ok { // the nats backend: the storm comes over NATS
		return injectFloodRemoteMesh(ctx, r, f, rm)
	}
	rep, err := r.eng.FloodMesh(ctx, engine.MeshFlood{
		Events: r.intParam("events"), PerSecond: r.param("events_per_second"), StallSubscriber: true, Reason: f.Reason,
	})
	r.notef("mesh flood: %d published on %s, %d dropped, bounded %v, in %v", rep.Published, rep.Topic, rep.Dropped, rep.Bounded, rep.Duration.Round(time.Millisecond))
	return err
}

// injectPause pauses the scheduler, then queues the scenario's load behind
// the pause.
func injectPause(ctx context.Context, r *run, f Fault) error {
	if err := r.eng.InjectSchedulerPause(ctx, orDefault(f.Reason, "chaos: pause during load")); err != nil {
		return err
	}
	r.needResume = true
	if err := r.submitLoad(ctx, "pause", r.intParam("queued")); err != nil {
		return err
	}
	r.notef("scheduler paused with %d intents queued behind it (auto resume after %dms)", r.intParam("queued"), r.intParam("auto_resume_after_ms"))
	return nil
}

// injectPauseType pauses one intent type (as an operator would, and then
// forgets it) and queues queued intents of it and flowing intents of
// another type. The other type must flow past the pause: the fault waits
// for those to finish, and while the pause still stands not one intent of
// the paused type may have left the queue. scheduler_auto_resume must then
// undo the forgotten pause (the steady state's drained queue shows the
// held intents ran).
func injectPauseType(ctx context.Context, r *run, f Fault) error {
	reason := orDefault(f.Reason, "chaos: one type paused and forgotten")
	if err := r.eng.PauseType(ctx, "fault_injector", pausedLoadType, reason); err != nil {
		return err
	}
	r.pausedTypes = append(r.pausedTypes, pausedLoadType)
	held, err := r.submitLoadOf(ctx, "held", pausedLoadType, r.intParam("queued"))
	if err != nil {
		return err
	}
	flowing, err := r.submitLoadOf(ctx, "flowing", flowingType, r.intParam("flowing"))
	if err != nil {
		return err
	}
	done := func(id string) bool {
		in, err := r.eng.Get(ctx, id)
		return err == nil && in.State.Terminal()
	}
	if err := r.waitFor(ctx, r.deadline, func() bool { return allOf(flowing, done) }); err != nil {
		r.failf("isolation: the %d %s intents did not all finish while %s was paused: %v", len(flowing), flowingType, pausedLoadType, err)
		return nil
	}
	stillPaused := slices.ContainsFunc(r.eng.PausedTypes(), func(t engine.TypePause) bool { return t.Type == pausedLoadType })
	if !stillPaused {
		r.notef("%s's pause ended before the %d %s intents finished: isolation not observed this run", pausedLoadType, len(flowing), flowingType)
		return nil
	}
	left := 0
	for _, id := range held {
		if in, err := r.eng.Get(ctx, id); err != nil || in.State != intent.StateQueued {
			left++
		}
	}
	// The type may be resumed between the look at its pause and the
	// looks at its intents: only an intent that left with the pause
	// still standing after them is a breach.
	if left > 0 && slices.ContainsFunc(r.eng.PausedTypes(), func(t engine.TypePause) bool { return t.Type == pausedLoadType }) {
		r.failf("isolation: %d of the %d %s intents left the queue while their type was paused", left, len(held), pausedLoadType)
		return nil
	}
	r.notef("%s paused: all %d %s intents finished past it while its %d intents waited (auto resume after %dms)",
		pausedLoadType, len(flowing), flowingType, len(held), r.intParam("auto_resume_after_ms"))
	return nil
}

// injectRunawayHandler makes runawayType's handlers ignore being told to
// stop (until the rollback clears the fault), has one of them take every
// worker, then submits flowing intents of another type. The run fails if
// those do not finish (the runaways kept the workers) or if a runaway's
// intent does not end failed: retried, it could run twice at once.
func injectRunawayHandler(ctx context.Context, r *run, f Fault) error {
	if rw, ok := r.target.(RemoteWorkerFaults); ok {
		// The nats backend: the handlers that run on the remote workers
		// ignore their cancel, so both ends must give up on them.
		if err := r.recordFault(ctx, "remote_workers", "handler_fault", "remote handlers ignore being told to stop",
			fmt.Sprintf("%s handlers on the remote workers run until cleared, whatever their timeout or a cancel says", runawayType),
			map[string]any{"type": runawayType, "ignore_cancel": true}); err != nil {
			return err
		}
		rw.RunawayRemoteHandlers(runawayType)
		r.needClearRemote = true
	} else {
		if err := r.eng.InjectHandlerFault(ctx, runawayType, engine.HandlerFault{Latency: time.Hour, IgnoreCancel: true}); err != nil {
			return err
		}
		r.needClearHandlers = true
	}
	workers := r.intParam("workers")
	stuck, err := r.submitLoadOf(ctx, "runaway", runawayType, workers)
	if err != nil {
		return err
	}
	if err := r.waitFor(ctx, 5*time.Second, func() bool { return r.eng.Snapshot().WorkersBusy >= workers }); err != nil {
		return fmt.Errorf("wait for the %d runaways to take every worker: %w", workers, err)
	}
	flowing, err := r.submitLoadOf(ctx, "flowing", flowingType, r.intParam("flowing"))
	if err != nil {
		return err
	}
	state := func(id string) intent.State {
		if in, err := r.eng.Get(ctx, id); err == nil {
			return in.State
		}
		return ""
	}
	done := func(id string) bool { return state(id).Terminal() }
	if err := r.waitFor(ctx, r.deadline, func() bool { return allOf(flowing, done) }); err != nil {
		left := 0
		for _, id := range flowing {
			if !done(id) {
				left++
			}
		}
		r.failf("runaway handlers: %d of the %d %s intents did not finish while %d %s handlers ran on past being told to stop: the workers stayed held",
			left, len(flowing), flowingType, len(stuck), runawayType)
		return nil
	}
	notFailed := 0
	for _, id := range stuck {
		if state(id) != intent.StateFailed {
			notFailed++
		}
	}
	if notFailed > 0 {
		r.failf("runaway handlers: %d of the %d abandoned %s intents did not end failed", notFailed, len(stuck), runawayType)
		return nil
	}
	r.notef("%d %s handlers ignored their %dms timeout; abandoned after %dms, their intents failed and all %d %s intents finished on the freed workers",
		len(stuck), runawayType, r.intParam("task_timeout_ms"), r.intParam("abandon_after_ms"), len(flowing), flowingType)
	return nil
}

// allOf reports whether ok holds for every id.
func allOf(ids []string, ok func(string) bool) bool {
	for _, id := range ids {
		if !ok(id) {
			return false
		}
	}
	return true
}

// cascadeTopic is the topic of a cascade's level i.
func cascadeTopic(i int) string { return fmt.Sprintf("chaos.cascade.l%d", i) }

// configureCascade declares a chain of rules, each emitting on the next
// level's topic: one event on level 0 cascades depth levels deep.
func configureCascade(cfg *engine.Config, sc *Scenario, d int) {
	depth := max(sc.intValue("depth", d), 1)
	rules := make(map[string]policy.RuleConfig, len(cfg.Policy.Rules)+depth)
	for k, v := range cfg.Policy.Rules {
		rules[k] = v
	}
	topics := append([]string(nil), cfg.Mesh.Topics...)
	for i := range depth + 1 {
		topics = append(topics, cascadeTopic(i))
	}
	for i := range depth {
		rules[fmt.Sprintf("chaos_cascade_l%d", i)] = policy.RuleConfig{Topic: cascadeTopic(i), Action: policy.ActionEmit,
			Emit: cascadeTopic(i + 1), Fields: map[string]string{"level": fmt.Sprint(i + 1)}}
	}
	cfg.Mesh.Topics, cfg.Policy.Rules = topics, rules
}

func injectCascade(ctx context.Context, r *run, f Fault) error {
	rep, err := r.eng.FloodMesh(ctx, engine.MeshFlood{Topic: cascadeTopic(0), Events: 1, Reason: orDefault(f.Reason, "chaos: policy cascade")})
	r.notef("cascade: %d event(s) published on %s", rep.Published, rep.Topic)
	return err
}

// injectKillWorkers slows the handlers so that the load keeps the workers
// busy, queues it, and kills kill_share of the busy workers, chosen at
// random.
func injectKillWorkers(ctx context.Context, r *run, f Fault) error {
	if rw, ok := r.target.(RemoteWorkerFaults); ok { // the nats backend: the workers are remote
		return injectKillRemoteWorkers(ctx, r, f, rw)
	}
	if err := r.slowLoad(ctx, "dropout"); err != nil {
		return err
	}
	want := int(float64(r.intParam("workers"))*r.param("kill_share") + 0.5)
	busy, err := r.pickBusy(ctx, want, "workers", func() (names []string) {
		for _, w := range r.eng.Snapshot().Workers {
			if w.Busy {
				names = append(names, w.Name)
			}
		}
		return names
	})
	if err != nil {
		return err
	}
	r.noteHeld(busy)
	for _, name := range busy {
		if err := r.eng.KillWorker(ctx, name, orDefault(f.Reason, "chaos: worker dropout")); err != nil {
			return err
		}
		r.killed = append(r.killed, name)
	}
	r.notef("killed %d of %d workers: %v", want, r.intParam("workers"), busy[:want])
	return nil
}

// injectCancelRunning cancels cancel_share of the run's intents that
// workers are running, and as large a share of those still queued, as an
// operator withdrawing work would. When no earlier fault of the scenario
// submitted load, or none of it is queued or on a live worker, it submits tasks intents
// itself, with handlers slowed by handler_latency_ms so that some are
// running. An intent that finished while being cancelled is left alone.
func injectCancelRunning(ctx context.Context, r *run, f Fault) error {
	if len(r.submitted) == 0 || !r.anyWithdrawable(ctx) {
		// No load yet, or none of the earlier fault's is queued or on a
		// live worker any more (a slow machine took long between the
		// faults: the rest finished, and a dead worker's task waits to
		// be taken back): submit work to withdraw.
		if err := r.slowLoad(ctx, "cancel"); err != nil {
			return err
		}
	}
	ours := make(map[string]bool, len(r.submitted))
	for _, id := range r.submitted {
		ours[id] = true
	}
	running, err := r.pickBusy(ctx, 1, "workers running the run's intents", func() (ids []string) {
		for _, w := range r.eng.Snapshot().Workers {
			if w.Busy && ours[w.IntentID] {
				ids = append(ids, w.IntentID)
			}
		}
		return ids
	})
	if err != nil {
		return err
	}
	var queued []string
	for _, w := range r.eng.Snapshot().Workers {
		if w.Busy && ours[w.IntentID] && !slices.Contains(running, w.IntentID) {
			running = append(running, w.IntentID)
		}
	}
	for _, id := range r.submitted {
		if in, err := r.eng.Get(ctx, id); err == nil && in.State == intent.StateQueued && !slices.Contains(running, id) {
			queued = append(queued, id)
		}
	}
	// One task of a worker killed earlier in the run is left alone, so
	// that taking a dead worker's task back is proven beside the cancels
	// (were every such task cancelled, nothing would be left to take).
	kept := ""
	for _, id := range r.killedHeld {
		if slices.Contains(running, id) || slices.Contains(queued, id) {
			kept = id
			running = slices.DeleteFunc(running, func(s string) bool { return s == id })
			queued = slices.DeleteFunc(queued, func(s string) bool { return s == id })
			break
		}
	}
	share := r.param("cancel_share")
	reason := orDefault(f.Reason, "chaos: work withdrawn")
	cancel := func(ids []string) (n int, err error) {
		rand.Shuffle(len(ids), func(i, j int) { ids[i], ids[j] = ids[j], ids[i] })
		for _, id := range ids[:max(int(float64(len(ids))*share+0.5), min(len(ids), 1))] {
			switch _, err := r.eng.Cancel(ctx, id, "chaos", reason); {
			case err == nil:
				r.cancelled = append(r.cancelled, id)
				n++
			case !errors.Is(err, engine.ErrNotCancellable): // finished meanwhile: its outcome stands
				return n, err
			}
		}
		return n, nil
	}
	nr, err := cancel(running)
	if err != nil {
		return err
	}
	nq, err := cancel(queued)
	if err != nil {
		return err
	}
	r.notef("cancelled %d of %d running and %d of %d queued intents", nr, len(running), nq, len(queued))
	if kept != "" {
		r.notef("left %s, which a killed worker held, uncancelled: its worker's death must be answered by taking it back", kept)
	}
	return nil
}

// noteHeld adds to killedHeld the intents the workers called names hold
// now, as the engine's snapshot shows them (on the nats backend, as their
// last heartbeats do): called just before they are killed.
func (r *run) noteHeld(names []string) {
	for _, w := range r.eng.Snapshot().Workers {
		if w.Busy && w.IntentID != "" && slices.Contains(names, w.Name) {
			r.killedHeld = append(r.killedHeld, w.IntentID)
		}
	}
}

// slowLoad slows every handler by handler_latency_ms (rolled back after
// the run) and submits tasks intents tagged tag, so that the workers stay
// busy while a fault strikes.
func (r *run) slowLoad(ctx context.Context, tag string) error {
	lat := time.Duration(r.intParam("handler_latency_ms")) * time.Millisecond
	if err := r.eng.InjectHandlerFault(ctx, "*", engine.HandlerFault{Latency: lat}); err != nil {
		return err
	}
	r.needClearHandlers = true
	return r.submitLoad(ctx, tag, r.intParam("tasks"))
}

// anyWithdrawable reports whether an intent the run submitted is queued
// or being run by a live worker: what cancel_running can withdraw.
func (r *run) anyWithdrawable(ctx context.Context) bool {
	ours := make(map[string]bool, len(r.submitted))
	for _, id := range r.submitted {
		ours[id] = true
	}
	for _, w := range r.eng.Snapshot().Workers {
		if w.Busy && ours[w.IntentID] {
			return true
		}
	}
	for _, id := range r.submitted {
		if in, err := r.eng.Get(ctx, id); err == nil && in.State == intent.StateQueued {
			return true
		}
	}
	return false
}

// pickBusy waits (up to 5 s) until busyNow names at least want busy
// workers, and returns want of them chosen at random.
func (r *run) pickBusy(ctx context.Context, want int, what string, busyNow func() []string) ([]string, error) {
	var busy []string
	if err := r.waitFor(ctx, 5*time.Second, func() bool {
		busy = busyNow()
		return len(busy) >= want
	}); err != nil {
		return nil, fmt.Errorf("wait for %d busy %s (have %d): %w", want, what, len(busy), err)
	}
	rand.Shuffle(len(busy), func(i, j int) { busy[i], busy[j] = busy[j], busy[i] })
	return busy[:want], nil
}

// submitLoad submits n query_knowledge intents, spread over actors so that
// the per-actor rate limit does not refuse them (and waiting as told when
// the limit on all actors together does), and keeps their IDs.
func (r *run) submitLoad(ctx context.Context, tag string, n int) error {
	_, err := r.submitLoadOf(ctx, tag, flowingType, n)
	return err
}

// submitLoadOf submits n intents of type typ, as submitLoad does, and
// returns their IDs.
func (r *run) submitLoadOf(ctx context.Context, tag, typ string, n int) ([]string, error) {
	actors := max(n/100, 1)
	ids := make([]string, 0, n)
	for i := range n {
		sub := intent.Submission{Type: typ, Actor: fmt.Sprintf("chaos.%s_%d", tag, i%actors+1),
			Priority: 5, Payload: []byte(fmt.Sprintf(`{"chaos":%q,"n":%d}`, tag, i))}
		res, err := r.eng.Submit(ctx, sub)
		for rl := (*engine.RateLimitError)(nil); errors.As(err, &rl); {
			// Past the intake's rate limit (all actors together: a fast
			// machine submits thousands a second): a well-behaved client
			// waits as told and submits again. This load is the
			// scenario's backdrop, not its fault.
			wait := time.NewTimer(max(rl.RetryAfter, time.Millisecond))
			select {
			case <-ctx.Done():
				wait.Stop()
				return ids, fmt.Errorf("submit load %d of %d: %w", i+1, n, ctx.Err())
			case <-wait.C:
			}
			res, err = r.eng.Submit(ctx, sub)
		}
		if err != nil {
			return ids, fmt.Errorf("submit load %d of %d: %w", i+1, n, err)
		}
		r.submitted = append(r.submitted, res.Intent.ID)
		ids = append(ids, res.Intent.ID)
	}
	return ids, nil
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
