package engine

import (
	"slices"
	"strings"
	"sync"
	"testing"

	"grace/engine/intent"
)

// firstAttemptHeld holds every first attempt; later ones run through.
func firstAttemptHeld(in intent.Intent) bool { return in.Attempts == 1 }

func reassignmentOff(c *Config) {
	c.Safeguards[SafeguardWorkerReassignment] = SafeguardConfig{Enabled: false}
}

func liveNames(s Snapshot) []string {
	var names []string
	for _, w := range s.Workers {
		if w.Healthy {
			names = append(names, w.Name)
		}
	}
	return names
}

func TestKilledWorkersTaskIsReroutedAndThePoolRecovers(t *testing.T) {
	t.Parallel()
	b := setup(t)
	run := newRunTracker(firstAttemptHeld)
	b.handlers.set("schedule_task", run.handle)
	b.start(t)
	in := b.submit(t, intent.Submission{Type: "schedule_task"})
	first := run.nextStart(t)
	if first.Worker != "worker_1" {
		t.Fatalf("first attempt on %s, want worker_1", first.Worker)
	}
	if err := b.e.KillWorker(t.Context(), "worker_1", "chaos: worker dropout"); err != nil {
		t.Fatal(err)
	}
	second := run.nextStart(t)
	if second.Worker != "worker_2" || second.Attempts != 2 {
		t.Fatalf("rerouted attempt = %d on %s, want attempt 2 on worker_2", second.Attempts, second.Worker)
	}
	done := b.waitState(t, in.ID, intent.StateCompleted)
	if done.Attempts != 2 || done.Worker != "worker_2" {
		t.Fatalf("completed = attempt %d on %s", done.Attempts, done.Worker)
	}
	if run.mostAtOnce() != 1 {
		t.Fatalf("%d attempts ran at once", run.mostAtOnce())
	}

	dead := b.waitRecord(t, WhatWorkerDead, nil)
	if dead.Where != "worker_1" || dead.How != "exit_detection" || dead.IntentID != in.ID || dead.Context["cause"] != causeKilled ||
		!strings.Contains(dead.Why[0], "chaos: worker dropout") {
		t.Fatalf("death record = %+v", dead)
	}
	rr := recordOf(t, b.store.RecordsFor(in.ID), WhatRerouted)
	if rr.Who != actorHTM || rr.How != "failover_routing" || rr.Context["from_target"] != "worker_1" ||
		rr.Context["to_target"] != "worker_2" || rr.Context["task_id"] != in.ID || rr.Context["method"] != "failover_routing" {
		t.Fatalf("reroute record = %+v", rr)
	}
	// The story reads: dispatched, rerouted, dispatched again, completed.
	story := b.whats(in.ID)
	want := []string{WhatReceived, WhatRouted, WhatDispatched, WhatWorkerDead, WhatRerouted, WhatDispatched, WhatCompleted}
	if !slices.Equal(story, want) {
		t.Fatalf("story = %v\nwant    %v", story, want)
	}

	// The pool is back at its size, with a new worker in place of the dead.
	started := b.waitRecord(t, WhatWorkersStarted, nil)
	if !strings.Contains(strings.Join(started.Why, " "), "worker_3") {
		t.Fatalf("workers started = %+v", started)
	}
	s := b.e.Snapshot()
	if got := liveNames(s); !slices.Equal(got, []string{"worker_2", "worker_3"}) {
		t.Fatalf("live workers = %v", got)
	}
	l2 := s.Layer2
	if l2.Rerouted != 1 || l2.WorkersLost != 1 || l2.WorkersHealthy != 2 || l2.PoolTarget != 2 {
		t.Fatalf("layer2 facts = %+v", l2)
	}
	checkRecords(t, b.store.Records())
}

func TestKilledWorkerWithoutReassignmentLeavesItsTaskStuck(t *testing.T) {
	t.Parallel()
	b := setup(t, reassignmentOff)
	run := newRunTracker(firstAttemptHeld)
	b.handlers.set("schedule_task", run.handle)
	b.start(t)
	in := b.submit(t, intent.Submission{Type: "schedule_task"})
	run.nextStart(t)
	if err := b.e.KillWorker(t.Context(), "worker_1", "chaos"); err != nil {
		t.Fatal(err)
	}
	dead := b.waitRecord(t, WhatWorkerDead, nil)
	if dead.Context["reassignment"] != false || !strings.Contains(strings.Join(dead.Why, " "), "stays where it is") {
		t.Fatalf("death record = %+v", dead)
	}
	b.advance(t, 5*b.e.cfg.Workers.HeartbeatInterval) // time passes; nothing comes to its rescue
	b.store.Flush()
	if got := b.stored(t, in.ID); got.State != intent.StateRunning || got.Worker != "worker_1" || got.Attempts != 1 {
		t.Fatalf("stuck intent = %s on %s, attempt %d; want running on worker_1, attempt 1", got.State, got.Worker, got.Attempts)
	}
	if n := b.handlers.callsFor(in.ID); n != 1 {
		t.Fatalf("handler ran %d times", n)
	}
	s := b.e.Snapshot()
	if got := liveNames(s); !slices.Equal(got, []string{"worker_2"}) || len(s.Workers) != 2 || s.Layer2.Rerouted != 0 {
		t.Fatalf("pool = %+v, layer2 %+v; want worker_1 dead in its slot, not replaced", s.Workers, s.Layer2)
	}
	if n := b.store.Count(WhatWorkersStarted); n != 0 {
		t.Fatalf("%d workers_started records: the pool was refilled", n)
	}
}

func TestHungWorkerIsDeclaredDeadAndItsLateResultFenced(t *testing.T) {
	t.Parallel()
	b := setup(t)
	run := newRunTracker(firstAttemptHeld)
	b.handlers.set("schedule_task", run.handle)
	b.start(t)
	in := b.submit(t, intent.Submission{Type: "schedule_task"})
	run.nextStart(t)
	if err := b.e.HangWorker(t.Context(), "worker_1", "chaos: stuck"); err != nil {
		t.Fatal(err)
	}
	eventually(t, "worker_1 to hang", func() bool {
		b.e.pool.mu.Lock()
		defer b.e.pool.mu.Unlock()
		return b.e.pool.workers[0].hung
	})
	misses := b.e.cfg.Workers.HeartbeatMisses
	for range misses { // not yet dead: the misses are counted
		b.heartbeat(t)
	}
	if n := b.store.Count(WhatWorkerDead); n != 0 {
		t.Fatalf("declared dead after %d rounds, want %d unanswered pings first", misses, misses)
	}
	b.heartbeat(t)
	dead := b.waitRecord(t, WhatWorkerDead, nil)
	if dead.How != "heartbeat_monitoring" || dead.Context["cause"] != causeMissedHeartbeats || dead.IntentID != in.ID {
		t.Fatalf("death record = %+v", dead)
	}
	second := run.nextStart(t)
	if second.Worker != "worker_2" || second.Attempts != 2 {
		t.Fatalf("rerouted attempt %d on %s", second.Attempts, second.Worker)
	}
	b.waitState(t, in.ID, intent.StateCompleted)

	// Released, the zombie reports its attempt late: fenced off.
	if err := b.e.ReleaseWorker(t.Context(), "worker_1"); err != nil {
		t.Fatal(err)
	}
	stale := b.waitRecord(t, WhatStaleDiscarded, nil)
	if stale.Who != "worker_1" || stale.IntentID != in.ID || stale.Context["attempt"] != 1 || stale.How != "attempt_fencing" {
		t.Fatalf("stale record = %+v", stale)
	}
	b.store.Flush()
	if got := b.stored(t, in.ID); got.State != intent.StateCompleted || got.Attempts != 2 || got.Worker != "worker_2" {
		t.Fatalf("late result overwrote the rerouted attempt: %+v", got)
	}
	if run.mostAtOnce() != 1 {
		t.Fatalf("%d attempts ran at once", run.mostAtOnce())
	}
	if s := b.e.Snapshot().Layer2; s.StaleResultsDiscarded != 1 || s.Rerouted != 1 {
		t.Fatalf("layer2 = %+v", s)
	}
	checkRecords(t, b.store.Records())
}

func TestHungWorkerWithoutReassignmentHoldsItsTaskUntilItRecovers(t *testing.T) {
	t.Parallel()
	b := setup(t, reassignmentOff)
	run := newRunTracker(firstAttemptHeld)
	b.handlers.set("schedule_task", run.handle)
	b.start(t)
	in := b.submit(t, intent.Submission{Type: "schedule_task"})
	run.nextStart(t)
	if err := b.e.HangWorker(t.Context(), "worker_1", "chaos"); err != nil {
		t.Fatal(err)
	}
	eventually(t, "worker_1 to hang", func() bool { _, hung := b.e.pool.hangState(b.e.pool.workers[0]); return hung })
	for range b.e.cfg.Workers.HeartbeatMisses + 1 {
		b.heartbeat(t)
	}
	b.waitRecord(t, WhatWorkerDead, nil)
	b.advance(t, 10*b.e.cfg.Workers.HeartbeatInterval)
	b.store.Flush()
	if got := b.stored(t, in.ID); got.State != intent.StateRunning || got.Attempts != 1 {
		t.Fatalf("intent = %s attempt %d, want still running attempt 1", got.State, got.Attempts)
	}
	// Released, it finishes its own attempt, which stands, and is revived.
	close(run.release)
	if err := b.e.ReleaseWorker(t.Context(), "worker_1"); err != nil {
		t.Fatal(err)
	}
	done := b.waitState(t, in.ID, intent.StateCompleted)
	if done.Attempts != 1 || done.Worker != "worker_1" {
		t.Fatalf("completed = %+v", done)
	}
	w1 := b.e.pool.find("worker_1")
	b.heartbeat(t)
	eventually(t, "worker_1 to answer again", func() bool {
		b.e.pool.mu.Lock()
		defer b.e.pool.mu.Unlock()
		return w1.answered >= b.e.super.round.Load()
	})
	b.heartbeat(t)
	b.waitRecord(t, WhatWorkerRecovered, nil)
	if got := liveNames(b.e.Snapshot()); !slices.Equal(got, []string{"worker_1", "worker_2"}) {
		t.Fatalf("live workers = %v", got)
	}
}

func TestLeaseSettleAndRevokeHaveOneWinner(t *testing.T) {
	t.Parallel()
	for range 200 {
		l := newLeases()
		l.grant("int_a", 3)
		var wg sync.WaitGroup
		var settled, revoked bool
		wg.Go(func() { settled = l.settle("int_a", 3) })
		wg.Go(func() { revoked = l.revoke("int_a", 3) })
		wg.Wait()
		if settled == revoked {
			t.Fatalf("settle %v, revoke %v: want exactly one", settled, revoked)
		}
	}
	l := newLeases()
	l.grant("int_b", 1)
	l.grant("int_b", 2) // rerouted: attempt 2 holds it now
	if l.settle("int_b", 1) || !l.held("int_b", 2) || !l.settle("int_b", 2) || l.len() != 0 {
		t.Fatal("an old attempt settled a newer attempt's lease")
	}
}

func TestKillIdleWorkerRefillsThePool(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.start(t)
	if err := b.e.KillWorker(t.Context(), "worker_2", ""); err != nil {
		t.Fatal(err)
	}
	r := b.waitRecord(t, WhatWorkerDead, nil)
	if r.IntentID != "" || !strings.Contains(strings.Join(r.Why, " "), "idle") {
		t.Fatalf("death record = %+v", r)
	}
	b.waitRecord(t, WhatWorkersStarted, nil)
	in := b.submit(t, intent.Submission{Type: "query_knowledge"})
	b.waitState(t, in.ID, intent.StateCompleted)
	for _, name := range []string{"worker_2", "no_such"} {
		if err := b.e.KillWorker(t.Context(), name, ""); err == nil {
			t.Fatalf("killing %s succeeded", name)
		}
	}
	if fi := b.allRecords(WhatFaultInjected); len(fi) != 1 || fi[0].Where != "worker_2" {
		t.Fatalf("fault records = %+v", fi)
	}
}

// The seed's L2_worker_dropout_chaos: half the workers are killed while
// every one of them is mid-task and more work waits.
func TestWorkerDropoutLosesNothingAndRunsNothingTwiceAtOnce(t *testing.T) {
	t.Parallel()
	b := setup(t, func(c *Config) { c.Workers.Count, c.Workers.MaxCount = 8, 8 })
	run := newRunTracker(firstAttemptHeld)
	run.started = make(chan intent.Intent, 100)
	b.handlers.set("schedule_task", run.handle)
	b.start(t)
	ids := make([]string, 40)
	for i := range ids {
		ids[i] = b.submit(t, intent.Submission{Type: "schedule_task"}).ID
	}
	busy := map[string]string{} // worker → intent
	for range 8 {
		in := run.nextStart(t)
		busy[in.Worker] = in.ID
	}
	for _, w := range []string{"worker_2", "worker_4", "worker_6", "worker_7"} {
		if err := b.e.KillWorker(t.Context(), w, "dropout"); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, "4 reroutes", func() bool { return b.e.Snapshot().Layer2.Rerouted == 4 })
	close(run.release)
	for _, id := range ids {
		b.waitState(t, id, intent.StateCompleted)
	}
	if run.mostAtOnce() != 1 {
		t.Fatalf("%d attempts of one intent ran at once", run.mostAtOnce())
	}
	for _, w := range []string{"worker_2", "worker_4", "worker_6", "worker_7"} {
		if n := b.handlers.callsFor(busy[w]); n != 2 {
			t.Fatalf("%s's task ran %d times, want 2 (killed, then rerouted)", w, n)
		}
	}
	s := b.e.Snapshot()
	if len(liveNames(s)) != 8 || s.Completed != 40 || s.Layer2.WorkersLost != 4 {
		t.Fatalf("after the dropout: %d live workers, %d completed, %d lost", len(liveNames(s)), s.Completed, s.Layer2.WorkersLost)
	}
}
