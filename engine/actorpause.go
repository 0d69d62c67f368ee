package engine

import (
	"context"
	"fmt"
	"strings"
)

// The records of pausing one actor.
const (
	WhatActorPaused         = "actor_paused"
	WhatActorResumed        = "actor_resumed"
	WhatActorPausesRestored = "actor_pauses_restored"
)

// ErrActorRequired: an actor pause or resume without an actor. It is a
// *TextError on the field "actor", as an actor's name that is too long or
// holds control characters is.
var ErrActorRequired error = &TextError{Field: "actor", Reason: "is required"}

// ActorPause is one actor paused (quarantined): who paused it, when and
// why, and (in a snapshot) how many of its intents wait.
type ActorPause struct {
	Actor string `json:"actor"`
	PauseInfo
	Waiting int `json:"waiting"`
}

// ActorPauser pauses and resumes the dispatch of one actor's intents: an
// operator quarantines an agent. *Engine implements it, and so does the
// HTTP API's client.
type ActorPauser interface {
	PauseActor(ctx context.Context, operator, actor, reason string) error
	ResumeActor(ctx context.Context, operator, actor, reason string) error
}

var _ ActorPauser = (*Engine)(nil)

// PauseActor stops dispatching the intents actor submits, on operator's
// authority: they are still accepted, governed and queued (counted in the
// depth, shed and cancelled as any queued intent), running ones finish,
// other actors' intents dispatch as before. It returns once the
// actor_paused record is durable, and from then on none of actor's
// intents is dispatched until ResumeActor, across restarts. An intent a
// type pause holds too (PauseType) waits until both are resumed.
//
// operator, actor and reason are required; actor is checked as an
// intent's actor is at intake (a *TextError on "actor": ErrActorRequired,
// too long, control characters) and matched exactly, so an actor with
// nothing queued may be paused ahead of its intents; an actor paused
// already gives ErrAlreadyPaused. A quarantine is lifted by a person
// only: scheduler_auto_resume, which undoes a forgotten pause of the
// scheduler or of a type, leaves it; the watchdog warns while it holds
// work, critical past watchdog.scheduler.max_pause.
func (e *Engine) PauseActor(ctx context.Context, operator, actor, reason string) error {
	operator, actor, reason = strings.TrimSpace(operator), strings.TrimSpace(actor), strings.TrimSpace(reason)
	if operator == "" {
		return fmt.Errorf("pause actor: %w", ErrOperatorRequired)
	}
	if err := checkActorName(actor); err != nil {
		return fmt.Errorf("pause actor: %w", err)
	}
	return e.pauseNamed(ctx, actorPauses, operator, actor, reason)
}

// ResumeActor lets actor's intents dispatch again (those a type pause
// holds too wait for its resume); reason is optional. It returns once the
// actor_resumed record is durable. An actor that is not paused gives
// ErrNotPaused.
func (e *Engine) ResumeActor(ctx context.Context, operator, actor, reason string) error {
	operator, actor, reason = strings.TrimSpace(operator), strings.TrimSpace(actor), strings.TrimSpace(reason)
	if operator == "" {
		return fmt.Errorf("resume actor: %w", ErrOperatorRequired)
	}
	if err := checkActorName(actor); err != nil {
		return fmt.Errorf("resume actor: %w", err)
	}
	return e.resumeNamed(ctx, actorPauses, operator, actor, reason)
}

// checkActorName refuses an actor's name (trimmed) that no intent could
// carry, as intake does.
func checkActorName(actor string) error {
	switch p := actorProblem(actor); {
	case actor == "":
		return ErrActorRequired
	case p != "":
		return &TextError{Field: "actor", Reason: p}
	}
	return nil
}

// PausedActors returns the actors paused, by name, each with the number of
// its intents waiting.
func (e *Engine) PausedActors() []ActorPause {
	ps := e.pausedNamed(actorPauses)
	if ps == nil {
		return nil
	}
	out := make([]ActorPause, len(ps))
	for i, p := range ps {
		out[i] = ActorPause{Actor: p.name, PauseInfo: p.PauseInfo, Waiting: p.waiting}
	}
	return out
}
