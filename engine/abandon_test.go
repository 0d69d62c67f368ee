package engine

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"grace/engine/clarity"
	"grace/engine/intent"
	"grace/engine/watchdog"
)

// stubborn is a handler that ignores its context: it runs until the test
// releases it. Tests release it before they end, so no goroutine leaks.
type stubborn struct {
	started chan intent.Intent
	release chan struct{}
}

func newStubborn(t *testing.T) *stubborn {
	s := &stubborn{started: make(chan intent.Intent, 4), release: make(chan struct{})}
	t.Cleanup(s.free)
	return s
}

func (s *stubborn) handle(_ context.Context, in intent.Intent) error {
	s.started <- in
	<-s.release
	return nil
}

// free lets every held handler return (once).
func (s *stubborn) free() {
	select {
	case <-s.release:
	default:
		close(s.release)
	}
}

// stuckRun starts an engine (edit applied) whose schedule_task handler
// is stubborn, with timeout when not zero, and returns once the handler
// of one schedule_task runs.
func stuckRun(t *testing.T, timeout time.Duration, edit ...func(*Config)) (*testBundle, *stubborn, intent.Intent) {
	t.Helper()
	b := setup(t, edit...)
	h := newStubborn(t)
	b.handlers.set("schedule_task", h.handle)
	if timeout > 0 {
		b.handlers.timeouts["schedule_task"] = timeout
	}
	b.start(t)
	stuck := b.submit(t, intent.Submission{Type: "schedule_task"})
	nextOf(t, h.started)
	return b, h, stuck
}

func oneWorker(c *Config) {
	c.Workers.Count = 1
	c.Workers.AbandonAfter = 10 * time.Second
}

// abandonArmed waits until the worker, its handler told to stop, waits
// workers.abandon_after for it.
func (b *testBundle) abandonArmed(t *testing.T) {
	t.Helper()
	eventually(t, "the abandon timer", func() bool { return b.clock.TimersAt(b.e.cfg.Workers.AbandonAfter) > 0 })
}

func TestTimedOutHandlerThatIgnoresItsContextIsAbandoned(t *testing.T) {
	t.Parallel()
	b, h, stuck := stuckRun(t, 5*time.Second, oneWorker)
	b.clock.Advance(5 * time.Second) // its timeout: the handler is told to stop, and ignores it
	b.abandonArmed(t)
	b.clock.Advance(10 * time.Second)

	failed := b.waitState(t, stuck.ID, intent.StateFailed)
	if failed.Attempts != 1 || !strings.Contains(failed.LastError, "abandoned") || !strings.Contains(failed.LastError, "its 5s timeout ran out") {
		t.Fatalf("failed intent = attempt %d, last error %q", failed.Attempts, failed.LastError)
	}
	ab := recordOf(t, b.store.RecordsFor(stuck.ID), WhatHandlerAbandoned)
	if ab.How != howAbandoned || ab.Where != "worker_1" || ab.Context["intent_failed"] != true || ab.Context["cause"] != "its 5s timeout ran out" ||
		!strings.Contains(strings.Join(ab.Why, " | "), "had not returned 10s later (workers.abandon_after): it ignores its cancellation") {
		t.Fatalf("abandoned record = %+v", ab)
	}
	r := recordOf(t, b.store.RecordsFor(stuck.ID), WhatFailed)
	if r.How != howAbandoned || r.Context["abandoned"] != true || !strings.Contains(strings.Join(r.Why, " | "), "Failed without a retry") {
		t.Fatalf("failure record = %+v", r)
	}

	// The one worker is free: other work runs while the handler runs on.
	next := b.submit(t, intent.Submission{Type: "query_knowledge"})
	b.waitState(t, next.ID, intent.StateCompleted)
	l2 := b.e.Snapshot().Layer2
	if l2.HandlersAbandoned != 1 || len(l2.RunawayHandlers) != 1 {
		t.Fatalf("layer2 facts = abandoned %d, runaways %+v", l2.HandlersAbandoned, l2.RunawayHandlers)
	}
	if ra := l2.RunawayHandlers[0]; ra.IntentID != stuck.ID || ra.Worker != "worker_1" || ra.Cause != "its 5s timeout ran out" ||
		!ra.AbandonedAt.Equal(epoch.Add(15*time.Second)) || !ra.ToldAt.Equal(epoch.Add(5*time.Second)) {
		t.Fatalf("runaway = %+v", ra)
	}

	rep := b.check(t)
	if a := alertOf(t, rep, "htm_orchestrator/runaway_handlers"); a.Severity != watchdog.Warn ||
		!strings.Contains(a.Summary, "1 handler(s) ignored being told to stop") || !strings.Contains(a.Summary, "schedule_task ("+stuck.ID+")") {
		t.Fatalf("runaway alert = %+v", a)
	}

	// When it returns at last, what it did is discarded and the intent
	// stays failed: never retried.
	h.free()
	late := b.waitRecord(t, WhatStaleDiscarded, func(r clarity.Record) bool { return r.IntentID == stuck.ID })
	if late.How != howAbandoned || late.Context["late_outcome"] != "succeeded" {
		t.Fatalf("late result record = %+v", late)
	}
	eventually(t, "the runaway to be gone", func() bool { return len(b.e.RunawayHandlers()) == 0 })
	if rep := b.check(t); firing(rep, "htm_orchestrator/runaway_handlers") {
		t.Fatalf("still firing once the handler returned: %+v", rep.Alerts)
	}
	b.store.Flush()
	if got := b.stored(t, stuck.ID); got.State != intent.StateFailed {
		t.Fatalf("stored state = %s", got.State)
	}
	if n := b.handlers.callsFor(stuck.ID); n != 1 {
		t.Fatalf("handler ran %d times", n)
	}
	checkRecords(t, b.store.Records())
}

func TestWithoutAbandonmentARunawayHandlerKeepsItsWorker(t *testing.T) {
	t.Parallel()
	b, h, stuck := stuckRun(t, 5*time.Second, oneWorker, func(c *Config) {
		c.Safeguards[SafeguardHandlerAbandonment] = SafeguardConfig{Enabled: false}
	})
	next := b.submit(t, intent.Submission{Type: "query_knowledge"})
	b.advance(t, time.Minute) // long past its timeout and workers.abandon_after
	b.store.Flush()
	if got := b.stored(t, next.ID); got.State != intent.StateQueued {
		t.Fatalf("the other intent is %s; with the worker held it can only wait", got.State)
	}
	if got := b.stored(t, stuck.ID); got.State != intent.StateRunning {
		t.Fatalf("the stuck intent is %s, want running", got.State)
	}
	if n := b.e.Snapshot().Layer2.HandlersAbandoned; n != 0 {
		t.Fatalf("%d handlers abandoned with the safeguard off", n)
	}
	h.free()
	b.waitState(t, next.ID, intent.StateCompleted)
}

func TestCancelledIntentsRunawayHandlerIsAbandoned(t *testing.T) {
	t.Parallel()
	b, _, stuck := stuckRun(t, 0, oneWorker)
	if _, err := b.e.Cancel(t.Context(), stuck.ID, "alice", "wrong target"); err != nil {
		t.Fatal(err)
	}
	b.abandonArmed(t)
	b.clock.Advance(10 * time.Second)
	r := b.waitRecord(t, WhatHandlerAbandoned, nil)
	if r.IntentID != stuck.ID || r.Context["cause"] != "its intent was cancelled" || r.Result != "abandoned" || r.Context["intent_failed"] != false {
		t.Fatalf("abandoned record = %+v", r)
	}
	next := b.submit(t, intent.Submission{Type: "query_knowledge"})
	b.waitState(t, next.ID, intent.StateCompleted)
	b.store.Flush()
	if got := b.stored(t, stuck.ID); got.State != intent.StateCancelled {
		t.Fatalf("stored state = %s, want cancelled", got.State)
	}
}

func TestRunawayHandlerOfADeadWorkerFailsItsIntentInsteadOfARerouting(t *testing.T) {
	t.Parallel()
	b, _, stuck := stuckRun(t, 0, func(c *Config) { c.Workers.AbandonAfter = 10 * time.Second })
	if err := b.e.KillWorker(t.Context(), "worker_1", "chaos: worker dropout"); err != nil {
		t.Fatal(err)
	}
	b.waitRecord(t, WhatWorkerDead, nil)
	b.abandonArmed(t)
	b.clock.Advance(10 * time.Second)
	failed := b.waitState(t, stuck.ID, intent.StateFailed)
	if !strings.Contains(failed.LastError, "its worker was declared dead") {
		t.Fatalf("last error = %q", failed.LastError)
	}
	if story := b.whats(stuck.ID); slices.Contains(story, WhatRerouted) {
		t.Fatalf("story = %v: rerouted while its handler may still run", story)
	}
	if n := b.handlers.callsFor(stuck.ID); n != 1 {
		t.Fatalf("handler ran %d times", n)
	}
}

// TestStopDoesNotWaitForeverForARunawayHandler: Stop waits
// workers.abandon_after for the handlers it told to stop, then returns.
func TestStopDoesNotWaitForeverForARunawayHandler(t *testing.T) {
	t.Parallel()
	b, _, _ := stuckRun(t, 0, func(c *Config) { c.Workers.AbandonAfter = 50 * time.Millisecond })
	stopped := make(chan struct{})
	go func() {
		b.e.Stop()
		close(stopped)
	}()
	select {
	case <-stopped:
	case <-time.After(waitLimit):
		t.Fatal("Stop still waits for a handler that ignores its cancellation")
	}
	if n := b.e.running.wait(0); n != 1 {
		t.Fatalf("%d handlers running after Stop, want the runaway", n)
	}
}
