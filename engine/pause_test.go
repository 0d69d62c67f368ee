package engine

import (
	"errors"
	"strings"
	"testing"
	"time"

	"grace/engine/intent"
)

func TestOperatorPausesAndResumesTheScheduler(t *testing.T) {
	t.Parallel()
	b := setup(t)
	if err := b.e.PauseScheduler(t.Context(), "alice", "maintenance"); !errors.Is(err, ErrStopped) {
		t.Fatalf("pause before start: %v, want ErrStopped", err)
	}
	b.start(t)
	for _, tc := range []struct {
		operator, reason string
		want             error
	}{{"", "x", ErrOperatorRequired}, {"alice", " ", ErrReasonRequired}} {
		if err := b.e.PauseScheduler(t.Context(), tc.operator, tc.reason); !errors.Is(err, tc.want) {
			t.Fatalf("PauseScheduler(%q, %q) = %v, want %v", tc.operator, tc.reason, err, tc.want)
		}
	}
	if err := b.e.PauseScheduler(t.Context(), "alice", "upgrading the sandbox"); err != nil {
		t.Fatal(err)
	}
	if err := b.e.PauseScheduler(t.Context(), "bob", "me too"); !errors.Is(err, ErrAlreadyPaused) || !strings.Contains(err.Error(), "alice") {
		t.Fatalf("second pause: %v, want ErrAlreadyPaused naming alice", err)
	}
	in := b.submit(t, intent.Submission{Type: "query_knowledge"})
	b.advance(t, 3*time.Second)
	if got := b.stored(t, in.ID); got.State != intent.StateQueued {
		t.Fatalf("dispatched while paused: %s", got.State)
	}
	s := b.e.Snapshot().Layer2
	if !s.Paused || s.Pause == nil || s.Pause.By != "alice" || s.Pause.Reason != "upgrading the sandbox" || s.Pause.Fault {
		t.Fatalf("snapshot pause = %+v", s)
	}
	if err := b.e.ResumeScheduler(t.Context(), "bob", "sandbox is back"); err != nil {
		t.Fatal(err)
	}
	b.waitState(t, in.ID, intent.StateCompleted)
	// A second resume (carol's, a moment late) is told whose came first.
	if err := b.e.ResumeScheduler(t.Context(), "carol", ""); !errors.Is(err, ErrNotPaused) || !strings.Contains(err.Error(), "(resumed by bob at ") {
		t.Fatalf("resume of a running scheduler: %v, want ErrNotPaused naming bob", err)
	}
	p := b.waitRecord(t, WhatSchedulerPaused, nil)
	r := b.waitRecord(t, WhatSchedulerResumed, nil)
	if p.Who != "alice" || p.How != "operator_command" || r.Who != "bob" || !strings.Contains(strings.Join(r.Why, " "), "Paused by alice for 3s") {
		t.Fatalf("pause %+v\nresume %+v", p, r)
	}
	if b.e.Snapshot().Layer2.Paused {
		t.Fatal("still paused in the snapshot")
	}
	checkRecords(t, b.store.Records())
}

func TestAutoResumeUndoesAPauseThatOutlastsItsLimit(t *testing.T) {
	t.Parallel()
	b := setup(t, func(c *Config) { c.Scheduler.AutoResumeAfter = 5 * time.Second })
	b.start(t)
	if err := b.e.InjectSchedulerPause(t.Context(), "chaos: L2_scheduler_pause_during_load"); err != nil {
		t.Fatal(err)
	}
	b.advance(t, 10*time.Second) // no work waits: the pause stands
	if !b.e.Snapshot().Layer2.Paused {
		t.Fatal("resumed with nothing waiting")
	}
	in := b.submit(t, intent.Submission{Type: "query_knowledge"})
	b.heartbeat(t)
	b.waitState(t, in.ID, intent.StateCompleted)
	r := b.waitRecord(t, WhatSchedulerResumed, nil)
	if r.Who != actorAutoResume || r.How != "pause_watchdog" || !strings.Contains(r.Why[0], "past scheduler.auto_resume_after (5s)") {
		t.Fatalf("auto resume record = %+v", r)
	}
	if p := b.waitRecord(t, WhatSchedulerPaused, nil); p.Who != actorFaults || p.How != "fault_injection" {
		t.Fatalf("fault pause record = %+v", p)
	}
}

func TestWithoutAutoResumeAForgottenPauseStarvesTheQueue(t *testing.T) {
	t.Parallel()
	b := setup(t, func(c *Config) {
		c.Scheduler.AutoResumeAfter = 5 * time.Second
		c.Safeguards[SafeguardSchedulerAutoResume] = SafeguardConfig{Enabled: false}
	})
	b.start(t)
	if err := b.e.InjectSchedulerPause(t.Context(), "chaos"); err != nil {
		t.Fatal(err)
	}
	in := b.submit(t, intent.Submission{Type: "query_knowledge"})
	b.advance(t, 30*time.Second)
	over := b.waitRecord(t, WhatPauseOverdue, nil)
	if !strings.Contains(strings.Join(over.Why, " "), "scheduler_auto_resume is off") {
		t.Fatalf("overdue record = %+v", over)
	}
	if n := b.store.Count(WhatPauseOverdue); n != 1 {
		t.Fatalf("%d overdue records, want one per pause", n)
	}
	if got := b.stored(t, in.ID); got.State != intent.StateQueued || !b.e.Snapshot().Layer2.Paused {
		t.Fatalf("intent %s, paused %v: want it starved in the queue", got.State, b.e.Snapshot().Layer2.Paused)
	}
}
