package engine

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// The records of pausing one intent type.
const (
	WhatTypePaused         = "type_paused"
	WhatTypeResumed        = "type_resumed"
	WhatTypePausesRestored = "type_pauses_restored"
)

// ErrUnknownType: a type pause names a type the charter does not list
// (governance.tiers), most likely a typing error.
var ErrUnknownType = errors.New("not an intent type of the charter")

// TypePause is one intent type paused on its own: who paused it, when and
// why, and (in a snapshot) how many of its intents wait.
type TypePause struct {
	Type string `json:"type"`
	PauseInfo
	Waiting int `json:"waiting"`
}

// TypePauser pauses and resumes the dispatch of one intent type, as a
// queue is paused in a job system. *Engine implements it, and so does the
// HTTP API's client.
type TypePauser interface {
	PauseType(ctx context.Context, operator, typ, reason string) error
	ResumeType(ctx context.Context, operator, typ, reason string) error
}

var _ TypePauser = (*Engine)(nil)

// PauseType stops dispatching intents of type typ on operator's authority:
// they are still accepted and queued (counted in the depth, shed and
// cancelled as any queued intent), running ones finish, other types
// dispatch as before. It returns once the type_paused record is durable,
// and from then on no intent of typ is dispatched until ResumeType, across
// restarts. operator, typ and reason are required; typ must be a type of
// the charter (ErrUnknownType); a type paused already gives
// ErrAlreadyPaused. With scheduler_auto_resume on, a type pause that
// outlasts scheduler.auto_resume_after while its intents wait is undone,
// as a whole-scheduler pause is. An intent an actor's pause holds too
// (PauseActor) waits until both are resumed.
func (e *Engine) PauseType(ctx context.Context, operator, typ, reason string) error {
	operator, typ, reason = strings.TrimSpace(operator), strings.TrimSpace(typ), strings.TrimSpace(reason)
	if err := e.checkTypePause(operator, typ); err != nil {
		return fmt.Errorf("pause type: %w", err)
	}
	return e.pauseNamed(ctx, typePauses, operator, typ, reason)
}

// ResumeType lets intents of type typ dispatch again (those an actor's
// pause holds too wait for its resume); reason is optional. It returns
// once the type_resumed record is durable. A type that is not paused
// gives ErrNotPaused.
func (e *Engine) ResumeType(ctx context.Context, operator, typ, reason string) error {
	operator, typ, reason = strings.TrimSpace(operator), strings.TrimSpace(typ), strings.TrimSpace(reason)
	if operator == "" {
		return fmt.Errorf("resume type: %w", ErrOperatorRequired)
	}
	if typ == "" {
		return fmt.Errorf("resume type: %w", ErrTypeRequired)
	}
	return e.resumeNamed(ctx, typePauses, operator, typ, reason)
}

// ErrTypeRequired: a type pause or resume without a type.
var ErrTypeRequired = errors.New("an intent type is required")

// checkTypePause validates who pauses which type.
func (e *Engine) checkTypePause(operator, typ string) error {
	switch {
	case operator == "":
		return ErrOperatorRequired
	case typ == "":
		return ErrTypeRequired
	}
	if _, known := e.router.Tier(typ); !known {
		return fmt.Errorf("%w: %q (governance.tiers lists %s)", ErrUnknownType, typ, strings.Join(e.charterTypes(), ", "))
	}
	return nil
}

// charterTypes lists the charter's types, sorted.
func (e *Engine) charterTypes() []string {
	var out []string
	for _, types := range e.cfg.Governance.Tiers {
		out = append(out, types...)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// PausedTypes returns the types paused on their own, by type, each with
// the number of its intents waiting.
func (e *Engine) PausedTypes() []TypePause {
	ps := e.pausedNamed(typePauses)
	if ps == nil {
		return nil
	}
	out := make([]TypePause, len(ps))
	for i, p := range ps {
		out[i] = TypePause{Type: p.name, PauseInfo: p.PauseInfo, Waiting: p.waiting}
	}
	return out
}
