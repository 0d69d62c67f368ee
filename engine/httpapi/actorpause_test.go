package httpapi

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"grace/engine"
	"grace/engine/intent"
)

// TestActorPauseOverHTTP: POST /v1/scheduler/pause with an actor holds
// that actor's intents alone, for operators only; type and actor together,
// a missing reason and a name no intent could carry change nothing; GET
// /v1/scheduler shows the pause; the client pauses and resumes.
func TestActorPauseOverHTTP(t *testing.T) {
	t.Parallel()
	b := setupReal(t)
	var s SchedulerResponse
	b.do(t, viewVal, "GET", "/v1/scheduler", "").decode(t, &s)
	if s.PausedActors == nil || len(s.PausedActors) != 0 {
		t.Fatalf("a fresh scheduler's paused_actors: %+v", s.PausedActors)
	}
	const builder = `"actor":"agent.builder"`
	b.do(t, agentB, "POST", "/v1/scheduler/pause", `{"reason":"mine",`+builder+`}`).wantError(t, http.StatusForbidden, CodeForbidden)
	b.do(t, viewVal, "POST", "/v1/scheduler/pause", `{"reason":"theirs",`+builder+`}`).wantError(t, http.StatusForbidden, CodeForbidden)
	b.do(t, agentB, "POST", "/v1/scheduler/resume", `{`+builder+`}`).wantError(t, http.StatusForbidden, CodeForbidden)
	for _, verb := range []string{"pause", "resume"} {
		er := b.do(t, opAlice, "POST", "/v1/scheduler/"+verb, `{"reason":"x","type":"generate_summary",`+builder+`}`).wantError(t, http.StatusBadRequest, CodeConflictingFields)
		if er.Error.Field != "actor" || !strings.Contains(er.Error.Message, "not both") {
			t.Fatalf("%s with type and actor: %+v", verb, er.Error)
		}
	}
	b.do(t, opAlice, "POST", "/v1/scheduler/pause", `{`+builder+`}`).wantError(t, http.StatusUnprocessableEntity, CodeReasonRequired)
	for _, bad := range []string{`"a\u001bb"`, `"  "`, `"` + strings.Repeat("a", 129) + `"`} {
		er := b.do(t, opAlice, "POST", "/v1/scheduler/pause", `{"reason":"x","actor":`+bad+`}`).wantError(t, http.StatusUnprocessableEntity, CodeInvalidField)
		if er.Error.Field != "actor" {
			t.Fatalf("actor %s: %+v, want the field named", bad, er.Error)
		}
	}
	b.do(t, opAlice, "POST", "/v1/scheduler/pause", `{"reason":"x","actor":7}`).wantError(t, http.StatusBadRequest, CodeWrongType)
	b.do(t, opAlice, "POST", "/v1/scheduler/resume", `{`+builder+`}`).wantError(t, http.StatusConflict, CodeNotPaused)
	if l2 := b.e.Snapshot().Layer2; len(l2.PausedActors) != 0 || len(l2.PausedTypes) != 0 || l2.Paused {
		t.Fatalf("a refused pause paused %+v", l2)
	}

	a := b.do(t, opAlice, "POST", "/v1/scheduler/pause", `{"reason":"runaway loop",`+builder+`,"operator":"mallory"}`)
	a.decode(t, &s)
	if a.status != http.StatusOK || s.Paused || len(s.PausedTypes) != 0 || len(s.PausedActors) != 1 || s.PausedActors[0].Actor != "agent.builder" ||
		s.PausedActors[0].By != "alice" || s.PausedActors[0].Reason != "runaway loop" {
		t.Fatalf("actor pause: %d %s", a.status, a.body)
	}
	b.do(t, opBob, "POST", "/v1/scheduler/pause", `{"reason":"me too",`+builder+`}`).wantError(t, http.StatusConflict, CodeAlreadyPaused)

	held := b.submit(t, agentB, `{"type":"query_knowledge"}`) // accepted and governed as ever
	if held.State != intent.StateQueued || held.Decision.AutonomyTier != 2 {
		t.Fatalf("a paused actor's submission: %+v", held)
	}
	other := b.submit(t, opAlice, `{"type":"query_knowledge"}`)
	b.waitState(t, other.ID, intent.StateCompleted)
	b.do(t, viewVal, "GET", "/v1/scheduler", "").decode(t, &s)
	if len(s.PausedActors) != 1 || s.PausedActors[0].Waiting != 1 || s.QueueDepth != 1 || b.state(t, held.ID).State != intent.StateQueued {
		t.Fatalf("while agent.builder is paused: %+v, intent %s", s, b.state(t, held.ID).State)
	}

	c := NewClient(b.srv.URL, opBob, nil)
	if err := c.PauseActor(context.Background(), "", "agent.builder", "again"); !errors.Is(err, engine.ErrAlreadyPaused) || !strings.Contains(err.Error(), "runaway loop") {
		t.Fatalf("client pause of a paused actor: %v, want ErrAlreadyPaused naming the pause", err)
	}
	var he *Error
	if err := c.PauseActor(context.Background(), "", "a\tb", "x"); !errors.As(err, &he) || he.Code != CodeInvalidField || he.Field != "actor" {
		t.Fatalf("client pause of a bad name: %v", err)
	}
	if err := c.ResumeActor(context.Background(), "", "agent.builder", "loop fixed"); err != nil {
		t.Fatalf("client resume: %v", err)
	}
	b.waitState(t, held.ID, intent.StateCompleted)
	if err := c.ResumeActor(context.Background(), "", "agent.builder", ""); !errors.Is(err, engine.ErrNotPaused) {
		t.Fatalf("client resume of an actor not paused: %v, want ErrNotPaused", err)
	}
	if got, err := c.Scheduler(context.Background()); err != nil || len(got.PausedActors) != 0 {
		t.Fatalf("client Scheduler after the resume: %+v, %v", got, err)
	}
	if n := b.refusals("", "agent.builder"); n != 2 {
		t.Fatalf("the agent's refused pause and resume are on the record %d times, want 2", n)
	}
	if by := b.whoDid(engine.WhatActorPaused, engine.WhatActorResumed); by != "actor_paused by alice, actor_resumed by bob" {
		t.Fatalf("the record says %v", by)
	}
}
