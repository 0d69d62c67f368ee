package engine

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"grace/engine/clarity"
	"grace/engine/htm"
	"grace/engine/intent"
)

// Errors of pausing and resuming the scheduler.
var (
	// ErrAlreadyPaused: a pause of a scheduler that is paused already.
	ErrAlreadyPaused = errors.New("the scheduler is already paused")
	// ErrNotPaused: a resume of a scheduler that is not paused.
	ErrNotPaused = errors.New("the scheduler is not paused")
)

// SchedulerControl pauses and resumes the scheduler on an operator's
// authority. *Engine implements it. It stands apart from OperatorAPI so
// that the console and the HTTP API can take it up when they carry it
// (a remote engine's client implements OperatorAPI too).
type SchedulerControl interface {
	PauseScheduler(ctx context.Context, operator, reason string) error
	ResumeScheduler(ctx context.Context, operator, reason string) error
}

var _ SchedulerControl = (*Engine)(nil)

// PauseInfo says who paused the scheduler, when and why.
type PauseInfo struct {
	By     string    `json:"by"`
	Reason string    `json:"reason"`
	Since  time.Time `json:"since"`
	// Fault is true when a fault hook paused it (InjectSchedulerPause).
	Fault bool `json:"fault,omitempty"`
}

// pauseState is whether the scheduler is paused. on is read by the
// dispatch loop without locking; mu serialises pauses and resumes with
// their records, so that of two racing commands exactly one wins.
type pauseState struct {
	on atomic.Bool
	// gate is held by the scheduler from its look at on to the dispatch
	// that follows, and by a pause while it sets on: once a pause has
	// returned, no dispatch that looked before it is still under way.
	gate    sync.Mutex
	mu      sync.Mutex
	info    PauseInfo
	overdue bool // the overrun was narrated (scheduler_auto_resume off)
	// resumed is the last resume since start: who (an operator, or
	// scheduler_auto_resume), when (Since) and why, for a resume that
	// finds the scheduler running to say whose came first.
	resumed PauseInfo
	// types are the intent types paused on their own (PauseType), actors
	// the actors paused (PauseActor); both under mu.
	types, actors namedPauses
}

// namedPauses are the pauses of one kind (see pauseKind) in force, by
// name, and those whose overrun was narrated (scheduler_auto_resume off).
type namedPauses struct {
	on      map[string]PauseInfo
	overdue map[string]bool
	// resumed is the last resume since start of each hold, as
	// pauseState.resumed.
	resumed map[htm.Hold]PauseInfo
}

// resumedText says who resumed a pause, and when, for a resume that
// finds it resumed already (" (resumed by bob at 2026-…Z)"): of two
// operators resuming at once, the one a moment late learns whose resume
// came first. "" when none was seen since start.
func resumedText(p PauseInfo) string {
	if p.By == "" {
		return ""
	}
	return fmt.Sprintf(" (resumed by %s at %s)", p.By, p.Since.UTC().Format(time.RFC3339))
}

func (p *pauseState) paused() bool { return p.on.Load() }

// current returns the pause, and false when the scheduler runs.
func (p *pauseState) current() (PauseInfo, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.info, p.on.Load()
}

// PauseScheduler stops dispatching on operator's authority: queued work
// waits, running tasks finish, submissions are still accepted. It returns
// once the scheduler_paused record is durable. operator and reason are
// required (ErrOperatorRequired, ErrReasonRequired); a paused scheduler
// gives ErrAlreadyPaused, an engine that is not running ErrStopped. With
// scheduler_auto_resume on, a pause that outlasts
// scheduler.auto_resume_after while work waits is undone. A pause lasts
// until resumed, across restarts: a restarted engine reads its last pause
// from the record and starts paused (restorePause).
func (e *Engine) PauseScheduler(ctx context.Context, operator, reason string) error {
	return e.pauseScheduler(ctx, strings.TrimSpace(operator), strings.TrimSpace(reason), false)
}

func (e *Engine) pauseScheduler(ctx context.Context, by, reason string, fault bool) error {
	switch {
	case by == "":
		return fmt.Errorf("pause scheduler: %w", ErrOperatorRequired)
	case reason == "":
		return fmt.Errorf("pause scheduler: %w", ErrReasonRequired)
	case !e.ready.Load():
		return fmt.Errorf("pause scheduler: %w", ErrStopped)
	}
	e.pause.mu.Lock()
	defer e.pause.mu.Unlock()
	if e.pause.on.Load() {
		i := e.pause.info
		return fmt.Errorf("pause scheduler: %w (by %s since %s: %s)", ErrAlreadyPaused, i.By, i.Since.UTC().Format(time.RFC3339), i.Reason)
	}
	info := PauseInfo{By: by, Reason: reason, Since: e.clock.Now(), Fault: fault}
	r := pausedRecord(info, e.queue.Len(), e.cfg.Scheduler.AutoResumeAfter, e.cfg.SafeguardEnabled(SafeguardSchedulerAutoResume))
	if _, err := e.apply(ctx, &intent.Change{Records: []clarity.Record{r}}); err != nil {
		return fmt.Errorf("pause scheduler: record the pause: %w", err)
	}
	e.pause.info, e.pause.overdue = info, false
	e.pause.gate.Lock()
	e.pause.on.Store(true)
	e.pause.gate.Unlock()
	e.log.Warn("scheduler paused", "by", by, "reason", reason, "fault", fault)
	return nil
}

// ResumeScheduler lets the scheduler dispatch again on operator's
// authority; reason is optional. It returns once the scheduler_resumed
// record is durable. operator is required (ErrOperatorRequired); a
// scheduler that is not paused gives ErrNotPaused.
func (e *Engine) ResumeScheduler(ctx context.Context, operator, reason string) error {
	operator, reason = strings.TrimSpace(operator), strings.TrimSpace(reason)
	if operator == "" {
		return fmt.Errorf("resume scheduler: %w", ErrOperatorRequired)
	}
	e.pause.mu.Lock()
	defer e.pause.mu.Unlock()
	if !e.pause.on.Load() {
		return fmt.Errorf("resume scheduler: %w%s", ErrNotPaused, resumedText(e.pause.resumed))
	}
	now := e.clock.Now()
	r := resumedRecord(now, operator, "operator_command", e.pause.info, []string{orDefault(reason, "No reason given")}, e.queue.Len())
	if _, err := e.apply(ctx, &intent.Change{Records: []clarity.Record{r}}); err != nil {
		return fmt.Errorf("resume scheduler: record the resume: %w", err)
	}
	e.pause.on.Store(false)
	e.pause.resumed = PauseInfo{By: operator, Reason: reason, Since: now}
	e.log.Info("scheduler resumed", "by", operator)
	e.wake()
	return nil
}

// checkAutoResume undoes a pause that has lasted scheduler.auto_resume_after
// while work waits (scheduler_auto_resume). With the safeguard off the
// overrun is narrated once and the pause stands. It runs on the
// supervisor's heartbeat tick.
func (e *Engine) checkAutoResume(context.Context) {
	e.pause.mu.Lock()
	defer e.pause.mu.Unlock()
	if !e.pause.on.Load() {
		return
	}
	now, limit, info := e.clock.Now(), e.cfg.Scheduler.AutoResumeAfter, e.pause.info
	waiting := e.queue.Len()
	if now.Sub(info.Since) < limit || waiting == 0 {
		return
	}
	if !e.cfg.SafeguardEnabled(SafeguardSchedulerAutoResume) {
		if !e.pause.overdue {
			e.pause.overdue = true
			e.note(pauseOverdueRecord(now, info, limit, waiting))
		}
		return
	}
	why := []string{
		fmt.Sprintf("The pause lasted %s, past scheduler.auto_resume_after (%v), while %d intents waited", roundDur(now.Sub(info.Since)), limit, waiting),
		"scheduler_auto_resume: a forgotten or faulty pause must not starve the queue",
	}
	e.note(resumedRecord(now, actorAutoResume, "pause_watchdog", info, why, waiting))
	e.pause.on.Store(false)
	e.pause.resumed = PauseInfo{By: actorAutoResume, Reason: why[0], Since: now}
	e.log.Warn("scheduler resumed automatically", "paused_by", info.By, "paused_for", now.Sub(info.Since), "waiting", waiting)
	e.wake()
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
