package tui

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"grace/engine"
	"grace/engine/watchdog"
)

// silencesFake is the fake engine with alert silences (engine.AlertSilencer)
// kept as the engine keeps them: made for a while on an operator's
// authority, ended early with a reason; ended and expired ones listed with
// all. err, when set, answers every call.
type silencesFake struct {
	*fakeAPI
	s *silenceStore
}

// silenceStore is the silences of a silencesFake and the calls made.
type silenceStore struct {
	mu    sync.Mutex
	now   func() time.Time
	items []watchdog.Silence // newest first
	made  []engine.SilenceRequest
	ends  []decisionCall
	lists []bool // the all of every Silences call
	err   error
	seq   int
}

var _ engine.AlertSilencer = silencesFake{}

// setupSilences is setup over an engine that keeps silences, with the
// Alerts screen's fixture (two alerts firing, one resolved) and one
// active silence (of htm_orchestrator/*, by alice, 30 minutes left)
// muting the HTM alert.
func setupSilences(t *testing.T, opts ...func(*Options)) (*testBundle, *silenceStore) {
	t.Helper()
	store := &silenceStore{}
	b := setupWith(t, func(a *fakeAPI) engine.OperatorAPI { return silencesFake{fakeAPI: a, s: store} }, opts...)
	store.now = b.clock.now
	store.items = []watchdog.Silence{fixtureSilence()}
	b.api.setSnapshot(silencedSnapshot())
	b.run(t, b.send(snapshotMsg{snap: b.api.Snapshot()}))
	b.run(t, b.send(eventsMsg{events: []engine.Event{resolvedEvent()}}))
	return b, store
}

// fixtureSilence is an active silence of htm_orchestrator/* by alice,
// made ten minutes before fixedNow for forty.
func fixtureSilence() watchdog.Silence {
	return watchdog.Silence{ID: "sil_20250314T145926_0a1b2c3d4e", Match: "htm_orchestrator/*", Reason: "queue migration",
		By: "alice", CreatedAt: fixedNow.Add(-10 * time.Minute), EndsAt: fixedNow.Add(30 * time.Minute), State: watchdog.SilenceActive}
}

// silencedSnapshot is alertsSnapshot with the HTM alert muted by
// fixtureSilence, as the engine marks it.
func silencedSnapshot() engine.Snapshot {
	snap := alertsSnapshot()
	for i, al := range snap.Health.Alerts {
		if s := fixtureSilence(); s.Matches(al.Key) {
			snap.Health.Alerts[i].Silenced = s.Ref()
		}
	}
	return snap
}

func (f silencesFake) SilenceAlerts(_ context.Context, req engine.SilenceRequest) (watchdog.Silence, error) {
	s := f.s
	s.mu.Lock()
	defer s.mu.Unlock()
	s.made = append(s.made, req)
	if s.err != nil {
		return watchdog.Silence{}, s.err
	}
	if why := watchdog.CheckMatch(req.Match); why != "" {
		return watchdog.Silence{}, fmt.Errorf("silence alerts: %w", &engine.TextError{Field: "match", Reason: why})
	}
	now := s.now()
	s.seq++
	sil := watchdog.Silence{ID: fmt.Sprintf("sil_%s_%010d", now.UTC().Format("20060102T150405"), s.seq), Match: req.Match,
		Reason: req.Reason, By: req.Operator, CreatedAt: now, EndsAt: now.Add(req.For), State: watchdog.SilenceActive}
	s.items = append([]watchdog.Silence{sil}, s.items...)
	return sil, nil
}

func (f silencesFake) EndSilence(_ context.Context, id, operator, reason string) (watchdog.Silence, error) {
	s := f.s
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ends = append(s.ends, decisionCall{ID: id, Operator: operator, Reason: reason})
	if s.err != nil {
		return watchdog.Silence{}, s.err
	}
	for i, x := range s.items {
		if !strings.EqualFold(x.ID, id) {
			continue
		}
		if x.State != watchdog.SilenceActive {
			return watchdog.Silence{}, fmt.Errorf("end silence %s: %w (%s ended it at %s: %s); nothing was changed",
				x.ID, engine.ErrSilenceEnded, x.EndedBy, x.EndedAt.UTC().Format(time.RFC3339), x.EndReason)
		}
		x.State, x.EndedAt, x.EndedBy, x.EndReason = watchdog.SilenceEnded, s.now(), operator, reason
		s.items[i] = x
		return x, nil
	}
	return watchdog.Silence{}, fmt.Errorf("end silence %s: %w", id, engine.ErrSilenceNotFound)
}

func (f silencesFake) Silences(_ context.Context, all bool) ([]watchdog.Silence, error) {
	s := f.s
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lists = append(s.lists, all)
	if s.err != nil {
		return nil, s.err
	}
	if all {
		return slices.Clone(s.items), nil
	}
	var out []watchdog.Silence
	for _, x := range s.items {
		if x.State == watchdog.SilenceActive {
			out = append(out, x)
		}
	}
	return out, nil
}

// calls returns the silences made, the ends and the lists asked for.
func (s *silenceStore) calls() (made []engine.SilenceRequest, ends []decisionCall, lists []bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.made), slices.Clone(s.ends), slices.Clone(s.lists)
}

func (s *silenceStore) setErr(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.err = err
}
