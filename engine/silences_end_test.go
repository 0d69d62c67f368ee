package engine

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"grace/engine/clarity"
	"grace/engine/clock"
	"grace/engine/enginetest"
	"grace/engine/watchdog"
)

// startProbed starts an engine on a store and a fake clock of its own
// that watches a probe besides its own components.
func startProbed(t *testing.T) (*testBundle, *probe) {
	t.Helper()
	p := &probe{}
	b := setupProbed(t, enginetest.NewStore(64), clock.NewFake(epoch), p)
	b.start(t)
	return b, p
}

// afterSilence returns the events seen from index from on that the end
// of a silence announced, as "change key".
func (b *testBundle) afterSilence(from int) []string {
	var out []string
	for _, ev := range b.alertEvents(from) {
		if ev.AfterSilence {
			out = append(out, ev.Change.String()+" "+ev.Alert.Key)
		}
	}
	return out
}

// TestSilenceEndAnnouncesOnlyWhatChangedUnderIt: when a silence ends,
// an alert the webhooks were told of before it and that did not change
// under it is not announced again; one that escalated under it, one
// that went up and came back down (its peak rose), and one raised under
// it are, once each; the record says which still fire and which were
// announced again.
func TestSilenceEndAnnouncesOnlyWhatChangedUnderIt(t *testing.T) {
	t.Parallel()
	b, p := startProbed(t)
	ctx := t.Context()
	for _, c := range []string{"steady", "worse", "bounce"} {
		p.set(c, watchdog.Warn)
	}
	b.check(t)
	s, err := b.e.SilenceAlerts(ctx, SilenceRequest{Match: "probe/*", For: time.Hour, Reason: "probe rework", Operator: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	p.set("worse", watchdog.Critical)
	p.set("bounce", watchdog.Critical)
	p.set("new", watchdog.Warn)
	b.check(t)
	p.set("bounce", watchdog.Warn)
	b.check(t)
	b.check(t)

	from := len(b.seen)
	if _, err := b.e.EndSilence(ctx, s.ID, "bob", "rework done"); err != nil {
		t.Fatal(err)
	}
	b.check(t) // every event published before it has been seen
	want := []string{"raised probe/bounce", "raised probe/new", "raised probe/worse"}
	if got := b.afterSilence(from); !slices.Equal(got, want) {
		t.Fatalf("announced as the silence ended: %v; want %v (probe/steady did not change under it)", got, want)
	}
	for _, ev := range b.alertEvents(from) {
		if ev.AfterSilence && (ev.EndedSilence != s.ID || ev.Alert.Silenced != nil) {
			t.Fatalf("after the silence: %+v", ev)
		}
	}
	r := b.waitRecord(t, WhatAlertSilenceEnded, nil)
	if !slices.Equal(r.Context["still_firing"].([]string), []string{"probe/bounce", "probe/new", "probe/steady", "probe/worse"}) ||
		!slices.Equal(r.Context["announced_again"].([]string), []string{"probe/bounce", "probe/new", "probe/worse"}) ||
		len(r.Context["resolutions_sent"].([]string)) != 0 ||
		!strings.Contains(strings.Join(r.Why, " | "), "Unchanged since the webhooks were told of them, not announced again (1)") {
		t.Fatalf("alert_silence_ended record: %+v", r)
	}
	checkRecords(t, []clarity.Record{r})

	// A second silence over the same alerts, under which nothing changes:
	// its end announces nothing (the first end told the webhooks).
	s2, err := b.e.SilenceAlerts(ctx, SilenceRequest{Match: "*", For: time.Hour, Reason: "window", Operator: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	b.check(t)
	from = len(b.seen)
	if _, err := b.e.EndSilence(ctx, s2.ID, "bob", "window over"); err != nil {
		t.Fatal(err)
	}
	b.check(t)
	if got := b.afterSilence(from); len(got) != 0 {
		t.Fatalf("the end of a silence under which nothing changed announced %v", got)
	}
}

// TestSilenceEndSendsMutedResolutions: an alert the webhooks were told
// fired that resolves under a silence has its resolution announced when
// the silence expires, once, marked after_silence, with the peak they
// were told of (ToldPeak) even when it rose under the silence; one raised
// and resolved under the silence announces nothing; a resolution another
// silence still mutes waits for that one's end.
func TestSilenceEndSendsMutedResolutions(t *testing.T) {
	t.Parallel()
	b, p := startProbed(t)
	ctx := t.Context()
	for _, c := range []string{"told", "peaked", "held"} {
		p.set(c, watchdog.Warn)
	}
	b.check(t)
	s, err := b.e.SilenceAlerts(ctx, SilenceRequest{Match: "probe/*", For: time.Minute, Reason: "probe rework", Operator: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	held, err := b.e.SilenceAlerts(ctx, SilenceRequest{Match: "probe/held", For: time.Hour, Reason: "known", Operator: "bob"})
	if err != nil {
		t.Fatal(err)
	}
	p.set("peaked", watchdog.Critical)
	p.set("inner", watchdog.Warn)
	b.check(t)
	from := len(b.seen)
	for _, c := range []string{"told", "peaked", "held", "inner"} {
		p.set(c, watchdog.OK)
	}
	b.check(t)
	for _, c := range []string{"told", "peaked", "held", "inner"} {
		if ev := eventOf(t, b.alertEvents(from), "probe/"+c, watchdog.Resolved); ev.Alert.Silenced == nil {
			t.Fatalf("probe/%s resolved under the silences, not marked: %+v", c, ev)
		}
	}

	from = len(b.seen)
	for b.clock.Now().Before(s.EndsAt) {
		b.check(t)
	}
	r := b.waitRecord(t, WhatAlertSilenceEnded, func(r clarity.Record) bool { return r.Context["silence_id"] == s.ID })
	b.check(t)
	if got, want := b.afterSilence(from), []string{"resolved probe/peaked", "resolved probe/told"}; !slices.Equal(got, want) {
		t.Fatalf("announced as the silence expired: %v; want %v (probe/inner was raised under it; probe/held is muted still)", got, want)
	}
	for _, ev := range b.alertEvents(from) {
		if !ev.AfterSilence {
			continue
		}
		wantPeak := watchdog.Warn
		if ev.Alert.Key == "probe/peaked" && ev.Alert.Peak != watchdog.Critical {
			t.Fatalf("probe/peaked's resolution: %+v; want the alert as it resolved (peak critical)", ev.Alert)
		}
		if ev.ToldPeak != wantPeak || ev.EndedSilence != s.ID || ev.Alert.Silenced != nil || ev.Alert.ResolvedAt.IsZero() {
			t.Fatalf("a resolution after the silence: %+v; want told peak warn, ended silence %s, unmarked", ev, s.ID)
		}
	}
	if !slices.Equal(r.Context["resolutions_sent"].([]string), []string{"probe/peaked", "probe/told"}) ||
		len(r.Context["still_firing"].([]string)) != 0 || len(r.Context["announced_again"].([]string)) != 0 ||
		!strings.Contains(strings.Join(r.Why, " | "), "resolution sent (2): probe/peaked, probe/told") {
		t.Fatalf("expiry record: %+v", r)
	}

	from = len(b.seen)
	if _, err := b.e.EndSilence(ctx, held.ID, "bob", "fixed"); err != nil {
		t.Fatal(err)
	}
	b.check(t)
	if got := b.afterSilence(from); !slices.Equal(got, []string{"resolved probe/held"}) {
		t.Fatalf("as the other silence ended: %v; want probe/held's resolution alone (the others were sent once)", got)
	}
}

// TestSilencesAreCapped: at most MaxActiveSilences are active; one more
// is refused (ErrTooManySilences, saying how many), and nothing is
// written; once one ends another may be made.
func TestSilencesAreCapped(t *testing.T) {
	t.Parallel()
	b := setupProbed(t, enginetest.NewStore(64), clock.NewFake(epoch), &probe{})
	ctx := t.Context()
	b.start(t)
	var first watchdog.Silence
	for i := range MaxActiveSilences {
		s, err := b.e.SilenceAlerts(ctx, SilenceRequest{Match: fmt.Sprintf("probe/c%d", i), For: time.Hour, Reason: "r", Operator: "alice"})
		if err != nil {
			t.Fatalf("silence %d: %v", i, err)
		}
		if i == 0 {
			first = s
		}
	}
	_, err := b.e.SilenceAlerts(ctx, SilenceRequest{Match: "probe/one_more", For: time.Hour, Reason: "r", Operator: "alice"})
	if !errors.Is(err, ErrTooManySilences) || !strings.Contains(err.Error(), fmt.Sprintf("%d are active and at most %d may be", MaxActiveSilences, MaxActiveSilences)) ||
		!strings.Contains(err.Error(), "nothing was made") {
		t.Fatalf("one silence more than the cap: %v", err)
	}
	if n := b.store.Count(WhatAlertSilenced); n != MaxActiveSilences {
		t.Fatalf("%d alert_silenced records, want %d: the refusal wrote one", n, MaxActiveSilences)
	}
	if ss, _ := b.e.Silences(ctx, false); len(ss) != MaxActiveSilences {
		t.Fatalf("%d active silences after the refusal", len(ss))
	}
	if _, err := b.e.EndSilence(ctx, first.ID, "bob", "done"); err != nil {
		t.Fatal(err)
	}
	if _, err := b.e.SilenceAlerts(ctx, SilenceRequest{Match: "probe/one_more", For: time.Hour, Reason: "r", Operator: "alice"}); err != nil {
		t.Fatalf("a silence once one ended: %v", err)
	}
}

// TestEveryActiveSilenceIsLoaded: a store holding more active silences
// than MaxActiveSilences (kept by an older Grace) has every one of them
// loaded at start, muting its alerts, and a new one is refused until
// enough end.
func TestEveryActiveSilenceIsLoaded(t *testing.T) {
	t.Parallel()
	st, clk := enginetest.NewStore(64), clock.NewFake(epoch)
	const n = 10_001 // more than the start once read
	for i := range n {
		s := watchdog.Silence{ID: fmt.Sprintf("sil_%05d", i), Match: fmt.Sprintf("probe/c%d", i), Reason: "r", By: "alice",
			CreatedAt: epoch.Add(time.Duration(i) * time.Millisecond), EndsAt: epoch.Add(time.Hour), State: watchdog.SilenceActive}
		if err := st.SaveSilence(t.Context(), s); err != nil {
			t.Fatal(err)
		}
	}
	p := &probe{}
	b := setupProbed(t, st, clk, p)
	b.start(t)
	if ss, err := b.e.Silences(t.Context(), false); err != nil || len(ss) != n {
		t.Fatalf("%d active silences after the start (%v), want %d", len(ss), err, n)
	}
	p.set("c0", watchdog.Warn) // muted by the oldest
	b.check(t)
	if ev := eventOf(t, b.alertEvents(0), "probe/c0", watchdog.Raised); ev.Alert.Silenced == nil || ev.Alert.Silenced.ID != "sil_00000" {
		t.Fatalf("probe/c0 raised: %+v; want it muted by the oldest silence", ev.Alert)
	}
	if _, err := b.e.SilenceAlerts(t.Context(), SilenceRequest{Match: "probe/x", For: time.Hour, Reason: "r", Operator: "alice"}); !errors.Is(err, ErrTooManySilences) {
		t.Fatalf("a silence over the cap: %v", err)
	}
}

// TestEndedSilencesArePruned: an ended or expired silence is listed (and
// kept) watchdog.SilenceRetention after it ended; then it is listed no
// more and deleted from the store, on the engine's clock, while an
// active one stays.
func TestEndedSilencesArePruned(t *testing.T) {
	t.Parallel()
	st, clk := enginetest.NewStore(64), clock.NewFake(epoch)
	b := setupProbed(t, st, clk, &probe{})
	ctx := t.Context()
	b.start(t)
	ended, err := b.e.SilenceAlerts(ctx, SilenceRequest{Match: "probe/a", For: time.Hour, Reason: "r", Operator: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.e.EndSilence(ctx, ended.ID, "bob", "done"); err != nil {
		t.Fatal(err)
	}
	clk.Advance(24 * time.Hour)
	long, err := b.e.SilenceAlerts(ctx, SilenceRequest{Match: "probe/b", Until: clk.Now().Add(watchdog.MaxSilence), Reason: "r", Operator: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	ids := func(ss []watchdog.Silence) []string {
		var out []string
		for _, s := range ss {
			out = append(out, s.ID)
		}
		return out
	}
	clk.Advance(watchdog.SilenceRetention - 25*time.Hour) // the ended one ended 29 days ago
	if ss, _ := b.e.Silences(ctx, true); !slices.Equal(ids(ss), []string{long.ID, ended.ID}) {
		t.Fatalf("29 days after the end: %v; want both", ids(ss))
	}
	clk.Advance(2 * time.Hour)
	if ss, _ := b.e.Silences(ctx, true); !slices.Equal(ids(ss), []string{long.ID}) {
		t.Fatalf("30 days after the end: %v; want the active one alone", ids(ss))
	}
	eventually(t, "the ended silence deleted from the store", func() bool {
		ss, err := st.StoredSilences(ctx, watchdog.SilenceQuery{Limit: -1})
		return err == nil && slices.Equal(ids(ss), []string{long.ID})
	})
	if _, err := b.e.EndSilence(ctx, ended.ID, "bob", "again"); !errors.Is(err, ErrSilenceNotFound) {
		t.Fatalf("end of a silence deleted: %v; want not found", err)
	}
}

// TestSilenceEndAfterRestart: after a restart the engine knows what the
// webhooks were told only of the alerts no silence muted: an alert left
// firing unmuted and silenced after the start is not announced again at
// the silence's end when it did not change; one a silence muted across
// the restart is (what they were told is not known); one raised under a
// silence and resolved under it after the restart sends nothing.
func TestSilenceEndAfterRestart(t *testing.T) {
	t.Parallel()
	st, clk, h := enginetest.NewStore(64), clock.NewFake(epoch), &alertHistory{alerts: map[string]watchdog.Alert{}}
	p := &probe{}
	b := setupProbed(t, st, clk, p, h)
	ctx := t.Context()
	b.start(t)
	p.set("free", watchdog.Warn)
	p.set("before", watchdog.Warn)
	b.check(t)
	sb, err := b.e.SilenceAlerts(ctx, SilenceRequest{Match: "probe/before", For: time.Hour, Reason: "r", Operator: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	si, err := b.e.SilenceAlerts(ctx, SilenceRequest{Match: "probe/inner", For: time.Hour, Reason: "r", Operator: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	p.set("inner", watchdog.Warn)
	b.check(t)
	b.e.Stop()

	b2 := setupProbed(t, st, clk, p, h)
	b2.start(t)
	b2.check(t)
	if evs := b2.alertEvents(0); len(evs) != 0 {
		t.Fatalf("the alerts left firing were not adopted: %+v", evs)
	}
	sf, err := b2.e.SilenceAlerts(ctx, SilenceRequest{Match: "probe/free", For: time.Hour, Reason: "r", Operator: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	p.set("inner", watchdog.OK)
	b2.check(t)
	from := len(b2.seen)
	for _, id := range []string{sb.ID, si.ID, sf.ID} {
		if _, err := b2.e.EndSilence(ctx, id, "bob", "done"); err != nil {
			t.Fatal(err)
		}
	}
	b2.check(t)
	if got := b2.afterSilence(from); !slices.Equal(got, []string{"raised probe/before"}) {
		t.Fatalf("announced as the silences ended after a restart: %v; want probe/before alone", got)
	}
}

// alertHistory keeps the watchdog's alerts in memory, so that a restart
// adopts those left firing.
type alertHistory struct {
	mu     sync.Mutex
	alerts map[string]watchdog.Alert
}

func (h *alertHistory) SaveCycle(_ context.Context, c watchdog.CycleRecord) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, a := range c.Alerts {
		h.alerts[a.ID] = a
	}
	return nil
}

func (h *alertHistory) Alerts(_ context.Context, q watchdog.AlertQuery) ([]watchdog.Alert, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []watchdog.Alert
	for _, a := range h.alerts {
		if !q.Firing || a.Firing() {
			out = append(out, a)
		}
	}
	return out, nil
}

func (h *alertHistory) Telemetry(context.Context, watchdog.TelemetryQuery) ([]watchdog.Telemetry, error) {
	return nil, nil
}
