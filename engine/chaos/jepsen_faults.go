package chaos

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"grace/engine"
	"grace/engine/clarity"
	"grace/engine/intent"
	"grace/engine/worker"
)

// The Jepsen fault kinds: each records a history that the invariant
// check gives to porcupine.
const (
	FaultCrashRestart    = "crash_restart"
	FaultStoreStall      = "store_stall"
	FaultPausedApprovals = "paused_approvals"
)

func init() {
	faultKinds[FaultCrashRestart] = faultKind{
		params: []string{"clients", "submissions", "client_interval_ms", "crashes", "tier0_share", "workers", "handler_latency_ms", "settle_ms"},
		configure: func(cfg *engine.Config, sc *Scenario, d int) {
			n := max(sc.intValue("workers", d), 1)
			cfg.Workers.Count, cfg.Workers.MaxCount = n, max(cfg.Workers.MaxCount, n)
			// Slow enough that a crash finds tasks running.
			lat := time.Duration(sc.intValue("handler_latency_ms", d)) * time.Millisecond
			cfg.Handlers = map[string]worker.HandlerConfig{"default": {Kind: "sim", Latency: lat}}
		},
		inject: injectCrashRestart,
	}
	faultKinds[FaultStoreStall] = faultKind{
		params: []string{"clients", "submissions", "client_interval_ms", "stall_ms", "surge", "tier0_share",
			"rate_limit_per_second", "rate_limit_burst", "settle_ms"},
		configure: func(cfg *engine.Config, sc *Scenario, d int) {
			cfg.HTM.RateLimit.GlobalRate = sc.value("rate_limit_per_second", d)
			cfg.HTM.RateLimit.GlobalBurst = sc.intValue("rate_limit_burst", d)
		},
		inject: injectStoreStall,
	}
	faultKinds[FaultPausedApprovals] = faultKind{
		params: []string{"tier0", "operators", "deny_share", "contested_share", "auto_resume_after_ms", "settle_ms"},
		configure: func(cfg *engine.Config, sc *Scenario, d int) {
			cfg.Scheduler.AutoResumeAfter = time.Duration(sc.intValue("auto_resume_after_ms", d)) * time.Millisecond
		},
		inject: injectPausedApprovals,
	}
	Invariants = append(Invariants, InvariantLinearizable)
}

// tier0Types are the seed's Tier 0 intent types, used in turn.
var tier0Types = []string{"grant_permissions", "change_charter", "modify_governance"}

// startJepsen begins the run's history (once).
func (r *run) startJepsen() *jepsenRun {
	if r.jepsen == nil {
		r.jepsen = newJepsenRun(r.eng)
	}
	return r.jepsen
}

// everyNth turns a share into "every nth" (0: never).
func everyNth(share float64) int {
	if share <= 0 {
		return 0
	}
	return max(int(1/share+0.5), 1)
}

// load is the Jepsen clients' submissions: n submissions, every tier0th
// of a Tier 0 type, from clients goroutines (one actor each), each
// acknowledged Tier 0 intent handed to an approver. A call that finds the
// engine down is retried once it is back. interval paces each client
// (0: as fast as acknowledgements come).
type load struct {
	j        *jepsenRun
	tag      string
	n, tier0 int
	readBack bool
	interval time.Duration
	next     atomic.Int64
	acked    atomic.Int64
	approve  chan [2]string
}

func (l *load) run(ctx context.Context, clients int) {
	var wg sync.WaitGroup
	for c := range max(clients, 1) {
		wg.Go(func() { l.client(ctx, c) })
	}
	wg.Wait()
	close(l.approve)
}

func (l *load) client(ctx context.Context, c int) {
	cl := l.j.client()
	var tick *time.Ticker
	if l.interval > 0 {
		tick = time.NewTicker(l.interval)
		defer tick.Stop()
	}
	for ctx.Err() == nil {
		i := int(l.next.Add(1)) - 1
		if i >= l.n {
			return
		}
		if tick != nil {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
		}
		key := fmt.Sprintf("%s-%d", l.tag, i)
		typ, tier0 := "query_knowledge", l.tier0 > 0 && i%l.tier0 == l.tier0-1
		if tier0 {
			typ = tier0Types[i%len(tier0Types)]
		}
		actor := fmt.Sprintf("jepsen.client_%d", c+1)
		for {
			in, err := l.j.submit(ctx, cl, key, typ, actor, tier0)
			if errors.Is(err, errDown) && l.j.node.waitUp(ctx) == nil {
				continue
			}
			if err == nil {
				l.acked.Add(1)
				if l.readBack {
					l.j.read(ctx, cl, key, in.ID, false)
				}
				if in.State == intent.StatePendingApproval {
					l.approve <- [2]string{key, in.ID}
				}
			}
			break
		}
	}
}

// approver approves every Tier 0 intent handed to it, retrying a call
// that found the engine down, until the load is over.
func (l *load) approver(ctx context.Context) {
	cl := l.j.client()
	for a := range l.approve {
		for {
			err := l.j.decide(ctx, cl, a[0], a[1], "jepsen.operator", true)
			if errors.Is(err, errDown) && l.j.node.waitUp(ctx) == nil {
				continue
			}
			break
		}
	}
}

// waitUp waits until the node is up or ctx ends.
func (n *node) waitUp(ctx context.Context) error {
	tick := time.NewTicker(pollEvery / 4)
	defer tick.Stop()
	for {
		n.mu.RLock()
		down := n.down
		n.mu.RUnlock()
		if !down {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
}

// settle waits up to d for every acknowledged intent to reach a terminal
// state, then reads every submission back (the history's final reads).
func (r *run) settle(ctx context.Context, d time.Duration) error {
	j := r.jepsen
	left := append([]string(nil), j.acked...)
	err := r.waitFor(ctx, d, func() bool {
		kept := left[:0]
		for _, id := range left {
			if in, err := r.eng.Get(ctx, id); err != nil || !in.State.Terminal() {
				kept = append(kept, id)
			}
		}
		left = kept
		return len(left) == 0
	})
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if err != nil {
		r.notef("jepsen: %d acknowledged intents not settled within %v", len(left), d)
	}
	if err := j.finalReads(ctx); err != nil {
		return err
	}
	r.submitted = append(r.submitted, j.acked...)
	return nil
}

// injectCrashRestart: clients submit (some Tier 0, approved as they come)
// while workers run slowed handlers; the engine is crashed (stopped hard,
// its running handlers cut off with nothing recorded) and restarted on
// the same database, crashes times, each when tasks are running; then
// every acknowledged intent must complete.
func injectCrashRestart(ctx context.Context, r *run, f Fault) error {
	j := r.startJepsen()
	l := &load{j: j, tag: fmt.Sprintf("crash-%d", j.t0), n: r.intParam("submissions"), tier0: everyNth(r.param("tier0_share")),
		interval: time.Duration(r.intParam("client_interval_ms")) * time.Millisecond, approve: make(chan [2]string, max(r.intParam("submissions"), 1))}
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	wg.Go(func() { l.run(cctx, r.intParam("clients")) })
	wg.Go(func() { l.approver(cctx) })
	crashes := r.intParam("crashes")
	var cerr error
	for c := range crashes {
		// Crash when a share of the load is in and tasks are running.
		want := int64((c + 1) * l.n / (crashes + 1))
		if err := r.waitFor(ctx, 10*time.Second, func() bool {
			return l.acked.Load() >= want && r.eng.Snapshot().WorkersBusy > 0
		}); err != nil && ctx.Err() == nil {
			r.notef("crash %d: no task was running with %d of %d acknowledged; crashing anyway", c+1, l.acked.Load(), l.n)
		}
		if cerr = r.crashRestart(ctx, c+1, orDefault(f.Reason, "chaos: crash and restart")); cerr != nil {
			break
		}
	}
	if cerr != nil {
		cancel()
	}
	wg.Wait()
	if cerr != nil {
		return cerr
	}
	r.notef("crash_restart: %d crashes, %d of %d submissions acknowledged", crashes, l.acked.Load(), l.n)
	return r.settle(ctx, time.Duration(r.intParam("settle_ms"))*time.Millisecond)
}

// crashRestart records the crash, takes the node down, stops the engine
// hard, lets the calls already made return, and restarts the engine on
// the same database.
func (r *run) crashRestart(ctx context.Context, n int, reason string) error {
	j := r.jepsen
	busy := r.eng.Snapshot().WorkersBusy
	rec := clarity.Record{Who: "fault_injector", What: engine.WhatFaultInjected, When: time.Now(), Where: "engine",
		Why: []string{"Fault crash_restart: " + reason,
			fmt.Sprintf("crash %d: the engine stops at once with %d workers busy: no drain, their handlers cut off, nothing recorded for them; a new engine starts on the same database", n, busy)},
		How: "chaos_fault_hook", Result: "injected", Context: map[string]any{"fault": "crash_restart", "crash": n, "workers_busy": busy},
		Confidence: 1, Risk: 0.7, Transparency: clarity.TransparencyComplete}
	if err := r.target.Deps().Journal.Record(ctx, rec); err != nil {
		return fmt.Errorf("crash %d: record the fault: %w", n, err)
	}
	call := now()
	old := j.node.takeDown()
	if rs, ok := r.target.(Restarter); ok {
		rs.Crash() // the backend loses the engine's process first, as in a real crash
	}
	old.Stop()
	j.node.inflight.Wait()
	if err := r.restart(ctx); err != nil {
		return fmt.Errorf("crash %d: %w", n, err)
	}
	j.node.bringUp(r.eng)
	j.crash(call, now(), fmt.Sprintf("crash %d, %d workers busy", n, busy))
	return nil
}

// injectStoreStall: paced clients submit, read each acknowledgement back
// and approve their Tier 0 intents; the store's writer is stalled for
// stall_ms and a surge of submissions arrives meanwhile. No
// acknowledgement may come while the writer is held (it would precede its
// commit), the surge past the rate limit must be refused at once rather
// than wait on the store, and nothing acknowledged may be lost.
func injectStoreStall(ctx context.Context, r *run, f Fault) error {
	j := r.startJepsen()
	n := r.intParam("submissions")
	l := &load{j: j, tag: fmt.Sprintf("stall-%d", j.t0), n: n, tier0: everyNth(r.param("tier0_share")), readBack: true,
		interval: time.Duration(r.intParam("client_interval_ms")) * time.Millisecond, approve: make(chan [2]string, max(n, 1))}
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	wg.Go(func() { l.run(cctx, r.intParam("clients")) })
	wg.Go(func() { l.approver(cctx) })
	if err := r.waitFor(ctx, 10*time.Second, func() bool { return l.acked.Load() >= int64(n/3) }); err != nil {
		cancel()
		wg.Wait()
		return fmt.Errorf("store stall: the load did not start: %w", err)
	}
	stall := time.Duration(r.intParam("stall_ms")) * time.Millisecond
	stallCall := now()
	if err := r.eng.InjectStoreStall(ctx, stall, orDefault(f.Reason, "chaos: stalled store writer")); err != nil {
		cancel()
		wg.Wait()
		return err
	}
	held, end := now(), stallCall+stall.Nanoseconds()
	surge := r.surge(ctx, r.intParam("surge"))
	wg.Wait()
	r.notef("store_stall: writer held %v; %d of %d paced submissions acknowledged; surge of %d: %d refused, %d acknowledged",
		stall, l.acked.Load(), n, len(surge), countRefused(surge), len(surge)-countRefused(surge))
	if err := r.settle(ctx, time.Duration(r.intParam("settle_ms"))*time.Millisecond); err != nil {
		return err
	}
	r.checkStall(held, end)
	return nil
}

// surgeCall is one surge submission as its client saw it.
type surgeCall struct {
	call, ret int64
	refused   bool
}

func countRefused(s []surgeCall) int {
	n := 0
	for _, c := range s {
		if c.refused {
			n++
		}
	}
	return n
}

// surge submits n intents at once, each from a goroutine of its own.
func (r *run) surge(ctx context.Context, n int) []surgeCall {
	j := r.jepsen
	out := make([]surgeCall, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			cl := j.client()
			call := now()
			_, err := j.submit(ctx, cl, fmt.Sprintf("surge-%d-%d", j.t0, i), "query_knowledge", fmt.Sprintf("jepsen.surge_%d", i), false)
			out[i] = surgeCall{call: call, ret: now(), refused: errors.Is(err, engine.ErrRateLimited)}
		})
	}
	wg.Wait()
	return out
}

// checkStall fails the run for an acknowledgement the stalled writer
// cannot have committed (called once the writer was held, returned before
// the stall could end), and for a rate-limit refusal that waited for the
// stalled store.
func (r *run) checkStall(held, end int64) {
	j := r.jepsen
	early := 0
	for _, op := range j.ops {
		in, out := op.Input.(jInput), op.Output.(jOutput)
		if (in.Kind == opSubmit || in.Kind == opApprove || in.Kind == opDeny) && out.Result == outOK &&
			op.Call >= held && op.Return < end {
			early++
			if early <= 3 {
				r.failf("acknowledged before commit: %s of %s returned at +%dms while the writer was held (+%dms to +%dms)",
					in.Kind, in.Key, (op.Return-j.t0)/1e6, (held-j.t0)/1e6, (end-j.t0)/1e6)
			}
		}
	}
	if early > 3 {
		r.failf("acknowledged before commit: %d acknowledgements in all", early)
	}
	waited := 0
	for _, op := range j.ops {
		in, out := op.Input.(jInput), op.Output.(jOutput)
		if in.Kind == opSubmit && out.Result == outRefused && op.Call >= held && op.Call < held+(end-held)/2 && op.Return >= end {
			waited++
		}
	}
	if waited > 0 {
		r.failf("intake protection waited on the stalled store: %d refusals made in the first half of the stall came back only after it", waited)
	}
}

// pausedApprovalsPerAgent is how many Tier 0 intents one agent submits in
// paused_approvals, at once: well within htm.rate_limit.actor_burst (200
// by default).
const pausedApprovalsPerAgent = 50

// injectPausedApprovals: Tier 0 intents wait for a human; the scheduler
// is paused; operators decide them concurrently, several racing on each
// intent (some approve and deny at once): exactly one decision wins, the
// others get ErrNotPending. Once the pause is undone, every approved
// intent runs once and no denied one runs; nothing runs while paused.
func injectPausedApprovals(ctx context.Context, r *run, f Fault) error {
	j := r.startJepsen()
	cl := j.client()
	n := r.intParam("tier0")
	type pendingIntent struct{ key, id string }
	var ins []pendingIntent
	for i := range n {
		key := fmt.Sprintf("approve-%d-%d", j.t0, i)
		// Spread over agents, each within its rate limit's burst: the
		// scenario proves the approvals, not the intake's rate limit, and
		// at a high difficulty one agent's burst would refuse the rest.
		actor := fmt.Sprintf("jepsen.agent_%d", i/pausedApprovalsPerAgent+1)
		in, err := j.submit(ctx, cl, key, tier0Types[i%len(tier0Types)], actor, true)
		if err != nil {
			return fmt.Errorf("paused approvals: submit %d of %d: %w", i+1, n, err)
		}
		ins = append(ins, pendingIntent{key, in.ID})
	}
	pausedAt := time.Now()
	if err := r.eng.InjectSchedulerPause(ctx, orDefault(f.Reason, "chaos: paused during approvals")); err != nil {
		return err
	}
	r.needResume = true
	type task struct {
		key, id, operator string
		approve           bool
	}
	var tasks []task
	deny, contested := everyNth(r.param("deny_share")), everyNth(r.param("contested_share"))
	for i, in := range ins {
		approve := deny == 0 || i%deny != deny-1
		for k := range 3 {
			a := approve
			if contested > 0 && i%contested == 0 && k == 1 {
				a = !approve // one racer wants the other decision
			}
			tasks = append(tasks, task{in.key, in.id, fmt.Sprintf("jepsen.operator_%d", k+1), a})
		}
	}
	rand.Shuffle(len(tasks), func(a, b int) { tasks[a], tasks[b] = tasks[b], tasks[a] })
	ch := make(chan task)
	var wrong atomic.Int64
	var wg sync.WaitGroup
	for range max(r.intParam("operators"), 1) {
		wg.Go(func() {
			cl := j.client()
			for t := range ch {
				err := j.decide(ctx, cl, t.key, t.id, t.operator, t.approve)
				if err != nil && !errors.Is(err, engine.ErrNotPending) {
					wrong.Add(1)
					r.jepsenNote(fmt.Sprintf("decision on %s by %s: %v", t.id, t.operator, err))
				}
			}
		})
	}
	for _, t := range tasks {
		ch <- t
	}
	close(ch)
	wg.Wait()
	if w := wrong.Load(); w > 0 {
		r.failf("racing decisions: %d losing decisions failed with another error than ErrNotPending", w)
	}
	if err := r.settle(ctx, time.Duration(r.intParam("settle_ms"))*time.Millisecond); err != nil {
		return err
	}
	r.notef("paused_approvals: %d Tier 0 intents, %d decisions raced by %d operators", n, len(tasks), r.intParam("operators"))
	return r.checkNothingRanPaused(ctx, pausedAt)
}

// jepsenNote adds a note from a client goroutine.
func (r *run) jepsenNote(s string) {
	r.jepsen.mu.Lock()
	defer r.jepsen.mu.Unlock()
	r.notes = append(r.notes, s)
}

// checkNothingRanPaused fails the run for a dispatch of the history's
// intents between the pause and the first resume after it.
func (r *run) checkNothingRanPaused(ctx context.Context, pausedAt time.Time) error {
	var resumed time.Time
	if err := r.eachRecord(ctx, clarity.Query{Action: engine.WhatSchedulerResumed, Since: pausedAt}, func(e clarity.Entry) bool {
		if resumed.IsZero() || e.When.Before(resumed) {
			resumed = e.When
		}
		return true
	}); err != nil {
		return err
	}
	if resumed.IsZero() {
		resumed = time.Now() // never resumed: nothing may have run at all
	}
	ran := 0
	err := r.eachRecord(ctx, clarity.Query{Action: engine.WhatDispatched, Since: pausedAt}, func(e clarity.Entry) bool {
		if _, ours := r.jepsen.keys[e.IntentID]; ours && e.When.Before(resumed) {
			ran++
		}
		return true
	})
	if err != nil {
		return err
	}
	if ran > 0 {
		r.failf("%d intents dispatched while the scheduler was paused", ran)
	}
	return nil
}
