package engine

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"grace/engine/clarity"
	"grace/engine/watchdog"
)

// Alert silences, as an operator of Alertmanager knows them: an operator
// mutes the notifications of the alerts a match selects ("component/
// condition", "component/*", "*/condition", or "*" for a maintenance
// window) for a while, with a reason. The watchdog still raises and
// records those alerts (the record is the truth), every place that shows a
// firing alert marks it silenced (watchdog.Alert.Silenced), and its
// events carry the mark, so that the notifier sends nothing of them.
// When a silence ends, early or at its end, what the webhooks missed
// under it is announced, once, marked after_silence (for each alert that
// no other silence mutes): an alert still firing whose change it muted
// (raised, escalated or de-escalated under it: what the webhooks were
// last told differs from what fires now), as raised; and the resolution
// of an alert the webhooks were told fired, resolved under it. An alert
// that did not change under the silence is not announced again, and one
// raised and resolved under it sends nothing. Nothing stays hidden.
//
// The engine knows what the webhooks were told from the alert events it
// published since it started; for an alert left firing by an earlier run
// that a silence mutes at start it cannot know it, and announces the
// alert when the silence ends as if it had changed (and its resolution,
// unless the silence muted its raise).
//
// A silence lasts watchdog.MinSilence (a minute) to watchdog.MaxSilence
// (30 days); at most MaxActiveSilences are active at once. Silences
// persist (SilenceStore) and mute again after a restart; making and
// ending one goes on the record (alert_silenced, alert_silence_ended),
// and so does an expiry, noticed on the engine's clock. An ended or
// expired silence is kept, and listed, watchdog.SilenceRetention (30
// days) after it ended, then deleted from the store (its records stay).

// The records of alert silences.
const (
	WhatAlertSilenced     = "alert_silenced"
	WhatAlertSilenceEnded = "alert_silence_ended"
)

// actorSilenceExpiry is the Who of a silence's expiry; whereAlerts the
// Where of the silences' records.
const (
	actorSilenceExpiry = "alert_silence_expiry"
	whereAlerts        = "alert_silences"
)

var (
	// ErrSilenceNotFound: no silence has the ID.
	ErrSilenceNotFound = errors.New("no such silence")
	// ErrSilenceEnded: the silence ended (or expired) already; nothing
	// was changed.
	ErrSilenceEnded = errors.New("the silence has already ended")
	// ErrNoSilences: the engine's store keeps no silences.
	ErrNoSilences = errors.New("this engine keeps no alert silences")
	// ErrTooManySilences: MaxActiveSilences are active; nothing was
	// made.
	ErrTooManySilences = errors.New("too many active alert silences")
)

// MaxActiveSilences bounds the silences active at once: one more is
// refused (ErrTooManySilences) until one ends. Silences are kept in
// memory and every alert is matched against them; a thousand is far more
// than operators make by hand.
const MaxActiveSilences = 1000

// SilenceStore keeps alert silences across restarts. The store implements
// it.
type SilenceStore interface {
	// SaveSilence writes s, replacing the silence of its ID, and recs,
	// all in one transaction, and returns once they are durable.
	SaveSilence(ctx context.Context, s watchdog.Silence, recs ...clarity.Record) error
	// StoredSilences returns the silences q selects, newest first.
	StoredSilences(ctx context.Context, q watchdog.SilenceQuery) ([]watchdog.Silence, error)
	// PruneSilences deletes the silences that ended (or were stored as
	// expired) before endedBefore and returns how many.
	PruneSilences(ctx context.Context, endedBefore time.Time) (int, error)
}

// SilenceRequest asks for a silence: Match, a reason, and how long (For)
// or until when (Until): one of the two, at least watchdog.MinSilence and
// at most watchdog.MaxSilence.
type SilenceRequest struct {
	Match    string
	For      time.Duration
	Until    time.Time
	Reason   string
	Operator string
}

// AlertSilencer mutes alerts' notifications for a while. *Engine
// implements it, and so does the HTTP API's client.
type AlertSilencer interface {
	// SilenceAlerts makes a silence on req.Operator's authority.
	SilenceAlerts(ctx context.Context, req SilenceRequest) (watchdog.Silence, error)
	// EndSilence ends silence id before its time, with a reason.
	EndSilence(ctx context.Context, id, operator, reason string) (watchdog.Silence, error)
	// Silences returns the active silences, newest first; all adds the
	// ended and expired ones (the newest 100 of every state; an ended one
	// is kept watchdog.SilenceRetention after it ended).
	Silences(ctx context.Context, all bool) ([]watchdog.Silence, error)
}

var _ AlertSilencer = (*Engine)(nil)

// keepEnded bounds the ended silences held in memory (and listed).
const keepEnded = watchdog.DefaultLimit

// maxEndedLookup bounds the silences read to tell an end of one older
// than those held in memory that it ended already.
const maxEndedLookup = 10_000

// silencePruneEvery is how often the silences ended more than
// watchdog.SilenceRetention ago are deleted from the store (and at
// start).
const silencePruneEvery = time.Hour

// silencing is the engine's state of silences.
type silencing struct {
	store SilenceStore // nil: none kept (SilenceAlerts refuses)

	// ops serialises what writes silences: making and ending one, and
	// storing the expiries noticed.
	ops sync.Mutex

	// mu guards what follows; alert events are published under it, so
	// that every subscriber sees an alert's changes and the end of a
	// silence in one order.
	mu     sync.Mutex
	loaded bool                      // Start read the store
	on     []watchdog.Silence        // the active silences, oldest first
	ended  []watchdog.Silence        // the newest ended ones, newest first
	firing map[string]watchdog.Alert // the alerts firing, as their events said, by key
	// told is, by alert key, what the webhooks were last told of a firing
	// alert: set by each of its changes published unmuted (and by its
	// announcement after a silence), dropped by its resolution.
	told map[string]toldAlert
	// resolvedMuted are, by key, the resolutions that a silence muted of
	// alerts the webhooks were told fired: sent when the last silence
	// that mutes them ends.
	resolvedMuted map[string]mutedResolution
	// unsaved are expiries noticed and not yet stored (the loop stores
	// them); each with its record.
	unsaved []silenceEnd
	wake    chan struct{} // the loop looks again
}

type silenceEnd struct {
	s   watchdog.Silence
	rec clarity.Record
}

// toldAlert is what the webhooks were told of an alert: which one, at
// what severity and peak. unknown: the alert was left firing by an
// earlier run under a silence, and what they were told is not known.
type toldAlert struct {
	id             string
	severity, peak watchdog.Status
	unknown        bool
}

func toldOf(a watchdog.Alert) toldAlert {
	return toldAlert{id: a.ID, severity: a.Severity, peak: a.Peak}
}

// mutedResolution is an alert's resolution that a silence muted, and the
// peak the webhooks were told of it before.
type mutedResolution struct {
	alert    watchdog.Alert
	toldPeak watchdog.Status
}

func newSilencing(deps Deps) *silencing {
	s := deps.Silences
	if s == nil {
		s, _ = deps.Store.(SilenceStore)
	}
	return &silencing{store: s, firing: map[string]watchdog.Alert{}, told: map[string]toldAlert{},
		resolvedMuted: map[string]mutedResolution{}, wake: make(chan struct{}, 1)}
}

func (s *silencing) poke() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// loadSilences reads the silences the store keeps (every active one, and
// the newest ended within watchdog.SilenceRetention), takes the alerts
// left firing as the watchdog will adopt them, and ends the silences
// whose time came while no engine ran. Start calls it before the
// watchdog starts, and then runs silenceLoop.
func (e *Engine) loadSilences(ctx context.Context) error {
	sil := e.sil
	if sil.store == nil {
		return nil
	}
	now := e.clock.Now()
	active, err := sil.store.StoredSilences(ctx, watchdog.SilenceQuery{Active: true, Limit: -1})
	if err != nil {
		return fmt.Errorf("read alert silences: %w", err)
	}
	recent, err := sil.store.StoredSilences(ctx, watchdog.SilenceQuery{EndedSince: now.Add(-watchdog.SilenceRetention), Limit: keepEnded})
	if err != nil {
		return fmt.Errorf("read alert silences: %w", err)
	}
	var firing []watchdog.Alert
	if h := e.watch.history; h != nil {
		if firing, err = h.Alerts(ctx, watchdog.AlertQuery{Firing: true, Limit: 1000}); err != nil {
			e.log.Warn("alert silences: read the alerts left firing", "err", err)
		}
	}
	sil.mu.Lock()
	for _, s := range active {
		if s.State == "" {
			s.State = watchdog.SilenceActive
		}
		sil.on = append(sil.on, s)
	}
	slices.SortStableFunc(sil.on, func(a, b watchdog.Silence) int { return a.CreatedAt.Compare(b.CreatedAt) })
	for _, a := range firing {
		sil.firing[a.Key] = a
		if t, ok := toldAtStart(a, sil.on); ok {
			sil.told[a.Key] = t
		}
	}
	for _, s := range recent {
		if s.State != watchdog.SilenceActive {
			sil.ended = append(sil.ended, s)
		}
	}
	sil.loaded = true
	e.expireDueLocked(now)
	sil.mu.Unlock()
	if len(active) > 0 {
		e.log.Info("alert silences restored", "active", len(active))
	}
	if len(active) > MaxActiveSilences {
		e.log.Warn("more alert silences are active than a new one may join: none is made until some end",
			"active", len(active), "max", MaxActiveSilences)
	}
	return nil
}

// toldAtStart is what the webhooks were told, as far as can be known, of
// a, left firing by an earlier run, with the silences on kept: a silence
// that mutes it now (or whose time came while no engine ran) and was made
// before it was raised muted its raise, so they were told nothing (ok
// false); one made after it (or at the same instant) may have muted its
// changes since, unknown; with none, they were told of it as it stands
// (an end of a silence announces what it muted).
func toldAtStart(a watchdog.Alert, on []watchdog.Silence) (toldAlert, bool) {
	t := toldOf(a)
	for _, s := range on {
		if !s.Matches(a.Key) {
			continue
		}
		if a.FirstSeen.After(s.CreatedAt) && a.FirstSeen.Before(s.EndsAt) {
			return toldAlert{}, false
		}
		t.unknown = true
	}
	return t, true
}

// silenceLoop ends each silence when its time comes (on the engine's
// clock) and stores the expiries noticed, until ctx ends.
func (e *Engine) silenceLoop(ctx context.Context) {
	sil := e.sil
	var pruneAt time.Time // the next prune: at once
	for {
		e.storeSilenceEnds(ctx)
		if now := e.clock.Now(); !now.Before(pruneAt) {
			e.pruneSilences(ctx, now)
			pruneAt = now.Add(silencePruneEvery)
		}
		sil.mu.Lock()
		next := pruneAt
		for _, s := range sil.on {
			if s.EndsAt.Before(next) {
				next = s.EndsAt
			}
		}
		sil.mu.Unlock()
		select {
		case <-ctx.Done():
			return
		case <-sil.wake:
		case <-e.clock.After(next.Sub(e.clock.Now())):
			sil.mu.Lock()
			e.expireDueLocked(e.clock.Now())
			sil.mu.Unlock()
		}
	}
}

// pruneSilences deletes the silences that ended more than
// watchdog.SilenceRetention before now, from the store and from those
// held in memory. A failure is logged and tried again at the next prune;
// the lists leave them out already.
func (e *Engine) pruneSilences(ctx context.Context, now time.Time) {
	sil := e.sil
	cutoff := now.Add(-watchdog.SilenceRetention)
	sil.mu.Lock()
	sil.ended = slices.DeleteFunc(sil.ended, func(s watchdog.Silence) bool { return s.EndedAt.Before(cutoff) })
	sil.mu.Unlock()
	n, err := sil.store.PruneSilences(ctx, cutoff)
	switch {
	case err != nil && ctx.Err() == nil:
		e.log.Warn("alert silences: delete those ended long ago (tried again later)", "ended_before", cutoff, "err", err)
	case n > 0:
		e.log.Info("alert silences ended long ago deleted", "count", n, "ended_before", cutoff,
			"kept_for", watchdog.SilenceRetention.String())
	}
}

// storeSilenceEnds stores the expiries noticed, each with its record. One
// that cannot be stored is logged: the store still holds the silence as
// active, and the next start ends it again (its time has passed).
func (e *Engine) storeSilenceEnds(ctx context.Context) {
	sil := e.sil
	sil.ops.Lock()
	defer sil.ops.Unlock()
	sil.mu.Lock()
	todo := sil.unsaved
	sil.unsaved = nil
	sil.mu.Unlock()
	for _, x := range todo {
		if err := sil.store.SaveSilence(ctx, x.s, x.rec); err != nil {
			if ctx.Err() == nil {
				e.log.Error("alert silence expiry not stored (the next start ends it again)", "silence_id", x.s.ID, "err", err)
			}
			continue
		}
		e.recent.add(x.rec)
	}
}

// expireDueLocked ends every active silence whose time has come at now:
// it is expired at its EndsAt, its record waits for the loop to store it,
// and what the webhooks missed under it is announced (closeSilenceLocked).
// The caller holds sil.mu.
func (e *Engine) expireDueLocked(now time.Time) {
	sil := e.sil
	if !sil.loaded {
		return
	}
	var due []watchdog.Silence
	kept := sil.on[:0:0]
	for _, s := range sil.on {
		if now.Before(s.EndsAt) {
			kept = append(kept, s)
			continue
		}
		s.State, s.EndedAt = watchdog.SilenceExpired, s.EndsAt
		due = append(due, s)
	}
	if len(due) == 0 {
		return
	}
	sil.on = kept
	for _, s := range due {
		plan := e.closeSilenceLocked(s, now)
		sil.unsaved = append(sil.unsaved, silenceEnd{s: s, rec: silenceExpiredRecord(now, s, plan)})
		e.log.Info("alert silence expired", "silence_id", s.ID, "match", s.Match, "by", s.By, "still_firing", len(plan.stillFiring),
			"announced_again", len(plan.announce), "resolutions_sent", len(plan.resolved))
	}
	sil.poke()
}

// silenceEndPlan is what the end of a silence announces, by alert key.
type silenceEndPlan struct {
	// stillFiring are the alerts it matches that still fire and that no
	// other silence mutes;
	stillFiring []string
	// announce those of them whose change it muted (what the webhooks
	// were last told is not what fires now): announced again as raised;
	announce []string
	// resolved the alerts the webhooks were told fired that resolved
	// under it (and that no other silence mutes): their resolution is
	// sent.
	resolved []string
}

// endPlanLocked is what the end of s announces at now, with others the
// silences active besides it. The caller holds sil.mu.
func (sil *silencing) endPlanLocked(s watchdog.Silence, others []watchdog.Silence, now time.Time) silenceEndPlan {
	var p silenceEndPlan
	keys := sortedKeys(sil.firing)
	for k := range sil.resolvedMuted {
		if _, firing := sil.firing[k]; !firing {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for _, key := range keys {
		if !s.Matches(key) {
			continue
		}
		if _, other := watchdog.Silencing(others, key, now); other {
			continue
		}
		if _, ok := sil.resolvedMuted[key]; ok {
			p.resolved = append(p.resolved, key)
		}
		if a, ok := sil.firing[key]; ok {
			p.stillFiring = append(p.stillFiring, key)
			if t, ok := sil.told[key]; !ok || t.unknown || t != toldOf(a) {
				p.announce = append(p.announce, key)
			}
		}
	}
	return p
}

// closeSilenceLocked keeps s (ended, and no longer in sil.on) among the
// ended silences and announces, once, what the webhooks missed under it
// of the alerts no active silence mutes (endPlanLocked): each muted
// resolution of an alert they were told fired, as a Resolved event, and
// each alert still firing whose change it muted, as a Raised event, both
// marked AfterSilence. It returns the plan it followed. The caller holds
// sil.mu.
func (e *Engine) closeSilenceLocked(s watchdog.Silence, now time.Time) silenceEndPlan {
	sil := e.sil
	sil.ended = slices.Insert(sil.ended, 0, s)
	slices.SortStableFunc(sil.ended, func(a, b watchdog.Silence) int { return b.CreatedAt.Compare(a.CreatedAt) })
	if len(sil.ended) > keepEnded {
		sil.ended = sil.ended[:keepEnded]
	}
	plan := sil.endPlanLocked(s, sil.on, now)
	for _, key := range plan.resolved {
		r := sil.resolvedMuted[key]
		delete(sil.resolvedMuted, key)
		r.alert.Silenced = nil
		e.subs.publish(Event{Kind: EventAlert, Alert: &watchdog.AlertEvent{Change: watchdog.Resolved, Alert: r.alert,
			AfterSilence: true, EndedSilence: s.ID, ToldPeak: r.toldPeak}}, true)
		e.log.Info("alert resolved under its silence, resolution sent as the silence ended", "alert_id", r.alert.ID, "key", key,
			"silence_id", s.ID)
	}
	for _, key := range plan.announce {
		a := sil.firing[key]
		a.Silenced = nil
		sil.told[key] = toldOf(a)
		e.subs.publish(Event{Kind: EventAlert, Alert: &watchdog.AlertEvent{Change: watchdog.Raised, Alert: a,
			AfterSilence: true, EndedSilence: s.ID}}, true)
		e.log.Warn("alert changed under its silence, still firing after it ended", "alert_id", a.ID, "key", a.Key,
			"severity", a.Severity.String(), "silence_id", s.ID)
	}
	return plan
}

// announceAlert publishes an alert's change to subscribers, marked with
// the silence that mutes it, if one does, and returns that silence. The
// silences whose time has come end first. It keeps the firing alerts,
// what the webhooks were told of them, and the resolutions muted, for
// the ends of silences.
func (e *Engine) announceAlert(a watchdog.Alert, ch watchdog.Change) *watchdog.SilenceRef {
	sil := e.sil
	sil.mu.Lock()
	defer sil.mu.Unlock()
	now := e.clock.Now()
	e.expireDueLocked(now)
	a.Silenced = nil
	if s, ok := watchdog.Silencing(sil.on, a.Key, now); ok {
		a.Silenced = s.Ref()
	}
	resolved := ch == watchdog.Resolved || !a.Firing()
	if resolved {
		delete(sil.firing, a.Key)
	} else {
		sil.firing[a.Key] = a
	}
	t, told := sil.told[a.Key]
	switch {
	case ch == watchdog.Continued: // not sent: the webhooks' view is unchanged
	case resolved && a.Silenced != nil && told && t.id == a.ID:
		sil.resolvedMuted[a.Key] = mutedResolution{alert: a, toldPeak: t.peak}
		delete(sil.told, a.Key)
	case resolved:
		delete(sil.told, a.Key)
	case a.Silenced == nil:
		sil.told[a.Key] = toldOf(a)
	}
	e.subs.publish(Event{Kind: EventAlert, Alert: &watchdog.AlertEvent{Change: ch, Alert: a}}, true)
	return a.Silenced
}

// markSilenced marks the firing alerts of as that an active silence mutes
// (MarkSilenced), without I/O.
func (e *Engine) markSilenced(as []watchdog.Alert) {
	sil := e.sil
	sil.mu.Lock()
	defer sil.mu.Unlock()
	if len(sil.on) == 0 {
		return
	}
	watchdog.MarkSilenced(as, sil.on, e.clock.Now())
}

// SilenceAlerts mutes the notifications of the alerts req.Match matches,
// on req.Operator's authority, for req.For or until req.Until (one of
// them: at least watchdog.MinSilence, at most watchdog.MaxSilence ahead),
// with a reason.
// It returns once the silence and its alert_silenced record are durable;
// from then on webhooks are not told of those alerts' changes, across
// restarts, until the silence ends (EndSilence, or its time). The
// watchdog still raises and records them.
//
// A match that is not one (watchdog.CheckMatch), a bad duration or time,
// and a reason or operator that is missing or not printable text
// (CheckText) are refused (a *TextError naming the field; ErrReasonRequired,
// ErrOperatorRequired), and nothing changes. ErrStopped before Start and
// after Stop; ErrNoSilences when the store keeps none; ErrTooManySilences
// when MaxActiveSilences are active.
func (e *Engine) SilenceAlerts(ctx context.Context, req SilenceRequest) (watchdog.Silence, error) {
	op, match, reason := strings.TrimSpace(req.Operator), strings.TrimSpace(req.Match), strings.TrimSpace(req.Reason)
	now := e.clock.Now()
	if err := checkSilence(op, match, reason); err != nil {
		return watchdog.Silence{}, fmt.Errorf("silence alerts: %w", err)
	}
	ends, err := silenceEndsAt(now, req.For, req.Until)
	if err != nil {
		return watchdog.Silence{}, fmt.Errorf("silence alerts: %w", err)
	}
	if e.sil.store == nil {
		return watchdog.Silence{}, fmt.Errorf("silence alerts: %w", ErrNoSilences)
	}
	if !e.ready.Load() {
		return watchdog.Silence{}, fmt.Errorf("silence alerts: %w", ErrStopped)
	}
	sil := e.sil
	sil.ops.Lock()
	defer sil.ops.Unlock()
	s := watchdog.Silence{ID: newSilenceID(now), Match: match, Reason: reason, By: op, CreatedAt: now, EndsAt: ends,
		State: watchdog.SilenceActive}
	sil.mu.Lock()
	e.expireDueLocked(e.clock.Now())
	if n := len(sil.on); n >= MaxActiveSilences {
		sil.mu.Unlock()
		return watchdog.Silence{}, fmt.Errorf("silence alerts: %w: %d are active and at most %d may be; end one that is no longer needed "+
			"(or let one expire) before making another; nothing was made", ErrTooManySilences, n, MaxActiveSilences)
	}
	var muted []string
	for _, key := range sortedKeys(sil.firing) {
		if s.Matches(key) {
			muted = append(muted, key)
		}
	}
	sil.mu.Unlock()
	r := silencedRecord(s, muted)
	if err := sil.store.SaveSilence(context.WithoutCancel(ctx), s, r); err != nil {
		return watchdog.Silence{}, fmt.Errorf("silence alerts: store the silence: %w", err)
	}
	e.recent.add(r)
	sil.mu.Lock()
	sil.on = append(sil.on, s)
	sil.mu.Unlock()
	sil.poke()
	e.log.Warn("alerts silenced", "silence_id", s.ID, "match", s.Match, "by", op, "until", ends, "reason", reason, "firing_muted", len(muted))
	return s, nil
}

// EndSilence ends silence id before its time on operator's authority,
// with a reason. It returns the silence ended once that and its
// alert_silence_ended record are durable; what the webhooks missed under
// it is then announced, once (closeSilenceLocked). An unknown ID is
// ErrSilenceNotFound; a silence that ended or expired already is
// ErrSilenceEnded, and nothing changes.
func (e *Engine) EndSilence(ctx context.Context, id, operator, reason string) (watchdog.Silence, error) {
	id, op, reason := strings.TrimSpace(id), strings.TrimSpace(operator), strings.TrimSpace(reason)
	if op == "" {
		return watchdog.Silence{}, fmt.Errorf("end silence %s: %w", id, ErrOperatorRequired)
	}
	if reason == "" {
		return watchdog.Silence{}, fmt.Errorf("end silence %s: %w", id, ErrReasonRequired)
	}
	if err := checkDecisionText(op, "reason", reason); err != nil {
		return watchdog.Silence{}, fmt.Errorf("end silence %s: %w", id, err)
	}
	if e.sil.store == nil {
		return watchdog.Silence{}, fmt.Errorf("end silence %s: %w", id, ErrNoSilences)
	}
	if !e.ready.Load() {
		return watchdog.Silence{}, fmt.Errorf("end silence %s: %w", id, ErrStopped)
	}
	sil := e.sil
	sil.ops.Lock()
	defer sil.ops.Unlock()
	now := e.clock.Now()
	sil.mu.Lock()
	e.expireDueLocked(now)
	i := slices.IndexFunc(sil.on, func(s watchdog.Silence) bool { return strings.EqualFold(s.ID, id) })
	if i < 0 {
		j := slices.IndexFunc(sil.ended, func(s watchdog.Silence) bool { return strings.EqualFold(s.ID, id) })
		sil.mu.Unlock()
		if j >= 0 {
			return watchdog.Silence{}, endedError(sil.ended[j])
		}
		return e.endUnknown(ctx, id)
	}
	s := sil.on[i]
	plan := sil.endPlanLocked(s, slices.Delete(slices.Clone(sil.on), i, i+1), now)
	sil.mu.Unlock()
	s.State, s.EndedAt, s.EndedBy, s.EndReason = watchdog.SilenceEnded, now, op, reason
	r := silenceEndedRecord(now, s, plan)
	if err := sil.store.SaveSilence(context.WithoutCancel(ctx), s, r); err != nil {
		return watchdog.Silence{}, fmt.Errorf("end silence %s: store the end: %w", s.ID, err)
	}
	e.recent.add(r)
	sil.mu.Lock()
	if i := slices.IndexFunc(sil.on, func(x watchdog.Silence) bool { return x.ID == s.ID }); i >= 0 {
		sil.on = slices.Delete(sil.on, i, i+1)
		e.closeSilenceLocked(s, e.clock.Now())
	} else {
		// Its time came while the end was written, and the expiry
		// announced its alerts: the operator's end, stored, stands.
		sil.unsaved = slices.DeleteFunc(sil.unsaved, func(x silenceEnd) bool { return x.s.ID == s.ID })
		for k := range sil.ended {
			if sil.ended[k].ID == s.ID {
				sil.ended[k] = s
			}
		}
	}
	sil.mu.Unlock()
	e.log.Info("alert silence ended", "silence_id", s.ID, "match", s.Match, "by", op, "reason", reason,
		"still_firing", len(plan.stillFiring), "announced_again", len(plan.announce), "resolutions_sent", len(plan.resolved))
	return s, nil
}

// endUnknown answers an end of a silence the engine does not hold: one
// older than the ended silences it keeps is ErrSilenceEnded, any other
// ErrSilenceNotFound.
func (e *Engine) endUnknown(ctx context.Context, id string) (watchdog.Silence, error) {
	if old, err := e.sil.store.StoredSilences(ctx, watchdog.SilenceQuery{Limit: maxEndedLookup}); err == nil {
		for _, s := range old {
			if strings.EqualFold(s.ID, id) {
				return watchdog.Silence{}, endedError(s)
			}
		}
	}
	return watchdog.Silence{}, fmt.Errorf("end silence %s: %w", id, ErrSilenceNotFound)
}

// endedError says how silence s ended.
func endedError(s watchdog.Silence) error {
	how := "it expired at " + s.EndsAt.UTC().Format(time.RFC3339)
	if s.State == watchdog.SilenceEnded {
		how = fmt.Sprintf("%s ended it at %s: %s", s.EndedBy, s.EndedAt.UTC().Format(time.RFC3339), s.EndReason)
	}
	return fmt.Errorf("end silence %s: %w (%s); nothing was changed", s.ID, ErrSilenceEnded, how)
}

// Silences returns the active silences, newest first; with all, the
// newest 100 silences of every state (active, expired, ended), of those
// that ended within watchdog.SilenceRetention (the store keeps no
// others). Before Start it reads the store (a silence whose time has
// passed shows as expired).
func (e *Engine) Silences(ctx context.Context, all bool) ([]watchdog.Silence, error) {
	sil := e.sil
	if sil.store == nil {
		return nil, ErrNoSilences
	}
	now := e.clock.Now()
	sil.mu.Lock()
	if !sil.loaded {
		sil.mu.Unlock()
		return e.storedSilences(ctx, all, now)
	}
	e.expireDueLocked(now)
	out := slices.Clone(sil.on)
	if all {
		for _, s := range sil.ended {
			if _, kept := s.AsOf(now); kept {
				out = append(out, s)
			}
		}
	}
	sil.mu.Unlock()
	slices.SortStableFunc(out, func(a, b watchdog.Silence) int {
		return cmp.Or(b.CreatedAt.Compare(a.CreatedAt), strings.Compare(b.ID, a.ID))
	})
	if all && len(out) > keepEnded {
		out = out[:keepEnded]
	}
	return out, nil
}

// storedSilences reads the silences from the store, for an engine that
// has not started.
func (e *Engine) storedSilences(ctx context.Context, all bool, now time.Time) ([]watchdog.Silence, error) {
	ss, err := e.sil.store.StoredSilences(ctx, watchdog.StoredSilencesQuery(all, now))
	if err != nil {
		return nil, fmt.Errorf("read alert silences: %w", err)
	}
	return watchdog.SilencesAsOf(ss, all, now), nil
}

// checkSilence checks a silence's operator, match and reason (trimmed).
func checkSilence(op, match, reason string) error {
	switch {
	case op == "":
		return ErrOperatorRequired
	case match == "":
		return &TextError{Field: "match", Reason: watchdog.CheckMatch("")}
	case !utf8.ValidString(match):
		// CheckMatch reads a byte that is not UTF-8 as U+FFFD, printable.
		return &TextError{Field: "match", Reason: fmt.Sprintf("%q is not valid UTF-8", match)}
	}
	if p := watchdog.CheckMatch(match); p != "" {
		return &TextError{Field: "match", Reason: p}
	}
	if reason == "" {
		return ErrReasonRequired
	}
	return checkDecisionText(op, "reason", reason)
}

// minSilenceText says watchdog.MinSilence.
const minSilenceText = "1m"

// silenceEndsAt is when a silence made at now for d, or until until, ends:
// one of the two, at least watchdog.MinSilence and at most
// watchdog.MaxSilence ahead.
func silenceEndsAt(now time.Time, d time.Duration, until time.Time) (time.Time, error) {
	limit := "30d (" + watchdog.MaxSilence.String() + ")"
	switch {
	case d != 0 && !until.IsZero():
		return time.Time{}, &TextError{Field: "until", Reason: "and for go one at a time: give how long (for) or until when (until), not both"}
	case d == 0 && until.IsZero():
		return time.Time{}, &TextError{Field: "for", Reason: "is required: how long the silence lasts (as 2h, 90m, 7d), or give until, an RFC 3339 time"}
	case d < 0:
		return time.Time{}, &TextError{Field: "for", Reason: fmt.Sprintf("is %v: it must be positive", d)}
	case d > 0 && d < watchdog.MinSilence:
		return time.Time{}, &TextError{Field: "for", Reason: fmt.Sprintf("is %v; a silence lasts at least %s", d, minSilenceText)}
	case d > watchdog.MaxSilence:
		return time.Time{}, &TextError{Field: "for", Reason: fmt.Sprintf("is %v; a silence lasts at most %s", d, limit)}
	case d > 0:
		return now.Add(d), nil
	case !until.After(now):
		return time.Time{}, &TextError{Field: "until", Reason: fmt.Sprintf("%s is not in the future (it is %s now)",
			until.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339))}
	case until.Sub(now) < watchdog.MinSilence:
		return time.Time{}, &TextError{Field: "until", Reason: fmt.Sprintf("%s is %v ahead; a silence lasts at least %s",
			until.UTC().Format(time.RFC3339Nano), until.Sub(now), minSilenceText)}
	case until.Sub(now) > watchdog.MaxSilence:
		return time.Time{}, &TextError{Field: "until", Reason: fmt.Sprintf("%s is %s ahead; a silence lasts at most %s",
			until.UTC().Format(time.RFC3339), spanText(until.Sub(now)), limit)}
	}
	return until, nil
}

// newSilenceID makes a silence's ID from the time and 40 random bits.
func newSilenceID(now time.Time) string {
	var b [5]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails since Go 1.24
	return "sil_" + now.UTC().Format("20060102T150405") + "_" + hex.EncodeToString(b[:])
}

// silenceRisk is the risk of muting by match: everything is a blind spot.
func silenceRisk(match string) float64 {
	if mutesEverything(match) {
		return 0.7
	}
	return 0.4
}

// mutesEverything reports whether match matches every alert: "*", and
// "*/*", which is "*" too (watchdog.CheckMatch).
func mutesEverything(match string) bool { return match == "*" || match == "*/*" }

func silenceContext(s watchdog.Silence) map[string]any {
	return map[string]any{"silence_id": s.ID, "match": s.Match, "by": s.By, "reason": s.Reason,
		"created_at": stampOf(s.CreatedAt), "ends_at": stampOf(s.EndsAt), "state": s.State}
}

func stampOf(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

// keysText lists alert keys for prose.
func keysText(keys []string) string {
	const show = 10
	if len(keys) <= show {
		return strings.Join(keys, ", ")
	}
	return strings.Join(keys[:show], ", ") + fmt.Sprintf(" and %d more", len(keys)-show)
}

func silencedRecord(s watchdog.Silence, muted []string) clarity.Record {
	what := "the alerts matching " + s.Match
	if mutesEverything(s.Match) {
		what = "every alert (a maintenance window)"
	}
	why := []string{
		"Reason: " + s.Reason,
		fmt.Sprintf("Webhooks are not told of %s until %s (for %s); the watchdog still raises and records them", what,
			s.EndsAt.UTC().Format(time.RFC3339), spanText(s.EndsAt.Sub(s.CreatedAt))),
		"No alert it matches fires now",
	}
	if len(muted) > 0 {
		why[2] = fmt.Sprintf("Firing now and muted (%d): %s", len(muted), keysText(muted))
	}
	ctx := silenceContext(s)
	ctx["for_s"] = s.EndsAt.Sub(s.CreatedAt).Seconds()
	ctx["firing_muted"] = nonNil(muted)
	r := rec(s.CreatedAt, s.By, WhatAlertSilenced, whereAlerts, "operator_command", "silenced", "", why, ctx)
	r.Risk = silenceRisk(s.Match)
	return r
}

func silenceEndedRecord(now time.Time, s watchdog.Silence, plan silenceEndPlan) clarity.Record {
	why := append([]string{
		"Reason: " + s.EndReason,
		fmt.Sprintf("Silence %s of %s, made by %s at %s (%s), ended %s before its end at %s", s.ID, s.Match, s.By,
			s.CreatedAt.UTC().Format(time.RFC3339), s.Reason, spanText(s.EndsAt.Sub(now)), s.EndsAt.UTC().Format(time.RFC3339)),
	}, plan.why()...)
	ctx := silenceContext(s)
	ctx["ended_by"], ctx["end_reason"], ctx["ended_at"] = s.EndedBy, s.EndReason, stampOf(s.EndedAt)
	plan.addTo(ctx)
	r := rec(now, s.EndedBy, WhatAlertSilenceEnded, whereAlerts, "operator_command", "ended", "", why, ctx)
	r.Risk = 0.2
	return r
}

func silenceExpiredRecord(now time.Time, s watchdog.Silence, plan silenceEndPlan) clarity.Record {
	why := append([]string{
		fmt.Sprintf("Silence %s of %s, made by %s at %s for %s (%s), expired at %s", s.ID, s.Match, s.By,
			s.CreatedAt.UTC().Format(time.RFC3339), spanText(s.EndsAt.Sub(s.CreatedAt)), s.Reason, s.EndsAt.UTC().Format(time.RFC3339)),
	}, plan.why()...)
	ctx := silenceContext(s)
	ctx["ended_at"] = stampOf(s.EndedAt)
	plan.addTo(ctx)
	r := rec(now, actorSilenceExpiry, WhatAlertSilenceEnded, whereAlerts, "silence_expiry", "expired", "", why, ctx)
	r.Risk = 0.2
	return r
}

// why says what the end of a silence announced, for its record.
func (p silenceEndPlan) why() []string {
	var out []string
	switch {
	case len(p.stillFiring) == 0:
		out = append(out, "No alert it matched still fires unmuted")
	case len(p.announce) == len(p.stillFiring):
		out = append(out, fmt.Sprintf("Still firing, changed while muted, announced again to the webhooks (%d): %s",
			len(p.announce), keysText(p.announce)))
	default:
		out = append(out, fmt.Sprintf("Still firing (%d): %s", len(p.stillFiring), keysText(p.stillFiring)))
		if len(p.announce) > 0 {
			out = append(out, fmt.Sprintf("Changed while muted, announced again to the webhooks (%d): %s",
				len(p.announce), keysText(p.announce)))
		}
		out = append(out, fmt.Sprintf("Unchanged since the webhooks were told of them, not announced again (%d)",
			len(p.stillFiring)-len(p.announce)))
	}
	if len(p.resolved) > 0 {
		out = append(out, fmt.Sprintf("Resolved while muted, after the webhooks were told they fired: resolution sent (%d): %s",
			len(p.resolved), keysText(p.resolved)))
	}
	return out
}

// addTo puts the plan in a record's context: still_firing (every alert
// it matched that fires unmuted now), announced_again (those whose
// change it muted, announced again) and resolutions_sent.
func (p silenceEndPlan) addTo(ctx map[string]any) {
	ctx["still_firing"] = nonNil(p.stillFiring)
	ctx["announced_again"] = nonNil(p.announce)
	ctx["resolutions_sent"] = nonNil(p.resolved)
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
