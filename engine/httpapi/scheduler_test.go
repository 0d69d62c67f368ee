package httpapi

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"

	"grace/engine"
	"grace/engine/intent"
)

// TestSchedulerPauseOverHTTP: an operator pauses the scheduler (a reason
// required) and queued intents wait while intake goes on; the pause says
// who paused it (the identity, whatever the body says), when and why, is
// refused a second time, and a resume lets the waiting intents run. Agents
// and viewers may not pause or resume, and the client maps the conflicts
// back to the engine's errors.
func TestSchedulerPauseOverHTTP(t *testing.T) {
	t.Parallel()
	b := setupReal(t)
	var s SchedulerResponse
	b.do(t, viewVal, "GET", "/v1/scheduler", "").decode(t, &s)
	if s.Paused || s.Pause != nil {
		t.Fatalf("a fresh scheduler: %+v", s)
	}
	b.do(t, agentB, "POST", "/v1/scheduler/pause", `{"reason":"mine"}`).wantError(t, http.StatusForbidden, CodeForbidden)
	b.do(t, viewVal, "POST", "/v1/scheduler/pause", `{"reason":"mine"}`).wantError(t, http.StatusForbidden, CodeForbidden)
	b.do(t, opAlice, "POST", "/v1/scheduler/pause", `{}`).wantError(t, http.StatusUnprocessableEntity, CodeReasonRequired)
	b.do(t, opAlice, "POST", "/v1/scheduler/pause", `{"reason":"x","for":"1h"}`).wantError(t, http.StatusBadRequest, CodeUnknownField)
	b.do(t, opAlice, "POST", "/v1/scheduler/resume", `{}`).wantError(t, http.StatusConflict, CodeNotPaused)
	if b.e.Snapshot().Layer2.Paused {
		t.Fatal("a refused pause paused the scheduler")
	}

	a := b.do(t, opAlice, "POST", "/v1/scheduler/pause", `{"reason":"downstream outage","operator":"mallory"}`)
	a.decode(t, &s)
	if a.status != http.StatusOK || !s.Paused || s.Pause == nil || s.Pause.By != "alice" || s.Pause.Reason != "downstream outage" {
		t.Fatalf("pause: %d %s", a.status, a.body)
	}
	b.do(t, opBob, "POST", "/v1/scheduler/pause", `{"reason":"me too"}`).wantError(t, http.StatusConflict, CodeAlreadyPaused)

	// Intake goes on; nothing is dispatched.
	queued := b.submit(t, agentB, `{"type":"query_knowledge"}`)
	b.do(t, viewVal, "GET", "/v1/scheduler", "").decode(t, &s)
	if !s.Paused || s.QueueDepth != 1 || b.state(t, queued.ID).State != intent.StateQueued {
		t.Fatalf("while paused: %+v, intent %s", s, b.state(t, queued.ID).State)
	}

	c := NewClient(b.srv.URL, opBob, nil)
	if err := c.PauseScheduler(context.Background(), "", "again"); !errors.Is(err, engine.ErrAlreadyPaused) || !strings.Contains(err.Error(), "downstream outage") {
		t.Fatalf("client pause of a paused scheduler: %v, want ErrAlreadyPaused naming the pause", err)
	}
	if err := c.ResumeScheduler(context.Background(), "", "outage over"); err != nil {
		t.Fatalf("client resume: %v", err)
	}
	b.waitState(t, queued.ID, intent.StateCompleted)
	if err := c.ResumeScheduler(context.Background(), "", ""); !errors.Is(err, engine.ErrNotPaused) {
		t.Fatalf("client resume of a running scheduler: %v, want ErrNotPaused", err)
	}
	got, err := c.Scheduler(context.Background())
	if err != nil || got.Paused {
		t.Fatalf("client Scheduler after the resume: %+v, %v", got, err)
	}
	if n := b.refusals("", "agent.builder"); n != 1 {
		t.Fatalf("the agent's refused pause is on the record %d times, want once", n)
	}
	if by := b.whoDid(engine.WhatSchedulerPaused, engine.WhatSchedulerResumed); by != "scheduler_paused by alice, scheduler_resumed by bob" {
		t.Fatalf("the record says %v", by)
	}
}

// whoDid lists the records named whats, oldest first, as "what by who".
func (b *realBundle) whoDid(whats ...string) string {
	var by []string
	for _, r := range b.store.Records() {
		if slices.Contains(whats, r.What) {
			by = append(by, r.What+" by "+r.Who)
		}
	}
	return strings.Join(by, ", ")
}

// TestTypePauseOverHTTP: POST /v1/scheduler/pause with a type pauses that
// intent type alone; bad types and missing reasons change nothing.
func TestTypePauseOverHTTP(t *testing.T) {
	t.Parallel()
	b := setupReal(t)
	var s SchedulerResponse
	b.do(t, viewVal, "GET", "/v1/scheduler", "").decode(t, &s)
	if s.PausedTypes == nil || len(s.PausedTypes) != 0 {
		t.Fatalf("a fresh scheduler's paused_types: %+v", s.PausedTypes)
	}
	b.do(t, agentB, "POST", "/v1/scheduler/pause", `{"reason":"mine","type":"generate_summary"}`).wantError(t, http.StatusForbidden, CodeForbidden)
	b.do(t, opAlice, "POST", "/v1/scheduler/pause", `{"type":"generate_summary"}`).wantError(t, http.StatusUnprocessableEntity, CodeReasonRequired)
	e := b.do(t, opAlice, "POST", "/v1/scheduler/pause", `{"reason":"x","type":"generate_sumary"}`)
	e.wantError(t, http.StatusUnprocessableEntity, CodeUnknownType)
	if !strings.Contains(string(e.body), `"field":"type"`) || !strings.Contains(string(e.body), "generate_summary") {
		t.Fatalf("a near-miss type: %s, want the field and the charter's types", e.body)
	}
	b.do(t, opAlice, "POST", "/v1/scheduler/pause", `{"reason":"x","type":7}`).wantError(t, http.StatusBadRequest, CodeWrongType)
	b.do(t, opAlice, "POST", "/v1/scheduler/pause", "{\"reason\":\"x\",\"type\":\"a\\u0000b\"}").wantError(t, http.StatusUnprocessableEntity, CodeInvalidField)
	b.do(t, opAlice, "POST", "/v1/scheduler/resume", `{"type":"generate_summary"}`).wantError(t, http.StatusConflict, CodeNotPaused)
	if pt := b.e.Snapshot().Layer2.PausedTypes; len(pt) != 0 {
		t.Fatalf("a refused pause paused %+v", pt)
	}

	a := b.do(t, opAlice, "POST", "/v1/scheduler/pause", `{"reason":"model rollout","type":"generate_summary","operator":"mallory"}`)
	a.decode(t, &s)
	if a.status != http.StatusOK || s.Paused || len(s.PausedTypes) != 1 || s.PausedTypes[0].Type != "generate_summary" || s.PausedTypes[0].By != "alice" {
		t.Fatalf("type pause: %d %s", a.status, a.body)
	}
	b.do(t, opBob, "POST", "/v1/scheduler/pause", `{"reason":"me too","type":"generate_summary"}`).wantError(t, http.StatusConflict, CodeAlreadyPaused)

	held := b.submit(t, agentB, `{"type":"generate_summary"}`)
	other := b.submit(t, agentB, `{"type":"query_knowledge"}`)
	b.waitState(t, other.ID, intent.StateCompleted)
	b.do(t, viewVal, "GET", "/v1/scheduler", "").decode(t, &s)
	if len(s.PausedTypes) != 1 || s.PausedTypes[0].Waiting != 1 || s.QueueDepth != 1 || b.state(t, held.ID).State != intent.StateQueued {
		t.Fatalf("while generate_summary is paused: %+v, intent %s", s, b.state(t, held.ID).State)
	}

	c := NewClient(b.srv.URL, opBob, nil)
	if err := c.PauseType(context.Background(), "", "nope", "x"); !errors.Is(err, engine.ErrUnknownType) {
		t.Fatalf("client pause of an unknown type: %v, want ErrUnknownType", err)
	}
	if err := c.ResumeType(context.Background(), "", "generate_summary", "rollout done"); err != nil {
		t.Fatalf("client resume: %v", err)
	}
	b.waitState(t, held.ID, intent.StateCompleted)
	if err := c.ResumeType(context.Background(), "", "generate_summary", ""); !errors.Is(err, engine.ErrNotPaused) {
		t.Fatalf("client resume of a type not paused: %v, want ErrNotPaused", err)
	}
	if by := b.whoDid(engine.WhatTypePaused, engine.WhatTypeResumed); by != "type_paused by alice, type_resumed by bob" {
		t.Fatalf("the record says %v", by)
	}
}
