package engine

import (
	"errors"
	"strings"
	"testing"
	"time"

	"grace/engine/intent"
)

// TestPauseActorHoldsOnlyThatActor: an operator quarantines one agent; its
// intents are accepted, governed and wait (an approved Tier 0 one too, a
// cancelled one leaves) while another actor's intents of the same type
// run; the pause is on the record and in the snapshot, and a resume lets
// them run.
func TestPauseActorHoldsOnlyThatActor(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := t.Context()
	const runaway = "agent.runaway"
	if err := b.e.PauseActor(ctx, "alice", runaway, "loops"); !errors.Is(err, ErrStopped) {
		t.Fatalf("pause before start: %v, want ErrStopped", err)
	}
	b.start(t)
	for _, tc := range []struct {
		operator, actor, reason string
		want                    error
	}{
		{"", runaway, "x", ErrOperatorRequired},
		{"alice", " ", "x", ErrActorRequired},
		{"alice", runaway, " ", ErrReasonRequired},
	} {
		if err := b.e.PauseActor(ctx, tc.operator, tc.actor, tc.reason); !errors.Is(err, tc.want) {
			t.Fatalf("PauseActor(%q, %q, %q) = %v, want %v", tc.operator, tc.actor, tc.reason, err, tc.want)
		}
	}
	for _, bad := range []string{"agent\x1b[2J", strings.Repeat("a", maxActorLen+1)} {
		var te *TextError
		if err := b.e.PauseActor(ctx, "alice", bad, "x"); !errors.As(err, &te) || te.Field != "actor" {
			t.Fatalf("PauseActor of a name no intent could carry (%.20q): %v, want a TextError on actor", bad, err)
		}
	}
	if err := b.e.PauseScheduler(ctx, "alice", "hold everything while the actor pause lands"); err != nil {
		t.Fatal(err)
	}
	early := b.submit(t, intent.Submission{Type: "generate_summary", Actor: runaway})
	if err := b.e.PauseActor(ctx, "alice", " "+runaway+" ", "loops on summaries"); err != nil {
		t.Fatal(err)
	}
	if err := b.e.ResumeScheduler(ctx, "alice", "the actor pause holds the runaway"); err != nil {
		t.Fatal(err)
	}
	if err := b.e.PauseActor(ctx, "bob", runaway, "me too"); !errors.Is(err, ErrAlreadyPaused) || !strings.Contains(err.Error(), "pause actor agent.runaway: it is already paused (by alice") {
		t.Fatalf("second pause: %v, want ErrAlreadyPaused naming alice", err)
	}
	late := b.submit(t, intent.Submission{Type: "generate_summary", Actor: runaway})
	if late.Decision.AutonomyTier != 2 || late.State != intent.StateQueued {
		t.Fatalf("a paused actor's submission is not governed and queued as usual: %+v", late)
	}
	tier0 := b.submit(t, intent.Submission{Type: "modify_governance", Actor: runaway})
	if tier0.State != intent.StatePendingApproval {
		t.Fatalf("a paused actor's Tier 0 intent: %s, want pending approval", tier0.State)
	}
	if _, err := b.e.Approve(ctx, tier0.ID, "alice", "reviewed"); err != nil {
		t.Fatal(err)
	}
	gone := b.submit(t, intent.Submission{Type: "generate_summary", Actor: runaway})
	if _, err := b.e.Cancel(ctx, gone.ID, "alice", "not wanted"); err != nil {
		t.Fatalf("cancel of a held intent: %v", err)
	}
	// A probe of the same type by another actor, submitted last, run to
	// its end: the scheduler has looked past the runaway's, which are older.
	probe := b.submit(t, intent.Submission{Type: "generate_summary", Actor: "agent.good"})
	b.waitState(t, probe.ID, intent.StateCompleted)
	b.store.Flush()
	held := []string{early.ID, late.ID, tier0.ID}
	for _, id := range held {
		if got := b.stored(t, id); got.State != intent.StateQueued || b.handlers.callsFor(id) != 0 {
			t.Fatalf("%s while its actor is paused: %s, run %d times", id, got.State, b.handlers.callsFor(id))
		}
	}
	s := b.e.Snapshot()
	if pa := s.Layer2.PausedActors; len(pa) != 1 || pa[0].Actor != runaway || pa[0].By != "alice" || pa[0].Waiting != 3 || s.Layer2.Paused || len(s.Layer2.PausedTypes) != 0 {
		t.Fatalf("snapshot: paused %v, actors %+v, types %+v", s.Layer2.Paused, pa, s.Layer2.PausedTypes)
	}
	if s.QueueDepth != 3 {
		t.Fatalf("queue depth %d, want the runaway's 3 held intents counted", s.QueueDepth)
	}
	p := b.waitRecord(t, WhatActorPaused, nil)
	if p.Who != "alice" || p.Context["actor"] != runaway || p.Context["queued"] != 1 || p.Context["reason"] != "loops on summaries" ||
		!strings.Contains(strings.Join(p.Why, " "), "other actors dispatch as before") {
		t.Fatalf("pause record %+v", p)
	}
	if set, _ := p.Context["paused_actors"].([]any); len(set) != 1 {
		t.Fatalf("the pause record's paused_actors: %#v", p.Context["paused_actors"])
	}
	b.clock.Advance(3 * time.Second)
	if err := b.e.ResumeActor(ctx, "bob", runaway, "fixed its loop"); err != nil {
		t.Fatal(err)
	}
	for _, id := range held {
		b.waitState(t, id, intent.StateCompleted)
	}
	if err := b.e.ResumeActor(ctx, "bob", runaway, ""); !errors.Is(err, ErrNotPaused) || !strings.HasPrefix(err.Error(), "resume actor agent.runaway: it is not paused (resumed by bob at ") {
		t.Fatalf("resume of an actor not paused: %v", err)
	}
	r := b.waitRecord(t, WhatActorResumed, nil)
	if r.Who != "bob" || !strings.Contains(strings.Join(r.Why, " "), "Actor agent.runaway paused by alice for 3s (loops on summaries); 3 of its intents queued now dispatch") {
		t.Fatalf("resume record %+v", r)
	}
	if len(b.e.Snapshot().Layer2.PausedActors) != 0 {
		t.Fatal("still paused in the snapshot")
	}
	checkRecords(t, b.store.Records())
}

// TestAnIntentPausedByTypeAndActorWaitsForBoth: an intent whose type and
// actor are both paused dispatches only once both pauses are resumed,
// whichever goes first; the resume's record says how many stay held.
func TestAnIntentPausedByTypeAndActorWaitsForBoth(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.start(t)
	ctx := t.Context()
	if err := b.e.PauseType(ctx, "alice", "generate_summary", "model rollout"); err != nil {
		t.Fatal(err)
	}
	if err := b.e.PauseActor(ctx, "alice", "agent.x", "quarantine"); err != nil {
		t.Fatal(err)
	}
	both := b.submit(t, intent.Submission{Type: "generate_summary", Actor: "agent.x"})
	typeOnly := b.submit(t, intent.Submission{Type: "generate_summary", Actor: "agent.y"})
	actorOnly := b.submit(t, intent.Submission{Type: "query_knowledge", Actor: "agent.x"})
	probe := b.submit(t, intent.Submission{Type: "query_knowledge", Actor: "agent.y"})
	b.waitState(t, probe.ID, intent.StateCompleted)
	s := b.e.Snapshot().Layer2
	if len(s.PausedTypes) != 1 || s.PausedTypes[0].Waiting != 2 || len(s.PausedActors) != 1 || s.PausedActors[0].Waiting != 2 {
		t.Fatalf("each pause counts the intent both hold: types %+v, actors %+v", s.PausedTypes, s.PausedActors)
	}

	if err := b.e.ResumeType(ctx, "bob", "generate_summary", "rollout done"); err != nil {
		t.Fatal(err)
	}
	b.waitState(t, typeOnly.ID, intent.StateCompleted)
	probe = b.submit(t, intent.Submission{Type: "generate_summary", Actor: "agent.y"})
	b.waitState(t, probe.ID, intent.StateCompleted)
	b.store.Flush()
	for _, id := range []string{both.ID, actorOnly.ID} {
		if got := b.stored(t, id); got.State != intent.StateQueued || b.handlers.callsFor(id) != 0 {
			t.Fatalf("%s dispatched with its actor still paused: %s, run %d times", id, got.State, b.handlers.callsFor(id))
		}
	}
	r := b.waitRecord(t, WhatTypeResumed, nil)
	if !strings.Contains(strings.Join(r.Why, " "), "of its 2 intents queued, 1 now dispatch and 1 stay held by another pause") || r.Context["still_held"] != 1 {
		t.Fatalf("the type's resume record does not say one stays held: %+v", r)
	}
	if pa := b.e.Snapshot().Layer2.PausedActors; len(pa) != 1 || pa[0].Waiting != 2 {
		t.Fatalf("after the type's resume: %+v", pa)
	}

	// The other way round: the actor resumed first leaves the type's.
	if err := b.e.PauseType(ctx, "alice", "generate_summary", "second rollout"); err != nil {
		t.Fatal(err)
	}
	if err := b.e.ResumeActor(ctx, "bob", "agent.x", "cleared"); err != nil {
		t.Fatal(err)
	}
	b.waitState(t, actorOnly.ID, intent.StateCompleted)
	if got := b.stored(t, both.ID); got.State != intent.StateQueued || b.handlers.callsFor(both.ID) != 0 {
		t.Fatalf("dispatched with its type still paused: %s", got.State)
	}
	if err := b.e.ResumeType(ctx, "bob", "generate_summary", ""); err != nil {
		t.Fatal(err)
	}
	b.waitState(t, both.ID, intent.StateCompleted)
	if d := b.e.Snapshot().QueueDepth; d != 0 {
		t.Fatalf("queue depth %d after both resumes", d)
	}
}

// TestAnActorPauseOutlivesARestart: actor pauses are read back from the
// newest actor record at start, beside the type pauses; a restart after
// the resumes starts unpaused.
func TestAnActorPauseOutlivesARestart(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.start(t)
	ctx := t.Context()
	for _, actor := range []string{"agent.a", "agent.b", "agent.c"} {
		if err := b.e.PauseActor(ctx, "alice", actor, "hold "+actor); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.e.ResumeActor(ctx, "alice", "agent.c", "not that one"); err != nil {
		t.Fatal(err)
	}
	if err := b.e.PauseType(ctx, "alice", "schedule_task", "a type too"); err != nil {
		t.Fatal(err)
	}
	in := b.submit(t, intent.Submission{Type: "query_knowledge", Actor: "agent.a"})
	next := b.restart(t)
	l2 := next.e.Snapshot().Layer2
	pa := l2.PausedActors
	if len(pa) != 2 || pa[0].Actor != "agent.a" || pa[0].Reason != "hold agent.a" || pa[0].By != "alice" || !pa[0].Since.Equal(epoch) ||
		pa[1].Actor != "agent.b" || pa[0].Waiting != 1 {
		t.Fatalf("after the restart: %+v", pa)
	}
	if len(l2.PausedTypes) != 1 || l2.PausedTypes[0].Type != "schedule_task" {
		t.Fatalf("the type pause beside them after the restart: %+v", l2.PausedTypes)
	}
	r := next.waitRecord(t, WhatActorPausesRestored, nil)
	if r.Who != actorRecovery || !strings.Contains(r.Why[0], "These actors were paused and not resumed before the engine stopped: agent.a (by alice") {
		t.Fatalf("restore record %+v", r)
	}
	probe := next.submit(t, intent.Submission{Type: "query_knowledge", Actor: "agent.c"})
	next.waitState(t, probe.ID, intent.StateCompleted)
	if got := next.stored(t, in.ID); got.State != intent.StateQueued {
		t.Fatalf("dispatched while the restored actor pause stands: %s", got.State)
	}
	for _, actor := range []string{"agent.a", "agent.b"} {
		if err := next.e.ResumeActor(ctx, "bob", actor, ""); err != nil {
			t.Fatal(err)
		}
	}
	next.waitState(t, in.ID, intent.StateCompleted)
	third := next.restart(t)
	if pa := third.e.Snapshot().Layer2.PausedActors; len(pa) != 0 {
		t.Fatalf("paused again after a restart that followed the resumes: %+v", pa)
	}
	if n := b.store.Count(WhatActorPausesRestored); n != 1 {
		t.Fatalf("%d restore records, want 1", n)
	}
}

// An actor pause is a quarantine: scheduler_auto_resume, which undoes a
// forgotten type pause, leaves it however long its intents wait; the
// watchdog warns of it, critical once it holds work past
// watchdog.scheduler.max_pause.
func TestAForgottenActorPauseStandsAndIsAlerted(t *testing.T) {
	t.Parallel()
	b := setup(t, func(c *Config) { c.Scheduler.AutoResumeAfter = 5 * time.Second })
	b.start(t)
	if err := b.e.PauseActor(t.Context(), "alice", "agent.x", "quarantine"); err != nil {
		t.Fatal(err)
	}
	if r := b.waitRecord(t, WhatActorPaused, nil); !strings.Contains(strings.Join(r.Why, " | "), "A quarantine lasts until someone resumes it") {
		t.Fatalf("pause record = %+v", r)
	}
	b.submit(t, intent.Submission{Type: "generate_summary", Actor: "agent.x"})
	b.advance(t, 10*time.Second) // past scheduler.auto_resume_after, its intent waiting
	b.heartbeat(t)
	b.heartbeat(t) // a round's check has run once the next round has
	b.heartbeat(t)
	if pa := b.e.Snapshot().Layer2.PausedActors; len(pa) != 1 || pa[0].Waiting != 1 || b.store.Count(WhatActorResumed) != 0 {
		t.Fatalf("the quarantine was lifted: %+v, %d resumed records", pa, b.store.Count(WhatActorResumed))
	}
	if a := alertOf(t, b.check(t), "scheduler/actors_paused"); !strings.Contains(a.Summary, "agent.x since") || !strings.Contains(a.Summary, "alice: quarantine), 1 waiting") {
		t.Fatalf("the watchdog's alert: %+v", a)
	}
}
