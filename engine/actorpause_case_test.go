package engine

import (
	"errors"
	"testing"

	"grace/engine/intent"
)

// TestPauseActorInAnotherCaseHoldsThatActor: actors are named without
// regard to case (the approval rules compare them so, identities are told
// apart so, and an agent naming itself "AGENT.X" is recorded as agent.x),
// so a quarantine of "Agent.Runaway" holds agent.runaway's intents; it was
// accepted, shown as a pause, and held nothing. A pause in a third case is
// the same pause, and a resume in any case lifts it.
func TestPauseActorInAnotherCaseHoldsThatActor(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.start(t)
	ctx := t.Context()
	if err := b.e.PauseActor(ctx, "alice", "Agent.Runaway", "loops"); err != nil {
		t.Fatal(err)
	}
	if err := b.e.PauseActor(ctx, "bob", "AGENT.RUNAWAY", "me too"); !errors.Is(err, ErrAlreadyPaused) {
		t.Fatalf("a second pause of the actor in another case: %v, want ErrAlreadyPaused", err)
	}
	held := b.submit(t, intent.Submission{Type: "generate_summary", Actor: "agent.runaway"})
	// Submitted last and run to its end: the scheduler has looked past
	// the runaway's, which is older.
	probe := b.submit(t, intent.Submission{Type: "generate_summary", Actor: "agent.good"})
	b.waitState(t, probe.ID, intent.StateCompleted)
	if got := b.stored(t, held.ID); got.State != intent.StateQueued || b.handlers.callsFor(held.ID) != 0 {
		t.Fatalf("agent.runaway's intent while Agent.Runaway is paused: %s, run %d times", got.State, b.handlers.callsFor(held.ID))
	}
	if pa := b.e.Snapshot().Layer2.PausedActors; len(pa) != 1 || pa[0].Waiting != 1 {
		t.Fatalf("snapshot's paused actors: %+v, want the one pause with its intent waiting", pa)
	}
	if err := b.e.ResumeActor(ctx, "bob", "agent.runaway", "fixed"); err != nil {
		t.Fatalf("resume in another case: %v", err)
	}
	b.waitState(t, held.ID, intent.StateCompleted)
	if len(b.e.Snapshot().Layer2.PausedActors) != 0 {
		t.Fatal("still paused in the snapshot")
	}
}
