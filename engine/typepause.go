package engine

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"grace/engine/clarity"
	"grace/engine/intent"
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
// as a whole-scheduler pause is.
func (e *Engine) PauseType(ctx context.Context, operator, typ, reason string) error {
	operator, typ, reason = strings.TrimSpace(operator), strings.TrimSpace(typ), strings.TrimSpace(reason)
	if err := e.checkTypePause(operator, typ); err != nil {
		return fmt.Errorf("pause type: %w", err)
	}
	if reason == "" {
		return fmt.Errorf("pause type %s: %w", typ, ErrReasonRequired)
	}
	if !e.ready.Load() {
		return fmt.Errorf("pause type %s: %w", typ, ErrStopped)
	}
	e.pause.mu.Lock()
	defer e.pause.mu.Unlock()
	if p, ok := e.pause.types[typ]; ok {
		return &typePauseError{fmt.Sprintf("pause type %s: it is already paused (by %s since %s: %s)", typ, p.By, p.Since.UTC().Format(time.RFC3339), p.Reason), ErrAlreadyPaused}
	}
	info := PauseInfo{By: operator, Reason: reason, Since: e.clock.Now()}
	after := withPause(e.pause.types, typ, &info)
	waiting := e.waitingOfType(typ)
	r := typePausedRecord(typ, info, waiting, after, e.cfg.Scheduler.AutoResumeAfter, e.cfg.SafeguardEnabled(SafeguardSchedulerAutoResume))
	if _, err := e.apply(ctx, &intent.Change{Records: []clarity.Record{r}}); err != nil {
		return fmt.Errorf("pause type %s: record the pause: %w", typ, err)
	}
	e.pause.types = after
	delete(e.pause.typeOverdue, typ)
	// Under the gate, as a scheduler pause: a dispatch of typ that looked
	// at the queue before this has ended when Hold returns.
	e.pause.gate.Lock()
	e.queue.Hold(typ)
	e.pause.gate.Unlock()
	e.log.Warn("intent type paused", "type", typ, "by", operator, "reason", reason, "waiting", waiting)
	return nil
}

// ResumeType lets intents of type typ dispatch again; reason is optional.
// It returns once the type_resumed record is durable. A type that is not
// paused gives ErrNotPaused.
func (e *Engine) ResumeType(ctx context.Context, operator, typ, reason string) error {
	operator, typ, reason = strings.TrimSpace(operator), strings.TrimSpace(typ), strings.TrimSpace(reason)
	if operator == "" {
		return fmt.Errorf("resume type: %w", ErrOperatorRequired)
	}
	if typ == "" {
		return fmt.Errorf("resume type: %w", ErrTypeRequired)
	}
	e.pause.mu.Lock()
	defer e.pause.mu.Unlock()
	p, ok := e.pause.types[typ]
	if !ok {
		return &typePauseError{fmt.Sprintf("resume type %s: it is not paused", typ), ErrNotPaused}
	}
	now := e.clock.Now()
	after := withPause(e.pause.types, typ, nil)
	r := typeResumedRecord(now, operator, "operator_command", typ, p, []string{orDefault(reason, "No reason given")}, e.waitingOfType(typ), after)
	if _, err := e.apply(ctx, &intent.Change{Records: []clarity.Record{r}}); err != nil {
		return fmt.Errorf("resume type %s: record the resume: %w", typ, err)
	}
	e.unpauseTypeLocked(typ, after)
	e.log.Info("intent type resumed", "type", typ, "by", operator)
	return nil
}

// typePauseError words a type pause's conflict in the type's terms; it
// matches ErrAlreadyPaused or ErrNotPaused (sentinel) with errors.Is.
type typePauseError struct {
	msg      string
	sentinel error
}

func (e *typePauseError) Error() string { return e.msg }
func (e *typePauseError) Unwrap() error { return e.sentinel }

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

// unpauseTypeLocked forgets typ's pause (after, the pauses left) and lets
// its intents dispatch. The caller holds e.pause.mu.
func (e *Engine) unpauseTypeLocked(typ string, after map[string]PauseInfo) {
	e.pause.types = after
	delete(e.pause.typeOverdue, typ)
	e.queue.Unhold(typ)
	e.wake()
}

// waitingOfType is how many intents of typ are queued.
func (e *Engine) waitingOfType(typ string) int {
	return e.queue.CountOf(typ)
}

// PausedTypes returns the types paused on their own, by type, each with
// the number of its intents waiting.
func (e *Engine) PausedTypes() []TypePause {
	e.pause.mu.Lock()
	defer e.pause.mu.Unlock()
	if len(e.pause.types) == 0 {
		return nil
	}
	counts := e.queue.HeldCounts()
	out := make([]TypePause, 0, len(e.pause.types))
	for typ, p := range e.pause.types {
		out = append(out, TypePause{Type: typ, PauseInfo: p, Waiting: counts[typ]})
	}
	slices.SortFunc(out, func(a, b TypePause) int { return strings.Compare(a.Type, b.Type) })
	return out
}

// withPause returns a copy of m with typ set to *p, or removed when p is
// nil.
func withPause(m map[string]PauseInfo, typ string, p *PauseInfo) map[string]PauseInfo {
	out := maps.Clone(m)
	if out == nil {
		out = map[string]PauseInfo{}
	}
	if p != nil {
		out[typ] = *p
	} else {
		delete(out, typ)
	}
	return out
}

// checkTypeAutoResume undoes each type pause that has lasted
// scheduler.auto_resume_after while intents of the type wait, as
// checkAutoResume does for the scheduler's (with the safeguard off, the
// overrun is narrated once per pause). It runs on the supervisor's
// heartbeat tick.
func (e *Engine) checkTypeAutoResume(context.Context) {
	e.pause.mu.Lock()
	defer e.pause.mu.Unlock()
	if len(e.pause.types) == 0 {
		return
	}
	now, limit, counts := e.clock.Now(), e.cfg.Scheduler.AutoResumeAfter, e.queue.HeldCounts()
	for _, typ := range slices.Sorted(maps.Keys(e.pause.types)) {
		p, waiting := e.pause.types[typ], counts[typ]
		if now.Sub(p.Since) < limit || waiting == 0 {
			continue
		}
		if !e.cfg.SafeguardEnabled(SafeguardSchedulerAutoResume) {
			if !e.pause.typeOverdue[typ] {
				if e.pause.typeOverdue == nil {
					e.pause.typeOverdue = map[string]bool{}
				}
				e.pause.typeOverdue[typ] = true
				r := pauseOverdueRecord(now, p, limit, waiting)
				r.Why[0] = fmt.Sprintf("Type %s paused by %s for %s, past scheduler.auto_resume_after (%v), while %d of its intents wait", typ, p.By, roundDur(now.Sub(p.Since)), limit, waiting)
				r.Context["type"] = typ
				e.note(r)
			}
			continue
		}
		after := withPause(e.pause.types, typ, nil)
		why := []string{
			fmt.Sprintf("The pause of type %s lasted %s, past scheduler.auto_resume_after (%v), while %d of its intents waited", typ, roundDur(now.Sub(p.Since)), limit, waiting),
			"scheduler_auto_resume: a forgotten or faulty pause must not starve the queue",
		}
		e.note(typeResumedRecord(now, actorAutoResume, "pause_watchdog", typ, p, why, waiting, after))
		e.unpauseTypeLocked(typ, after)
		e.log.Warn("intent type resumed automatically", "type", typ, "paused_by", p.By, "paused_for", now.Sub(p.Since), "waiting", waiting)
	}
}

// restoreTypePauses starts the engine with the type pauses it was left
// with: every type_paused and type_resumed record carries the whole set
// of type pauses after it (paused_types), so the newest of them says it.
func (e *Engine) restoreTypePauses(ctx context.Context) error {
	if e.searcher == nil {
		return nil
	}
	var newest clarity.Entry
	for _, what := range []string{WhatTypePaused, WhatTypeResumed} {
		es, err := e.searcher.Search(ctx, clarity.Query{Action: what, Limit: 1})
		if err != nil {
			return wrapRestore(err)
		}
		if len(es) > 0 && es[0].ID > newest.ID {
			newest = es[0]
		}
	}
	pauses := readTypePauses(newest.Context["paused_types"])
	if len(pauses) == 0 {
		return nil
	}
	types := make([]string, 0, len(pauses))
	for _, typ := range slices.Sorted(maps.Keys(pauses)) {
		p := pauses[typ]
		types = append(types, fmt.Sprintf("%s (by %s at %s: %s)", typ, p.By, p.Since.UTC().Format("2006-01-02 15:04:05Z"), p.Reason))
	}
	r := rec(e.clock.Now(), actorRecovery, WhatTypePausesRestored, whereScheduler, "startup_recovery", "paused", "",
		[]string{
			"These intent types were paused and not resumed before the engine stopped: " + strings.Join(types, "; "),
			"A type pause lasts until someone resumes it, across restarts; its queued intents wait",
		},
		map[string]any{"types": slices.Sorted(maps.Keys(pauses)), "pause_record": newest.ID})
	if _, err := e.apply(ctx, &intent.Change{Records: []clarity.Record{r}}); err != nil {
		return wrapRestore(err)
	}
	e.pause.mu.Lock()
	e.pause.types = pauses
	for typ := range pauses {
		e.queue.Hold(typ)
	}
	e.pause.mu.Unlock()
	e.log.Warn("intent types start paused, as they were left", "types", slices.Sorted(maps.Keys(pauses)))
	return nil
}

// typePausesContext is the paused_types context of a type pause record:
// the set of type pauses after it, by type.
func typePausesContext(pauses map[string]PauseInfo) []any {
	out := make([]any, 0, len(pauses))
	for _, typ := range slices.Sorted(maps.Keys(pauses)) {
		p := pauses[typ]
		out = append(out, map[string]any{"type": typ, "by": p.By, "reason": p.Reason, "since": p.Since.UTC().Format(time.RFC3339Nano)})
	}
	return out
}

// readTypePauses reads back what typePausesContext wrote, from the record
// as the store returns it; entries it cannot read are skipped.
func readTypePauses(v any) map[string]PauseInfo {
	list, _ := v.([]any)
	out := map[string]PauseInfo{}
	for _, item := range list {
		m, _ := item.(map[string]any)
		typ, _ := m["type"].(string)
		by, _ := m["by"].(string)
		reason, _ := m["reason"].(string)
		s, _ := m["since"].(string)
		since, err := time.Parse(time.RFC3339Nano, s)
		if typ == "" || err != nil {
			continue
		}
		out[typ] = PauseInfo{By: by, Reason: orDefault(reason, "(no reason on the record)"), Since: since}
	}
	return out
}

func typePausedRecord(typ string, p PauseInfo, waiting int, after map[string]PauseInfo, limit time.Duration, autoResume bool) clarity.Record {
	why := []string{
		"Reason: " + p.Reason,
		fmt.Sprintf("Intents of type %s (%d queued now) wait; running ones finish; submissions are still accepted; other types dispatch as before", typ, waiting),
	}
	if autoResume {
		why = append(why, fmt.Sprintf("scheduler_auto_resume undoes the pause after %v if intents of the type are waiting", limit))
	} else {
		why = append(why, "scheduler_auto_resume is off: the pause lasts until someone resumes")
	}
	r := rec(p.Since, p.By, WhatTypePaused, whereScheduler, "operator_command", "paused", "", why,
		map[string]any{"type": typ, "by": p.By, "reason": p.Reason, "queued": waiting, "auto_resume_after_s": limit.Seconds(),
			"paused_types": typePausesContext(after)})
	r.Risk = 0.4
	return r
}

func typeResumedRecord(now time.Time, who, how, typ string, p PauseInfo, why []string, waiting int, after map[string]PauseInfo) clarity.Record {
	why = append(why, fmt.Sprintf("Type %s paused by %s for %s (%s); %d of its intents queued now dispatch", typ, p.By, roundDur(now.Sub(p.Since)), p.Reason, waiting))
	r := rec(now, who, WhatTypeResumed, whereScheduler, how, "resumed", "", why,
		map[string]any{"type": typ, "paused_by": p.By, "paused_for_s": now.Sub(p.Since).Seconds(), "queued": waiting,
			"paused_types": typePausesContext(after)})
	r.Risk = 0.2
	return r
}
