package engine

import (
	"errors"
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

// probe is a watched component whose findings a test sets: a condition
// graded worse than OK raises an alert "probe/<condition>".
type probe struct {
	mu sync.Mutex
	st map[string]watchdog.Status
}

func (p *probe) set(condition string, s watchdog.Status) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.st == nil {
		p.st = map[string]watchdog.Status{}
	}
	p.st[condition] = s
}

func (p *probe) component() watchdog.Component {
	return watchdog.Component{Name: "probe", Check: func(time.Time) watchdog.Result {
		p.mu.Lock()
		defer p.mu.Unlock()
		r := watchdog.Result{Ready: true}
		for _, c := range sortedKeys(p.st) {
			r.Findings = append(r.Findings, watchdog.Finding{Condition: c, Status: p.st[c], Reason: c + " is " + p.st[c].String()})
		}
		return r
	}}
}

// setupProbed builds an engine (not started) on st and clk that watches
// p besides its own components; with a history, the watchdog keeps its
// alerts there (and adopts those left firing at start).
func setupProbed(t *testing.T, st *enginetest.Store, clk *clock.Fake, p *probe, h ...watchdog.History) *testBundle {
	t.Helper()
	b := &testBundle{store: st, clock: clk, handlers: newTestHandlers()}
	t.Cleanup(func() { _ = st.Close() })
	deps := Deps{Store: st, Clock: clk, Handlers: b.handlers, Rand: func() float64 { return 0 },
		Components: []watchdog.Component{p.component()}}
	if len(h) > 0 {
		deps.History = h[0]
	}
	e, err := New(testConfig(), deps)
	if err != nil {
		t.Fatal(err)
	}
	b.e = e
	t.Cleanup(e.Stop)
	b.events = e.Subscribe(t.Context())
	return b
}

// alertEvents returns the alert events seen from index from on (b.check
// and nextAlert add to what is seen).
func (b *testBundle) alertEvents(from int) []watchdog.AlertEvent {
	var out []watchdog.AlertEvent
	for _, ev := range b.seen[from:] {
		if ev.Kind == EventAlert && ev.Alert != nil {
			out = append(out, *ev.Alert)
		}
	}
	return out
}

// nextAlert returns the first alert event seen from index from on that
// match accepts, waiting for it if need be.
func (b *testBundle) nextAlert(t *testing.T, from int, what string, match func(watchdog.AlertEvent) bool) watchdog.AlertEvent {
	t.Helper()
	for _, ev := range b.alertEvents(from) {
		if match(ev) {
			return ev
		}
	}
	limit := time.After(waitLimit)
	for {
		select {
		case ev, ok := <-b.events:
			if !ok {
				t.Fatalf("event stream closed while waiting for %s", what)
			}
			b.seen = append(b.seen, ev)
			if ev.Kind == EventAlert && ev.Alert != nil && match(*ev.Alert) {
				return *ev.Alert
			}
		case <-limit:
			t.Fatalf("no alert event for %s within %v", what, waitLimit)
		}
	}
}

// eventOf returns the one event of evs about key with change ch.
func eventOf(t *testing.T, evs []watchdog.AlertEvent, key string, ch watchdog.Change) watchdog.AlertEvent {
	t.Helper()
	var found []watchdog.AlertEvent
	for _, ev := range evs {
		if ev.Alert.Key == key && ev.Change == ch {
			found = append(found, ev)
		}
	}
	if len(found) != 1 {
		t.Fatalf("%d %s events of %s, want 1: %+v", len(found), ch, key, evs)
	}
	return found[0]
}

func firingAlert(t *testing.T, as []watchdog.Alert, key string) watchdog.Alert {
	t.Helper()
	for _, a := range as {
		if a.Key == key {
			return a
		}
	}
	t.Fatalf("no alert %s firing: %+v", key, as)
	return watchdog.Alert{}
}

// TestSilenceRefusesBadInput: a match that is not one, a duration or end
// out of bounds, a missing or unprintable reason and a missing operator
// are refused naming the field, and change nothing; before Start a
// silence is refused as the engine is not running.
func TestSilenceRefusesBadInput(t *testing.T) {
	t.Parallel()
	b := setupProbed(t, enginetest.NewStore(64), clock.NewFake(epoch), &probe{})
	ctx := t.Context()
	ok := SilenceRequest{Match: "probe/*", For: time.Hour, Reason: "maintenance", Operator: "alice"}
	if _, err := b.e.SilenceAlerts(ctx, ok); !errors.Is(err, ErrStopped) {
		t.Fatalf("before start: %v, want ErrStopped", err)
	}
	b.start(t)
	now := b.clock.Now()
	for _, tc := range []struct {
		edit  func(*SilenceRequest)
		field string
		want  string
	}{
		{func(r *SilenceRequest) { r.Match = "probe" }, "match", `"probe" is not a silence match`},
		{func(r *SilenceRequest) { r.Match = "prob*/x" }, "match", `"prob*/x" is not a silence match`},
		{func(r *SilenceRequest) { r.Match = "probe/a b" }, "match", `"probe/a b"`},
		{func(r *SilenceRequest) { r.Match = "  " }, "match", "match is required"},
		{func(r *SilenceRequest) { r.For = 0 }, "for", "for is required"},
		{func(r *SilenceRequest) { r.For = -time.Minute }, "for", "must be positive"},
		{func(r *SilenceRequest) { r.For = 31 * 24 * time.Hour }, "for", "at most 30d"},
		{func(r *SilenceRequest) { r.For = time.Nanosecond }, "for", "for is 1ns; a silence lasts at least 1m"},
		{func(r *SilenceRequest) { r.For = 500 * time.Millisecond }, "for", "for is 500ms; a silence lasts at least 1m"},
		{func(r *SilenceRequest) { r.For = time.Minute - time.Second }, "for", "for is 59s; a silence lasts at least 1m"},
		{func(r *SilenceRequest) { r.For, r.Until = 0, now.Add(30*time.Second) }, "until", "is 30s ahead; a silence lasts at least 1m"},
		{func(r *SilenceRequest) { r.Until = now.Add(time.Hour) }, "until", "not both"},
		{func(r *SilenceRequest) { r.For, r.Until = 0, now.Add(-time.Second) }, "until", "is not in the future"},
		{func(r *SilenceRequest) { r.For, r.Until = 0, now.Add(31*24*time.Hour) }, "until", "at most 30d"},
		{func(r *SilenceRequest) { r.Reason = " " }, "reason", "reason is required"},
		{func(r *SilenceRequest) { r.Reason = "a\x1b[2Jb" }, "reason", "control character"},
		{func(r *SilenceRequest) { r.Operator = "" }, "operator", "operator name is required"},
	} {
		req := ok
		tc.edit(&req)
		_, err := b.e.SilenceAlerts(ctx, req)
		var te *TextError
		field := ""
		switch {
		case errors.As(err, &te):
			field = te.Field
		case errors.Is(err, ErrReasonRequired):
			field = "reason"
		case errors.Is(err, ErrOperatorRequired):
			field = "operator"
		}
		if err == nil || field != tc.field || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("SilenceAlerts(%+v) = %v; want an error on %s saying %q", req, err, tc.field, tc.want)
		}
	}
	if ss, err := b.e.Silences(ctx, true); err != nil || len(ss) != 0 {
		t.Fatalf("after refusals: %+v, %v; want no silence", ss, err)
	}
	if n := b.store.Count(WhatAlertSilenced); n != 0 {
		t.Fatalf("%d alert_silenced records after refusals", n)
	}
	if s, err := b.e.SilenceAlerts(ctx, SilenceRequest{Match: "probe/x", For: time.Minute, Reason: "shortest", Operator: "alice"}); err != nil ||
		!s.EndsAt.Equal(now.Add(time.Minute)) {
		t.Fatalf("a silence of a minute: %+v, %v", s, err)
	}
	until := now.Add(90 * time.Minute)
	s, err := b.e.SilenceAlerts(ctx, SilenceRequest{Match: " * ", Until: until, Reason: "window", Operator: "alice"})
	if err != nil || s.Match != "*" || !s.EndsAt.Equal(until) || !strings.HasPrefix(s.ID, "sil_") || s.State != watchdog.SilenceActive {
		t.Fatalf("a silence until a time: %+v, %v", s, err)
	}
	if _, err := b.e.EndSilence(ctx, s.ID, "bob", ""); !errors.Is(err, ErrReasonRequired) {
		t.Fatalf("end without a reason: %v", err)
	}
	if _, err := b.e.EndSilence(ctx, "sil_nope", "bob", "x"); !errors.Is(err, ErrSilenceNotFound) {
		t.Fatalf("end of an unknown silence: %v", err)
	}
	if ss, _ := b.e.Silences(ctx, false); len(ss) != 2 || !slices.ContainsFunc(ss, func(x watchdog.Silence) bool { return x.ID == s.ID }) {
		t.Fatalf("a refused end changed the silences: %+v", ss)
	}
}

// TestSilenceMutesAlertsUntilItEnds: a silence marks the alerts it
// matches wherever they are shown and in their events (the watchdog still
// raises, escalates and records them); when it expires (on the engine's
// clock) the alert it muted that still fires is announced again once,
// marked after_silence, unless another silence mutes it; an early end
// does the same; ending an ended or expired silence changes nothing; each
// step is on the record.
func TestSilenceMutesAlertsUntilItEnds(t *testing.T) {
	t.Parallel()
	b, p := startProbed(t)
	ctx := t.Context()
	b.check(t)

	p.set("flaky", watchdog.Warn)
	from := len(b.seen)
	b.check(t)
	if ev := eventOf(t, b.alertEvents(from), "probe/flaky", watchdog.Raised); ev.Alert.Silenced != nil {
		t.Fatalf("raised before any silence, marked %+v", ev.Alert.Silenced)
	}
	a, err := b.e.SilenceAlerts(ctx, SilenceRequest{Match: "probe/*", For: time.Minute, Reason: "probe maintenance", Operator: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	r := b.waitRecord(t, WhatAlertSilenced, nil)
	if r.Who != "alice" || r.Context["silence_id"] != a.ID || r.Context["match"] != "probe/*" ||
		!slices.Equal(r.Context["firing_muted"].([]string), []string{"probe/flaky"}) || !strings.Contains(strings.Join(r.Why, " "), "probe maintenance") {
		t.Fatalf("alert_silenced record: %+v", r)
	}
	as, err := b.e.Alerts(ctx, true)
	if err != nil {
		t.Fatal(err)
	}
	if s := firingAlert(t, as, "probe/flaky").Silenced; s == nil || s.ID != a.ID || s.By != "alice" || !s.EndsAt.Equal(a.EndsAt) {
		t.Fatalf("Alerts(firing) marks probe/flaky %+v, want %s", s, a.ID)
	}
	if s := firingAlert(t, b.e.Health().Alerts, "probe/flaky").Silenced; s == nil || s.ID != a.ID {
		t.Fatalf("Health marks probe/flaky %+v", s)
	}

	p.set("flaky", watchdog.Critical)
	p.set("other", watchdog.Warn)
	from = len(b.seen)
	b.check(t)
	evs := b.alertEvents(from)
	if ev := eventOf(t, evs, "probe/flaky", watchdog.Escalated); ev.Alert.Silenced == nil || ev.Alert.Silenced.ID != a.ID {
		t.Fatalf("escalated under the silence: %+v", ev.Alert)
	}
	if ev := eventOf(t, evs, "probe/other", watchdog.Raised); ev.Alert.Silenced == nil || ev.Alert.Silenced.ID != a.ID || ev.AfterSilence {
		t.Fatalf("raised under the silence: %+v", ev)
	}
	if got := b.recordsAbout("probe/other"); !slices.Equal(got, []string{watchdog.WhatAlertRaised}) {
		t.Fatalf("the watchdog's record of a muted alert: %v", got)
	}
	other, err := b.e.SilenceAlerts(ctx, SilenceRequest{Match: "*/other", For: 3 * time.Minute, Reason: "known", Operator: "bob"})
	if err != nil {
		t.Fatal(err)
	}
	as, _ = b.e.Alerts(ctx, true)
	if s := firingAlert(t, as, "probe/other").Silenced; s == nil || s.ID != other.ID {
		t.Fatalf("two silences match probe/other: marked %+v, want the one ending last (%s)", s, other.ID)
	}

	// a's time comes: probe/flaky is announced again, probe/other (muted
	// by the other silence still) is not.
	from = len(b.seen)
	b.clock.Advance(30 * time.Second) // short of a's end: the next check reaches it
	b.check(t)
	if b.clock.Now().Before(a.EndsAt) {
		t.Fatalf("the clock %v is before the silence's end %v", b.clock.Now(), a.EndsAt)
	}
	if ss, _ := b.e.Silences(ctx, false); len(ss) != 1 || ss[0].ID != other.ID {
		t.Fatalf("active after the first expired: %+v", ss)
	}
	ev := b.nextAlert(t, from, "probe/flaky after its silence", func(ev watchdog.AlertEvent) bool { return ev.AfterSilence })
	if ev.Alert.Key != "probe/flaky" || ev.Change != watchdog.Raised || ev.EndedSilence != a.ID || ev.Alert.Silenced != nil ||
		ev.Alert.Severity != watchdog.Critical {
		t.Fatalf("after the silence: %+v", ev)
	}
	exp := b.waitRecord(t, WhatAlertSilenceEnded, nil)
	if exp.Who != actorSilenceExpiry || exp.Result != "expired" || exp.Context["silence_id"] != a.ID ||
		!slices.Equal(exp.Context["still_firing"].([]string), []string{"probe/flaky"}) {
		t.Fatalf("expiry record: %+v", exp)
	}
	p.set("flaky", watchdog.Warn)
	b.check(t) // everything published before it has been seen
	evs = b.alertEvents(from)
	n := 0
	for _, ev := range evs {
		if ev.AfterSilence {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("%d after_silence events, want 1 (probe/flaky once): %+v", n, evs)
	}
	if ev := eventOf(t, evs, "probe/flaky", watchdog.Deescalated); ev.Alert.Silenced != nil {
		t.Fatalf("after the silence, a change is still marked: %+v", ev.Alert.Silenced)
	}
	if _, err := b.e.EndSilence(ctx, a.ID, "bob", "too late"); !errors.Is(err, ErrSilenceEnded) || !strings.Contains(err.Error(), "expired at") {
		t.Fatalf("end of an expired silence: %v", err)
	}

	// The other ends early: probe/other is announced again.
	from = len(b.seen)
	ended, err := b.e.EndSilence(ctx, strings.ToUpper(other.ID[:4])+other.ID[4:], "carol", "fixed upstream")
	if err != nil || ended.State != watchdog.SilenceEnded || ended.EndedBy != "carol" || ended.EndReason != "fixed upstream" || !ended.EndedAt.Equal(b.clock.Now()) {
		t.Fatalf("EndSilence: %+v, %v", ended, err)
	}
	ev = b.nextAlert(t, from, "probe/other after its silence", func(ev watchdog.AlertEvent) bool { return ev.AfterSilence })
	if ev.Alert.Key != "probe/other" || ev.EndedSilence != other.ID {
		t.Fatalf("after the early end: %+v", ev)
	}
	if _, err := b.e.EndSilence(ctx, other.ID, "dan", "again"); !errors.Is(err, ErrSilenceEnded) || !strings.Contains(err.Error(), "carol ended it") {
		t.Fatalf("second end: %v", err)
	}
	ends := b.allRecords(WhatAlertSilenceEnded)
	if len(ends) != 2 || ends[1].Who != "carol" || ends[1].Result != "ended" || ends[1].Context["end_reason"] != "fixed upstream" {
		t.Fatalf("alert_silence_ended records: %+v", ends)
	}
	all, _ := b.e.Silences(ctx, true)
	if len(all) != 2 || all[0].ID != other.ID || all[0].State != watchdog.SilenceEnded || all[1].ID != a.ID ||
		all[1].State != watchdog.SilenceExpired || !all[1].EndedAt.Equal(a.EndsAt) {
		t.Fatalf("every silence: %+v", all)
	}
	if act, _ := b.e.Silences(ctx, false); len(act) != 0 {
		t.Fatalf("active after both ended: %+v", act)
	}
	as, _ = b.e.Alerts(ctx, true)
	for _, al := range as {
		if al.Silenced != nil {
			t.Fatalf("%s still marked silenced: %+v", al.Key, al.Silenced)
		}
	}
	checkRecords(t, b.allRecords(WhatAlertSilenced))
	checkRecords(t, ends)
}

// TestSilencesLastAcrossRestart: silences are kept by the store and mute
// again after a restart; one whose time came while no engine ran is
// expired at start, on the record.
func TestSilencesLastAcrossRestart(t *testing.T) {
	t.Parallel()
	st, clk := enginetest.NewStore(64), clock.NewFake(epoch)
	p := &probe{}
	b := setupProbed(t, st, clk, p)
	ctx := t.Context()
	b.start(t)
	long, err := b.e.SilenceAlerts(ctx, SilenceRequest{Match: "probe/*", For: time.Hour, Reason: "migration", Operator: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	clk.Advance(time.Second)
	short, err := b.e.SilenceAlerts(ctx, SilenceRequest{Match: "*", For: 10 * time.Minute, Reason: "deploy", Operator: "bob"})
	if err != nil {
		t.Fatal(err)
	}
	b.e.Stop()

	clk.Advance(20 * time.Minute)
	b2 := setupProbed(t, st, clk, p)
	if ss, err := b2.e.Silences(ctx, false); err != nil || len(ss) != 1 || ss[0].ID != long.ID {
		t.Fatalf("before start, from the store: %+v, %v; want the long one alone", ss, err)
	}
	b2.start(t)
	ss, err := b2.e.Silences(ctx, true)
	if err != nil || len(ss) != 2 || ss[0].ID != short.ID || ss[0].State != watchdog.SilenceExpired || ss[1].ID != long.ID || ss[1].State != watchdog.SilenceActive {
		t.Fatalf("after the restart: %+v, %v", ss, err)
	}
	r := b2.waitRecord(t, WhatAlertSilenceEnded, nil)
	if r.Who != actorSilenceExpiry || r.Context["silence_id"] != short.ID {
		t.Fatalf("the expiry noticed at start: %+v", r)
	}
	p.set("flaky", watchdog.Warn)
	b2.check(t)
	if ev := eventOf(t, b2.alertEvents(0), "probe/flaky", watchdog.Raised); ev.Alert.Silenced == nil || ev.Alert.Silenced.ID != long.ID {
		t.Fatalf("raised after the restart: %+v, want muted by %s", ev.Alert, long.ID)
	}
	if _, err := b2.e.EndSilence(ctx, short.ID, "carol", "x"); !errors.Is(err, ErrSilenceEnded) {
		t.Fatalf("end of the silence expired at start: %v", err)
	}
	var recs []clarity.Record
	for _, r := range st.Records() {
		if r.What == WhatAlertSilenceEnded {
			recs = append(recs, r)
		}
	}
	if len(recs) != 1 {
		t.Fatalf("%d alert_silence_ended records, want 1", len(recs))
	}
}
