package engine

import (
	"errors"
	"strings"
	"testing"
	"time"

	"grace/engine/intent"
)

// TestPauseTypeHoldsOnlyThatType: an operator pauses one intent type; its
// intents are accepted and wait while other types run, it is on the
// record and in the snapshot, and a resume lets them run.
func TestPauseTypeHoldsOnlyThatType(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := t.Context()
	if err := b.e.PauseType(ctx, "alice", "generate_summary", "model rollout"); !errors.Is(err, ErrStopped) {
		t.Fatalf("pause before start: %v, want ErrStopped", err)
	}
	b.start(t)
	for _, tc := range []struct {
		operator, typ, reason string
		want                  error
	}{
		{"", "generate_summary", "x", ErrOperatorRequired},
		{"alice", " ", "x", ErrTypeRequired},
		{"alice", "generate_summary", " ", ErrReasonRequired},
		{"alice", "generate_sumary", "x", ErrUnknownType}, // a near miss pauses nothing
	} {
		if err := b.e.PauseType(ctx, tc.operator, tc.typ, tc.reason); !errors.Is(err, tc.want) {
			t.Fatalf("PauseType(%q, %q, %q) = %v, want %v", tc.operator, tc.typ, tc.reason, err, tc.want)
		}
	}
	if err := b.e.PauseScheduler(ctx, "alice", "hold everything while the type pause lands"); err != nil {
		t.Fatal(err)
	}
	early := b.submit(t, intent.Submission{Type: "generate_summary"})
	if err := b.e.PauseType(ctx, "alice", "generate_summary", "model rollout"); err != nil {
		t.Fatal(err)
	}
	if err := b.e.ResumeScheduler(ctx, "alice", "the type pause holds summaries"); err != nil {
		t.Fatal(err)
	}
	if err := b.e.PauseType(ctx, "bob", "generate_summary", "me too"); !errors.Is(err, ErrAlreadyPaused) || !strings.Contains(err.Error(), "alice") {
		t.Fatalf("second pause: %v, want ErrAlreadyPaused naming alice", err)
	}
	late := b.submit(t, intent.Submission{Type: "generate_summary"})
	// A probe of another type, submitted last, run to its end: the
	// scheduler has looked past the summaries, which are older.
	probe := b.submit(t, intent.Submission{Type: "query_knowledge"})
	b.waitState(t, probe.ID, intent.StateCompleted)
	b.store.Flush()
	for _, id := range []string{early.ID, late.ID} {
		if got := b.stored(t, id); got.State != intent.StateQueued || b.handlers.callsFor(id) != 0 {
			t.Fatalf("%s while its type is paused: %s, run %d times", id, got.State, b.handlers.callsFor(id))
		}
	}
	s := b.e.Snapshot()
	if pt := s.Layer2.PausedTypes; len(pt) != 1 || pt[0].Type != "generate_summary" || pt[0].By != "alice" || pt[0].Waiting != 2 || s.Layer2.Paused {
		t.Fatalf("snapshot: paused %v, types %+v", s.Layer2.Paused, pt)
	}
	if s.QueueDepth != 2 {
		t.Fatalf("queue depth %d, want the 2 held summaries counted", s.QueueDepth)
	}
	p := b.waitRecord(t, WhatTypePaused, nil)
	if p.Who != "alice" || p.Context["type"] != "generate_summary" || p.Context["queued"] != 1 || !strings.Contains(strings.Join(p.Why, " "), "other types dispatch as before") {
		t.Fatalf("pause record %+v", p)
	}
	b.clock.Advance(3 * time.Second)
	if err := b.e.ResumeType(ctx, "bob", "generate_summary", "rollout done"); err != nil {
		t.Fatal(err)
	}
	b.waitState(t, early.ID, intent.StateCompleted)
	b.waitState(t, late.ID, intent.StateCompleted)
	if err := b.e.ResumeType(ctx, "carol", "generate_summary", ""); !errors.Is(err, ErrNotPaused) || !strings.Contains(err.Error(), "it is not paused (resumed by bob at ") {
		t.Fatalf("resume of a type not paused: %v", err)
	}
	r := b.waitRecord(t, WhatTypeResumed, nil)
	if r.Who != "bob" || !strings.Contains(strings.Join(r.Why, " "), "Type generate_summary paused by alice for 3s (model rollout); 2 of its intents queued now dispatch") {
		t.Fatalf("resume record %+v", r)
	}
	if len(b.e.Snapshot().Layer2.PausedTypes) != 0 {
		t.Fatal("still paused in the snapshot")
	}
	checkRecords(t, b.store.Records())
}

// TestATypePauseOutlivesARestart: the pauses are read back from the newest
// type record at start; a restart after the resume starts unpaused.
func TestATypePauseOutlivesARestart(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.start(t)
	ctx := t.Context()
	for _, typ := range []string{"generate_summary", "schedule_task", "query_knowledge"} {
		if err := b.e.PauseType(ctx, "alice", typ, "hold "+typ); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.e.ResumeType(ctx, "alice", "query_knowledge", "not that one"); err != nil {
		t.Fatal(err)
	}
	in := b.submit(t, intent.Submission{Type: "generate_summary"})
	next := b.restart(t)
	pt := next.e.Snapshot().Layer2.PausedTypes
	if len(pt) != 2 || pt[0].Type != "generate_summary" || pt[0].Reason != "hold generate_summary" || !pt[0].Since.Equal(epoch) ||
		pt[1].Type != "schedule_task" || pt[0].Waiting != 1 {
		t.Fatalf("after the restart: %+v", pt)
	}
	r := next.waitRecord(t, WhatTypePausesRestored, nil)
	if r.Who != actorRecovery || !strings.Contains(r.Why[0], "generate_summary (by alice") {
		t.Fatalf("restore record %+v", r)
	}
	probe := next.submit(t, intent.Submission{Type: "query_knowledge"})
	next.waitState(t, probe.ID, intent.StateCompleted)
	if got := next.stored(t, in.ID); got.State != intent.StateQueued {
		t.Fatalf("dispatched while the restored type pause stands: %s", got.State)
	}
	for _, typ := range []string{"generate_summary", "schedule_task"} {
		if err := next.e.ResumeType(ctx, "bob", typ, ""); err != nil {
			t.Fatal(err)
		}
	}
	next.waitState(t, in.ID, intent.StateCompleted)
	third := next.restart(t)
	if pt := third.e.Snapshot().Layer2.PausedTypes; len(pt) != 0 {
		t.Fatalf("paused again after a restart that followed the resumes: %+v", pt)
	}
	if n := b.store.Count(WhatTypePausesRestored); n != 1 {
		t.Fatalf("%d restore records, want 1", n)
	}
}

// TestAutoResumeUndoesAForgottenTypePause: scheduler_auto_resume treats a
// type pause as it does the scheduler's.
func TestAutoResumeUndoesAForgottenTypePause(t *testing.T) {
	t.Parallel()
	b := setup(t, func(c *Config) { c.Scheduler.AutoResumeAfter = 5 * time.Second })
	b.start(t)
	if err := b.e.PauseType(t.Context(), "alice", "generate_summary", "forgotten"); err != nil {
		t.Fatal(err)
	}
	b.advance(t, 10*time.Second) // nothing of the type waits: the pause stands
	if len(b.e.Snapshot().Layer2.PausedTypes) != 1 {
		t.Fatal("resumed with nothing waiting")
	}
	in := b.submit(t, intent.Submission{Type: "generate_summary"})
	b.heartbeat(t)
	b.waitState(t, in.ID, intent.StateCompleted)
	r := b.waitRecord(t, WhatTypeResumed, nil)
	if r.Who != actorAutoResume || r.Context["type"] != "generate_summary" || !strings.Contains(r.Why[0], "past scheduler.auto_resume_after (5s)") {
		t.Fatalf("auto resume record = %+v", r)
	}
}
