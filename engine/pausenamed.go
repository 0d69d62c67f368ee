package engine

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"grace/engine/clarity"
	"grace/engine/htm"
	"grace/engine/intent"
)

// pauseKind is one kind of pause narrower than the scheduler's: of one
// intent type (PauseType) or of one actor (PauseActor). Each holds back
// the queued intents it matches (an htm.Hold) while the others dispatch,
// goes on the record with the whole set of its kind after it and lasts
// across restarts, in the same way; an intent that pauses of both kinds
// match waits until both are resumed. scheduler_auto_resume undoes a
// forgotten type pause (autoResume); an actor's is a quarantine, lifted by
// a person only, and the watchdog's alert on it (critical past
// watchdog.scheduler.max_pause) keeps it from being forgotten.
type pauseKind struct {
	noun, plural string // "type", "types": the records' context keys and the words in prose
	title        string // "Type": noun at the start of a sentence
	aPause       string // "A type pause"
	several      string // "intent types": the restored record's words for the set
	logNoun      string // "intent type": the log's words
	// The records: paused, resumed, and restored at start; setField is
	// the context field of the first two carrying the set after them.
	paused, resumed, restored, setField string
	hold                                func(name string) htm.Hold
	state                               func(*pauseState) *namedPauses
	// autoResume: scheduler_auto_resume undoes a pause of this kind that
	// outlasts scheduler.auto_resume_after while its intents wait.
	autoResume bool
}

var (
	typePauses = &pauseKind{
		noun: "type", plural: "types", title: "Type", aPause: "A type pause", several: "intent types", logNoun: "intent type",
		paused: WhatTypePaused, resumed: WhatTypeResumed, restored: WhatTypePausesRestored, setField: "paused_types",
		hold: htm.TypeHold, state: func(p *pauseState) *namedPauses { return &p.types }, autoResume: true,
	}
	actorPauses = &pauseKind{
		noun: "actor", plural: "actors", title: "Actor", aPause: "An actor pause", several: "actors", logNoun: "actor",
		paused: WhatActorPaused, resumed: WhatActorResumed, restored: WhatActorPausesRestored, setField: "paused_actors",
		hold: htm.ActorHold, state: func(p *pauseState) *namedPauses { return &p.actors },
	}
	pauseKinds = []*pauseKind{typePauses, actorPauses}
)

// namedPause is one pause of a kind as a snapshot shows it.
type namedPause struct {
	name string
	PauseInfo
	waiting int
}

// pauseNamed pauses the intents of name (of kind k) on operator's
// authority, who and name checked already: see PauseType.
func (e *Engine) pauseNamed(ctx context.Context, k *pauseKind, operator, name, reason string) error {
	if reason == "" {
		return fmt.Errorf("pause %s %s: %w", k.noun, name, ErrReasonRequired)
	}
	if !e.ready.Load() {
		return fmt.Errorf("pause %s %s: %w", k.noun, name, ErrStopped)
	}
	e.pause.mu.Lock()
	defer e.pause.mu.Unlock()
	st := k.state(e.pause)
	if _, p, ok := k.find(st.on, name); ok {
		return &namedPauseError{fmt.Sprintf("pause %s %s: it is already paused (by %s since %s: %s)", k.noun, name, p.By, p.Since.UTC().Format(time.RFC3339), p.Reason), ErrAlreadyPaused}
	}
	info := PauseInfo{By: operator, Reason: reason, Since: e.clock.Now()}
	after := withPause(st.on, name, &info)
	waiting, _ := e.queue.Matching(k.hold(name))
	r := k.pausedRecord(name, info, waiting, after, e.cfg.Scheduler.AutoResumeAfter, e.cfg.SafeguardEnabled(SafeguardSchedulerAutoResume))
	if _, err := e.apply(ctx, &intent.Change{Records: []clarity.Record{r}}); err != nil {
		return fmt.Errorf("pause %s %s: record the pause: %w", k.noun, name, err)
	}
	st.on = after
	delete(st.overdue, name)
	// Under the gate, as a scheduler pause: a dispatch of one of its
	// intents that looked at the queue before this has ended when Hold
	// returns.
	e.pause.gate.Lock()
	e.queue.Hold(k.hold(name))
	e.pause.gate.Unlock()
	e.log.Warn(k.logNoun+" paused", k.noun, name, "by", operator, "reason", reason, "waiting", waiting)
	return nil
}

// resumeNamed lets the intents of name (of kind k) dispatch again, unless
// another pause holds them: see ResumeType.
func (e *Engine) resumeNamed(ctx context.Context, k *pauseKind, operator, name, reason string) error {
	e.pause.mu.Lock()
	defer e.pause.mu.Unlock()
	st := k.state(e.pause)
	name, p, ok := k.find(st.on, name)
	if !ok {
		return &namedPauseError{fmt.Sprintf("resume %s %s: it is not paused%s", k.noun, name, resumedText(st.resumed[k.hold(name)])), ErrNotPaused}
	}
	now := e.clock.Now()
	after := withPause(st.on, name, nil)
	waiting, still := e.queue.Matching(k.hold(name))
	r := k.resumedRecord(now, operator, "operator_command", name, p, []string{orDefault(reason, "No reason given")}, waiting, still, after)
	if _, err := e.apply(ctx, &intent.Change{Records: []clarity.Record{r}}); err != nil {
		return fmt.Errorf("resume %s %s: record the resume: %w", k.noun, name, err)
	}
	e.unpauseNamedLocked(k, name, after, PauseInfo{By: operator, Reason: reason, Since: now})
	e.log.Info(k.logNoun+" resumed", k.noun, name, "by", operator)
	return nil
}

// find returns the pause of k in on that holds the intents of name: its
// name as it was paused (an actor paused as "Agent.X" is agent.x: their
// holds are one) and the pause; ok is false when none does. name is
// returned as given when none does.
func (k *pauseKind) find(on map[string]PauseInfo, name string) (paused string, p PauseInfo, ok bool) {
	if p, ok := on[name]; ok {
		return name, p, true
	}
	h := k.hold(name)
	for n, p := range on {
		if k.hold(n) == h {
			return n, p, true
		}
	}
	return name, PauseInfo{}, false
}

// namedPauseError words a type's or an actor's pause conflict in its own
// terms; it matches ErrAlreadyPaused or ErrNotPaused (sentinel) with
// errors.Is.
type namedPauseError struct {
	msg      string
	sentinel error
}

func (e *namedPauseError) Error() string { return e.msg }
func (e *namedPauseError) Unwrap() error { return e.sentinel }

// unpauseNamedLocked forgets name's pause of kind k (after, the pauses
// left), remembers who resumed it (resumed), and lets its intents
// dispatch, those another pause holds apart. The caller holds
// e.pause.mu.
func (e *Engine) unpauseNamedLocked(k *pauseKind, name string, after map[string]PauseInfo, resumed PauseInfo) {
	st := k.state(e.pause)
	st.on = after
	delete(st.overdue, name)
	if st.resumed == nil {
		st.resumed = map[htm.Hold]PauseInfo{}
	}
	st.resumed[k.hold(name)] = resumed
	e.queue.Unhold(k.hold(name))
	e.wake()
}

// pausedNamed returns the pauses of kind k, by name, each with the number
// of its intents waiting.
func (e *Engine) pausedNamed(k *pauseKind) []namedPause {
	e.pause.mu.Lock()
	defer e.pause.mu.Unlock()
	on := k.state(e.pause).on
	if len(on) == 0 {
		return nil
	}
	counts := e.queue.HeldCounts()
	out := make([]namedPause, 0, len(on))
	for _, name := range slices.Sorted(maps.Keys(on)) {
		out = append(out, namedPause{name: name, PauseInfo: on[name], waiting: counts[k.hold(name)]})
	}
	return out
}

// withPause returns a copy of m with name set to *p, or removed when p is
// nil.
func withPause(m map[string]PauseInfo, name string, p *PauseInfo) map[string]PauseInfo {
	out := maps.Clone(m)
	if out == nil {
		out = map[string]PauseInfo{}
	}
	if p != nil {
		out[name] = *p
	} else {
		delete(out, name)
	}
	return out
}

// checkNamedAutoResume undoes each type pause (each pause of a kind with
// autoResume) that has lasted scheduler.auto_resume_after while its
// intents wait, as checkAutoResume does for the scheduler's (with the
// safeguard off, the overrun is narrated once per pause). It runs on the
// supervisor's heartbeat tick.
func (e *Engine) checkNamedAutoResume(context.Context) {
	e.pause.mu.Lock()
	defer e.pause.mu.Unlock()
	var counts map[htm.Hold]int
	for _, k := range pauseKinds {
		st := k.state(e.pause)
		if !k.autoResume || len(st.on) == 0 {
			continue
		}
		if counts == nil {
			counts = e.queue.HeldCounts()
		}
		now, limit := e.clock.Now(), e.cfg.Scheduler.AutoResumeAfter
		for _, name := range slices.Sorted(maps.Keys(st.on)) {
			p, waiting := st.on[name], counts[k.hold(name)]
			if now.Sub(p.Since) < limit || waiting == 0 {
				continue
			}
			if !e.cfg.SafeguardEnabled(SafeguardSchedulerAutoResume) {
				if !st.overdue[name] {
					if st.overdue == nil {
						st.overdue = map[string]bool{}
					}
					st.overdue[name] = true
					r := pauseOverdueRecord(now, p, limit, waiting)
					r.Why[0] = fmt.Sprintf("%s %s paused by %s for %s, past scheduler.auto_resume_after (%v), while %d of its intents wait", k.title, name, p.By, roundDur(now.Sub(p.Since)), limit, waiting)
					r.Context[k.noun] = name
					e.note(r)
				}
				continue
			}
			after := withPause(st.on, name, nil)
			_, still := e.queue.Matching(k.hold(name))
			why := []string{
				fmt.Sprintf("The pause of %s %s lasted %s, past scheduler.auto_resume_after (%v), while %d of its intents waited", k.noun, name, roundDur(now.Sub(p.Since)), limit, waiting),
				"scheduler_auto_resume: a forgotten or faulty pause must not starve the queue",
			}
			e.note(k.resumedRecord(now, actorAutoResume, "pause_watchdog", name, p, why, waiting, still, after))
			e.unpauseNamedLocked(k, name, after, PauseInfo{By: actorAutoResume, Reason: why[0], Since: now})
			e.log.Warn(k.logNoun+" resumed automatically", k.noun, name, "paused_by", p.By, "paused_for", now.Sub(p.Since), "waiting", waiting)
		}
	}
}

// restoreNamedPauses starts the engine with the pauses of types and of
// actors it was left with: every paused and resumed record of a kind
// carries the whole set of that kind after it (paused_types,
// paused_actors), so the newest of them says it.
func (e *Engine) restoreNamedPauses(ctx context.Context) error {
	if e.searcher == nil {
		return nil
	}
	for _, k := range pauseKinds {
		if err := e.restoreKind(ctx, k); err != nil {
			return err
		}
	}
	return nil
}

func (e *Engine) restoreKind(ctx context.Context, k *pauseKind) error {
	var newest clarity.Entry
	for _, what := range []string{k.paused, k.resumed} {
		es, err := e.searcher.Search(ctx, clarity.Query{Action: what, Limit: 1})
		if err != nil {
			return wrapRestore(err)
		}
		if len(es) > 0 && es[0].ID > newest.ID {
			newest = es[0]
		}
	}
	pauses := readNamedPauses(k.noun, newest.Context[k.setField])
	if len(pauses) == 0 {
		return nil
	}
	names := slices.Sorted(maps.Keys(pauses))
	told := make([]string, 0, len(pauses))
	for _, name := range names {
		p := pauses[name]
		told = append(told, fmt.Sprintf("%s (by %s at %s: %s)", name, p.By, p.Since.UTC().Format("2006-01-02 15:04:05Z"), p.Reason))
	}
	r := rec(e.clock.Now(), actorRecovery, k.restored, whereScheduler, "startup_recovery", "paused", "",
		[]string{
			"These " + k.several + " were paused and not resumed before the engine stopped: " + strings.Join(told, "; "),
			k.aPause + " lasts until someone resumes it, across restarts; its queued intents wait",
		},
		map[string]any{k.plural: names, "pause_record": newest.ID})
	if _, err := e.apply(ctx, &intent.Change{Records: []clarity.Record{r}}); err != nil {
		return wrapRestore(err)
	}
	e.pause.mu.Lock()
	k.state(e.pause).on = pauses
	for name := range pauses {
		e.queue.Hold(k.hold(name))
	}
	e.pause.mu.Unlock()
	e.log.Warn(k.logNoun+"s start paused, as they were left", k.plural, names)
	return nil
}

// namedPausesContext is the set field of a pause record of a kind whose
// noun is noun: the set of its pauses after the record, by name.
func namedPausesContext(noun string, pauses map[string]PauseInfo) []any {
	out := make([]any, 0, len(pauses))
	for _, name := range slices.Sorted(maps.Keys(pauses)) {
		p := pauses[name]
		out = append(out, map[string]any{noun: name, "by": p.By, "reason": p.Reason, "since": p.Since.UTC().Format(time.RFC3339Nano)})
	}
	return out
}

// readNamedPauses reads back what namedPausesContext wrote, from the
// record as the store returns it; entries it cannot read are skipped.
func readNamedPauses(noun string, v any) map[string]PauseInfo {
	list, _ := v.([]any)
	out := map[string]PauseInfo{}
	for _, item := range list {
		m, _ := item.(map[string]any)
		name, _ := m[noun].(string)
		by, _ := m["by"].(string)
		reason, _ := m["reason"].(string)
		s, _ := m["since"].(string)
		since, err := time.Parse(time.RFC3339Nano, s)
		if name == "" || err != nil {
			continue
		}
		out[name] = PauseInfo{By: by, Reason: orDefault(reason, "(no reason on the record)"), Since: since}
	}
	return out
}

func (k *pauseKind) pausedRecord(name string, p PauseInfo, waiting int, after map[string]PauseInfo, limit time.Duration, autoResume bool) clarity.Record {
	why := []string{
		"Reason: " + p.Reason,
		fmt.Sprintf("Intents of %s %s (%d queued now) wait; running ones finish; submissions are still accepted; other %s dispatch as before", k.noun, name, waiting, k.plural),
	}
	ctx := map[string]any{k.noun: name, "by": p.By, "reason": p.Reason, "queued": waiting, k.setField: namedPausesContext(k.noun, after)}
	if k.autoResume {
		ctx["auto_resume_after_s"] = limit.Seconds()
	}
	switch {
	case !k.autoResume:
		why = append(why, "A quarantine lasts until someone resumes it (scheduler_auto_resume leaves it); the watchdog warns while it holds work")
	case autoResume:
		why = append(why, fmt.Sprintf("scheduler_auto_resume undoes the pause after %v if intents of the %s are waiting", limit, k.noun))
	default:
		why = append(why, "scheduler_auto_resume is off: the pause lasts until someone resumes")
	}
	r := rec(p.Since, p.By, k.paused, whereScheduler, "operator_command", "paused", "", why, ctx)
	r.Risk = 0.4
	return r
}

// resumedRecord is the record of resuming name: waiting of its intents
// are queued, still of them held by another pause.
func (k *pauseKind) resumedRecord(now time.Time, who, how, name string, p PauseInfo, why []string, waiting, still int, after map[string]PauseInfo) clarity.Record {
	line := fmt.Sprintf("%s %s paused by %s for %s (%s); %d of its intents queued now dispatch", k.title, name, p.By, roundDur(now.Sub(p.Since)), p.Reason, waiting)
	if still > 0 {
		line = fmt.Sprintf("%s %s paused by %s for %s (%s); of its %d intents queued, %d now dispatch and %d stay held by another pause", k.title, name, p.By, roundDur(now.Sub(p.Since)), p.Reason, waiting, waiting-still, still)
	}
	ctx := map[string]any{k.noun: name, "paused_by": p.By, "paused_for_s": now.Sub(p.Since).Seconds(), "queued": waiting,
		k.setField: namedPausesContext(k.noun, after)}
	if still > 0 {
		ctx["still_held"] = still
	}
	r := rec(now, who, k.resumed, whereScheduler, how, "resumed", "", append(why, line), ctx)
	r.Risk = 0.2
	return r
}
