package chaos

// The FIT fault kinds: failure injected into a loaded engine. Handlers are
// slowed or made to fail while a steady load runs, or workers are killed
// during an intake surge. The runner's rollback clears the handler faults;
// rollbackFIT then waits for the steady load to finish and checks what
// became of it.

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"grace/engine"
	"grace/engine/clarity"
	"grace/engine/intent"
	"grace/engine/watchdog"
)

// The FIT fault kinds a scenario may name.
const (
	// FaultDegradeHandlers runs a steady load of load_per_second intents
	// for load_seconds on workers workers and, after its first quarter,
	// slows every handler by fault_latency_ms and (error_rate, optional)
	// fails that share of runs. The queue's critical depth is
	// queue_critical and load shedding drops low-priority work older than
	// shed_age_ms past it; max_attempts (optional) bounds the retries.
	FaultDegradeHandlers = "degrade_handlers"
	// FaultSurgeKillWorkers floods the intake (intents, rate limited to
	// rate_limit_per_second with a burst of rate_limit_burst) and, while
	// the surge runs, kills kill_share of the workers workers busy with
	// handlers slowed to handler_latency_ms.
	FaultSurgeKillWorkers = "surge_kill_workers"
)

// protectedPriority is the priority of the load's protected intents (one
// in four): the default shedding criteria (priority<5) never drop them.
// The others have priority 3.
const protectedPriority = 7

// fitDrain bounds the wait for the queue to drain once the FIT faults are
// rolled back, before the load's outcomes are checked.
const fitDrain = 20 * time.Second

func init() {
	// Both push the HTM queue to its critical depth with a backlog the
	// scheduler cannot dispatch at the arrival rate.
	stresses[FaultDegradeHandlers] = []string{watchdog.NameHTM, watchdog.NameScheduler}
	stresses[FaultSurgeKillWorkers] = []string{watchdog.NameHTM, watchdog.NameScheduler}
	faultKinds[FaultDegradeHandlers] = faultKind{
		params:    []string{"workers", "load_per_second", "load_seconds", "fault_latency_ms", "queue_critical", "shed_age_ms"},
		optional:  []string{"error_rate", "max_attempts"},
		configure: configureDegrade,
		inject:    injectDegradeHandlers,
	}
	faultKinds[FaultSurgeKillWorkers] = faultKind{
		params:    []string{"workers", "kill_share", "handler_latency_ms", "intents", "rate_limit_per_second", "rate_limit_burst"},
		optional:  []string{"actors", "concurrency", "invalid_share"},
		configure: configureSurge,
		inject:    injectSurgeKillWorkers,
	}
}

// fitFaults is what the FIT faults did, for rollbackFIT.
type fitFaults struct {
	// load are the IDs of the steady load's intents.
	load []string
	// maxDepth is the deepest queue seen while the load ran.
	maxDepth int
	// errors is true when handler runs were made to fail.
	errors bool
}

func (r *run) fitState() *fitFaults {
	if r.fit == nil {
		r.fit = &fitFaults{}
	}
	return r.fit
}

func configureWorkers(cfg *engine.Config, sc *Scenario, d int) {
	n := max(sc.intValue("workers", d), 1)
	cfg.Workers.Count = n
	cfg.Workers.MaxCount = max(cfg.Workers.MaxCount, n)
}

// configureDegrade sizes the pool, the queue's depths (warn at half the
// critical depth) and the shedding criteria, and the attempts.
func configureDegrade(cfg *engine.Config, sc *Scenario, d int) {
	configureWorkers(cfg, sc, d)
	configureShedding(cfg, sc, d)
	if _, ok := sc.Parameters["max_attempts"]; ok {
		cfg.Workers.MaxAttempts = max(sc.intValue("max_attempts", d), 1)
	}
}

// configureShedding sets, when the scenario gives them, the queue's
// critical depth (queue_critical; warn at half of it) and the shedding
// criteria's age (shed_age_ms, priority<5 as the default criteria say):
// the defaults (5,000 deep, 10 minutes old) are out of reach of a run of
// seconds.
func configureShedding(cfg *engine.Config, sc *Scenario, d int) {
	if _, ok := sc.Parameters["queue_critical"]; ok {
		crit := max(sc.intValue("queue_critical", d), 2)
		cfg.HTM.CriticalDepth, cfg.HTM.WarnDepth = crit, crit/2
		cfg.HTM.Capacity = max(cfg.HTM.Capacity, crit)
	}
	if _, ok := sc.Parameters["shed_age_ms"]; ok {
		cfg.HTM.Shedding.Criteria = fmt.Sprintf("priority<5 and age>%dms", sc.intValue("shed_age_ms", d))
	}
}

func configureSurge(cfg *engine.Config, sc *Scenario, d int) {
	configureWorkers(cfg, sc, d)
	cfg.HTM.RateLimit.GlobalRate = sc.value("rate_limit_per_second", d)
	cfg.HTM.RateLimit.GlobalBurst = max(sc.intValue("rate_limit_burst", d), 1)
}

// loadSubmitters is how many goroutines submit a steady load, so that
// its arrivals keep their pace (an open loop) while the engine is slow.
const loadSubmitters = 8

// injectDegradeHandlers paces the steady load on the engine's intake and
// injects the handler fault once a quarter of it is in.
func injectDegradeHandlers(ctx context.Context, r *run, f Fault) error {
	st := r.fitState()
	total := max(int(r.param("load_per_second")*r.param("load_seconds")+0.5), 1)
	fault := engine.HandlerFault{Latency: time.Duration(r.intParam("fault_latency_ms")) * time.Millisecond, ErrorRate: r.param("error_rate")}
	st.errors = fault.ErrorRate > 0
	interval := time.Duration(float64(time.Second) / max(r.param("load_per_second"), 1))
	// The pacer below hands out one index per interval; the submitters
	// submit them, so that a slow Submit does not slow the arrivals.
	next := make(chan int, total)
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		ids  = make([]string, total)
		serr error
	)
	for range loadSubmitters {
		wg.Go(func() {
			for i := range next {
				sub := intent.Submission{Type: "query_knowledge", Actor: fmt.Sprintf("chaos.fit_%d", i%8+1), Priority: 3,
					Payload: []byte(fmt.Sprintf(`{"chaos":"fit","n":%d}`, i))}
				if i%4 == 0 {
					sub.Priority = protectedPriority
				}
				res, err := r.eng.Submit(ctx, sub)
				mu.Lock()
				if err != nil && serr == nil {
					serr = fmt.Errorf("submit load %d of %d: %w", i+1, total, err)
				}
				if err == nil {
					ids[i] = res.Intent.ID
				}
				mu.Unlock()
			}
		})
	}
	// Intent i is due interval*i after the start; after a delay (a slow
	// snapshot, a starved machine) the pacer catches up at once, so that
	// the arrival rate holds on average.
	tick := time.NewTicker(min(interval, 10*time.Millisecond))
	defer tick.Stop()
	start := time.Now()
	var sampled time.Time
	injected, depthBefore := false, 0
	var ierr error
	for i := 0; i < total && ierr == nil; {
		for ; i < total && time.Since(start) >= time.Duration(i)*interval; i++ {
			if !injected && i >= total/4 {
				depthBefore = st.maxDepth
				if ierr = r.eng.InjectHandlerFault(ctx, "*", fault); ierr != nil {
					break
				}
				r.needClearHandlers, injected = true, true
			}
			next <- i
		}
		if time.Since(sampled) >= 50*time.Millisecond {
			st.maxDepth = max(st.maxDepth, r.eng.Snapshot().QueueDepth)
			sampled = time.Now()
		}
		select {
		case <-ctx.Done():
			ierr = ctx.Err()
		case <-tick.C:
		}
	}
	close(next)
	wg.Wait()
	for _, id := range ids {
		if id != "" {
			r.submitted = append(r.submitted, id)
			st.load = append(st.load, id)
		}
	}
	if ierr != nil {
		return ierr
	}
	if serr != nil {
		return serr
	}
	st.maxDepth = max(st.maxDepth, r.eng.Snapshot().QueueDepth)
	r.notef("steady load: %d intents in %v; handlers +%v and failing %g%% of runs from intent %d on; deepest queue %d before the fault, %d in all (critical %d)",
		total, time.Since(start).Round(time.Millisecond), fault.Latency, fault.ErrorRate*100, total/4, depthBefore, st.maxDepth, r.cfg.HTM.CriticalDepth)
	return nil
}

// injectSurgeKillWorkers slows the handlers so that workers stay busy,
// starts the intake surge and, while it runs, kills kill_share of the busy
// workers at random.
func injectSurgeKillWorkers(ctx context.Context, r *run, f Fault) error {
	lat := time.Duration(r.intParam("handler_latency_ms")) * time.Millisecond
	if err := r.eng.InjectHandlerFault(ctx, "*", engine.HandlerFault{Latency: lat}); err != nil {
		return err
	}
	r.needClearHandlers = true
	spec := engine.FloodSpec{Count: r.intParam("intents"), InvalidShare: r.param("invalid_share"),
		Actors: max(r.intParam("actors"), 1), Concurrency: r.intParam("concurrency"), Priority: 5}
	var (
		wg      sync.WaitGroup
		res     engine.FloodResult
		ferr    error
		surging sync.Mutex
		over    bool
	)
	wg.Go(func() {
		res, ferr = r.eng.FloodIntake(ctx, spec)
		surging.Lock()
		over = true
		surging.Unlock()
	})
	want := int(float64(r.intParam("workers"))*r.param("kill_share") + 0.5)
	var busy []string
	werr := r.waitFor(ctx, 5*time.Second, func() bool {
		busy = busy[:0]
		for _, w := range r.eng.Snapshot().Workers {
			if w.Busy {
				busy = append(busy, w.Name)
			}
		}
		return len(busy) >= want
	})
	var kerr error
	var killed []string
	if werr == nil {
		rand.Shuffle(len(busy), func(i, j int) { busy[i], busy[j] = busy[j], busy[i] })
		for _, name := range busy[:want] {
			if kerr = r.eng.KillWorker(ctx, name, orDefault(f.Reason, "chaos: worker loss during an intake surge")); kerr != nil {
				break
			}
			killed = append(killed, name)
		}
	}
	surging.Lock()
	during := !over
	surging.Unlock()
	wg.Wait()
	r.killed = append(r.killed, killed...)
	r.floods = append(r.floods, floodDone{actors: spec.Actors, accepted: res.Accepted})
	r.notef("surge: %d submitted, %d accepted, %d invalid, %d rate limited, %d queue full, %d other in %v",
		res.Submitted, res.Accepted, res.Invalid, res.RateLimited, res.QueueFull, res.OtherErrors, res.Duration.Round(time.Millisecond))
	switch {
	case werr != nil:
		return fmt.Errorf("wait for %d busy workers (have %d): %w", want, len(busy), werr)
	case kerr != nil:
		return kerr
	case ferr != nil:
		return ferr
	}
	when := "while the surge was still arriving"
	if !during {
		when = "after the last submission of the surge (the machine submitted it faster than the workers got busy)"
	}
	r.notef("killed %d of %d busy workers %s: %v", len(killed), r.intParam("workers"), when, killed)
	return nil
}

// rollbackFIT waits, once the handler faults are cleared, until every
// intent of the steady load has a final state on the store (up to
// fitDrain), and checks the load's outcomes: every intent finished;
// no protected (priority >= 5) intent shed, none shed that the criteria
// do not allow; with failing handlers, the retries with backoff and the
// failures on the record, and no intent run more than workers.max_attempts
// times. Each departure is a failure of the scenario.
func (r *run) rollbackFIT(ctx context.Context) {
	st := r.fit
	if st == nil || len(st.load) == 0 {
		return
	}
	// The store follows the engine by a few writes: wait until it holds a
	// final state for every intent of the load.
	final := make(map[string]intent.Intent, len(st.load))
	var gerr error
	if err := r.waitFor(ctx, fitDrain, func() bool {
		for _, id := range st.load {
			if _, ok := final[id]; ok {
				continue
			}
			in, err := r.eng.Get(ctx, id)
			if err != nil {
				gerr = fmt.Errorf("load intent %s: %w", id, err)
				return true
			}
			if !in.State.Terminal() {
				return false
			}
			final[id] = in
		}
		return true
	}); err != nil {
		r.notef("the load had not all finished %v after the rollback (%d of %d did): its outcomes are not checked", fitDrain, len(final), len(st.load))
		return
	}
	if gerr != nil {
		r.failf("rollback: %v", gerr)
		return
	}
	byState := map[intent.State]int{}
	mine := make(map[string]bool, len(st.load))
	maxAttempts := r.cfg.Workers.MaxAttempts
	for _, id := range st.load {
		mine[id] = true
		in := final[id]
		byState[in.State]++
		switch {
		case in.State == intent.StateShed && in.Priority >= 5:
			r.failf("intent %s of priority %d was shed: the criteria protect priority 5 and above", id, in.Priority)
		case in.State != intent.StateCompleted && in.State != intent.StateFailed && in.State != intent.StateShed:
			r.failf("intent %s ended %s", id, in.State)
		case in.Attempts > maxAttempts:
			r.failf("intent %s ran %d times; workers.max_attempts is %d", id, in.Attempts, maxAttempts)
		}
	}
	r.notef("steady load outcome: %d completed, %d failed, %d shed", byState[intent.StateCompleted], byState[intent.StateFailed], byState[intent.StateShed])
	if !st.errors {
		return
	}
	retries, early, failed := 0, 0, 0
	half := r.cfg.Workers.BackoffBase / 2
	err := r.engineRecords(ctx, clarity.Query{Action: engine.WhatRetryScheduled}, func(e clarity.Entry) bool {
		if mine[e.IntentID] {
			retries++
			if ms, ok := e.Context["backoff_ms"].(float64); ok && time.Duration(ms)*time.Millisecond < half-time.Millisecond {
				early++
			}
		}
		return true
	})
	if err == nil {
		err = r.engineRecords(ctx, clarity.Query{Action: engine.WhatFailed}, func(e clarity.Entry) bool {
			if mine[e.IntentID] {
				failed++
			}
			return true
		})
	}
	if err != nil {
		r.failf("rollback: %v", err)
		return
	}
	r.notef("on the record: %d retries scheduled with backoff, %d failures after %d attempts", retries, failed, maxAttempts)
	if retries == 0 {
		r.failf("handlers failed but no %s record is on the record for the load", engine.WhatRetryScheduled)
	}
	if early > 0 {
		r.failf("%d retries were scheduled sooner than half of workers.backoff_base (%v)", early, r.cfg.Workers.BackoffBase)
	}
	if failed != byState[intent.StateFailed] {
		r.failf("%d load intents failed but %d %s records are on the record", byState[intent.StateFailed], failed, engine.WhatFailed)
	}
}
