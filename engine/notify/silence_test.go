package notify

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"grace/engine"
	"grace/engine/clock"
	"grace/engine/enginetest"
	"grace/engine/watchdog"
	"grace/engine/worker"
)

// A change of an alert that a silence mutes sends nothing; an alert
// announced again as its silence ended is sent, marked after_silence,
// to a webhook it reached the min_severity of (its peak) even when it
// has come down since.
func TestSilencedAlertIsNotSent(t *testing.T) {
	t.Parallel()
	all, crit := newReceiver(t, nil), newReceiver(t, nil)
	src := newFakeSource()
	critical := hookTo("crit", crit.srv.URL)
	critical.MinSeverity = "critical"
	b := setup(t, src, []engine.WebhookConfig{hookTo("all", all.srv.URL), critical})
	muted := testAlert("queue_depth", watchdog.Critical, watchdog.Critical)
	muted.Silenced = &watchdog.SilenceRef{ID: "sil_1", By: "alice", EndsAt: epoch.Add(time.Hour)}
	src.alert(watchdog.Raised, muted)
	src.alert(watchdog.Deescalated, muted)
	back := testAlert("queue_depth", watchdog.Warn, watchdog.Critical)
	src.ch <- engine.Event{Kind: engine.EventAlert, Alert: &watchdog.AlertEvent{Change: watchdog.Raised, Alert: back, AfterSilence: true, EndedSilence: "sil_1"}}
	for _, rc := range []*receiver{all, crit} {
		got := rc.waitN(t, 1)
		m := got[0].msg
		if len(got) != 1 || m.Alert == nil || m.Alert.Change != "raised" || !m.AfterSilence || m.EndedSilence != "sil_1" ||
			m.Alert.Severity != "warn" || !strings.Contains(m.Summary, "still firing as silence sil_1 ended") ||
			!strings.Contains(string(got[0].body), `"after_silence":true`) {
			t.Fatalf("first request: %d requests, %s; want the announcement after the silence, the muted changes never", len(got), got[0].body)
		}
	}
	waitFor(t, "two delivered", func() bool {
		return b.metrics.Value("all", KindAlert, ResultDelivered) == 1 && b.metrics.Value("crit", KindAlert, ResultDelivered) == 1
	})
}

// probe is a watched component whose findings the test sets.
type probe struct {
	mu sync.Mutex
	st map[string]watchdog.Status
}

func (p *probe) set(condition string, s watchdog.Status) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.st[condition] = s
}

func (p *probe) check(time.Time) watchdog.Result {
	p.mu.Lock()
	defer p.mu.Unlock()
	r := watchdog.Result{Ready: true}
	for c, s := range p.st {
		r.Findings = append(r.Findings, watchdog.Finding{Condition: c, Status: s, Reason: c + " is " + s.String()})
	}
	return r
}

// probedEngine is a real engine on the fake clock clk watching p, with
// the notifier for hooks started on it; check runs one watchdog check.
type probedEngine struct {
	e      *engine.Engine
	clk    *clock.Fake
	events <-chan engine.Event
}

func startProbedEngine(t *testing.T, p *probe, hooks []engine.WebhookConfig) *probedEngine {
	t.Helper()
	cfg := engine.Default()
	cfg.DB = "test.db"
	cfg.Cortex.Enabled = false
	cfg.Handlers = map[string]worker.HandlerConfig{"default": {Kind: worker.KindNoop}}
	st := enginetest.NewStore(64)
	clk := clock.NewFake(epoch)
	e, err := engine.New(cfg, engine.Deps{Store: st, Clock: clk, Components: []watchdog.Component{{Name: "probe", Check: p.check}}})
	if err != nil {
		t.Fatal(err)
	}
	pe := &probedEngine{e: e, clk: clk, events: e.Subscribe(t.Context())}
	setup(t, e, hooks)
	if err := e.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	t.Cleanup(e.Stop)
	return pe
}

// check moves the clock one watchdog interval on and waits for that
// check's telemetry.
func (pe *probedEngine) check(t *testing.T) {
	t.Helper()
	pe.clk.Advance(engine.Default().Watchdog.Interval)
	at := pe.clk.Now()
	limit := time.After(waitLimit)
	for {
		select {
		case ev := <-pe.events:
			if ev.Kind == engine.EventTelemetry && ev.Telemetry.At.Equal(at) {
				return
			}
		case <-limit:
			t.Fatalf("no check at %v", at)
		}
	}
}

// probeAlerts are the probe's alerts the receiver was sent, as
// "change key" with " after silence" when so marked.
func probeAlerts(rc *receiver) []string {
	var out []string
	for _, r := range rc.requests() {
		if a := r.msg.Alert; a != nil && strings.HasPrefix(a.Key, "probe/") {
			s := a.Change + " " + a.Key
			if r.msg.AfterSilence {
				s += " after " + r.msg.EndedSilence
			}
			out = append(out, s)
		}
	}
	return out
}

// waitProbeAlerts waits until the receiver was sent n of the probe's
// alerts and returns them.
func waitProbeAlerts(t *testing.T, rc *receiver, n int) []string {
	t.Helper()
	waitFor(t, "the probe's alerts", func() bool { return len(probeAlerts(rc)) >= n })
	return probeAlerts(rc)
}

// The engine and the notifier together: an alert raised is sent; under
// a silence its escalation and a new alert it matches are not; with two
// silences over one alert, the early end of one sends nothing of it and
// the expiry of the other (on the engine's clock) sends it once, marked
// after_silence; the first silence's end sends its other alert once;
// changes after that are sent as ever.
// (The webhook's notifications arrive in order: once a later one has
// come, a muted one would have come before it.)
func TestSilenceEndsSendFiringAlertsOnce(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t, nil)
	p := &probe{st: map[string]watchdog.Status{}}
	pe := startProbedEngine(t, p, []engine.WebhookConfig{hookTo("ops", rc.srv.URL)})
	ctx := t.Context()
	e := pe.e

	p.set("flaky", watchdog.Warn)
	pe.check(t)
	if got := waitProbeAlerts(t, rc, 1); len(got) != 1 || got[0] != "raised probe/flaky" {
		t.Fatalf("before any silence: %v", got)
	}
	all, err := e.SilenceAlerts(ctx, engine.SilenceRequest{Match: "probe/*", For: time.Hour, Reason: "probe rework", Operator: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	other, err := e.SilenceAlerts(ctx, engine.SilenceRequest{Match: "*/other", For: time.Minute, Reason: "known", Operator: "bob"})
	if err != nil {
		t.Fatal(err)
	}
	p.set("flaky", watchdog.Critical)
	p.set("other", watchdog.Warn)
	pe.check(t)

	if _, err := e.EndSilence(ctx, all.ID, "alice", "rework done"); err != nil {
		t.Fatal(err)
	}
	got := waitProbeAlerts(t, rc, 2)
	if len(got) != 2 || got[1] != "raised probe/flaky after "+all.ID {
		t.Fatalf("after the first silence ended: %v; want probe/flaky once, after the silence (probe/other is still muted)", got)
	}
	pe.check(t)
	pe.check(t) // the other silence's time comes with this check
	p.set("flaky", watchdog.Warn)
	pe.check(t)
	got = waitProbeAlerts(t, rc, 4)
	want := []string{"raised probe/flaky", "raised probe/flaky after " + all.ID, "raised probe/other after " + other.ID, "deescalated probe/flaky"}
	if strings.Join(got, "; ") != strings.Join(want, "; ") {
		t.Fatalf("sent:\n%v\nwant\n%v", got, want)
	}
	for _, r := range rc.requests() {
		if a := r.msg.Alert; a != nil && a.Key == "probe/flaky" && r.msg.AfterSilence && (a.Severity != "critical" || a.Count != 2) {
			t.Fatalf("probe/flaky after its silence: %s; want it as it stands (critical, seen twice)", r.body)
		}
	}
}

// The engine and the notifier together, with a webhook for every alert
// and one for critical ones: a resolution a silence muted is sent as the
// silence ends, once, marked after_silence, to the webhooks that were
// sent the alert before the silence, and only to them (a warn alert that
// went critical under the silence and resolved is not sent to the
// critical webhook, which never heard of it); an alert that did not change
// under the silence is not sent again; one raised and resolved under it
// sends nothing.
func TestSilenceEndSendsMutedResolutionsToWhoHeard(t *testing.T) {
	t.Parallel()
	all, crit := newReceiver(t, nil), newReceiver(t, nil)
	critical := hookTo("crit", crit.srv.URL)
	critical.MinSeverity = "critical"
	p := &probe{st: map[string]watchdog.Status{}}
	pe := startProbedEngine(t, p, []engine.WebhookConfig{hookTo("all", all.srv.URL), critical})
	ctx := t.Context()

	p.set("warm", watchdog.Warn)
	p.set("hot", watchdog.Critical)
	p.set("steady", watchdog.Warn)
	pe.check(t)
	waitProbeAlerts(t, all, 3)
	waitProbeAlerts(t, crit, 1)
	s, err := pe.e.SilenceAlerts(ctx, engine.SilenceRequest{Match: "probe/*", For: time.Hour, Reason: "probe rework", Operator: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	p.set("warm", watchdog.Critical)
	p.set("inner", watchdog.Critical)
	pe.check(t)
	p.set("warm", watchdog.OK)
	p.set("hot", watchdog.OK)
	p.set("inner", watchdog.OK)
	pe.check(t)
	if _, err := pe.e.EndSilence(ctx, s.ID, "alice", "rework done"); err != nil {
		t.Fatal(err)
	}
	p.set("last", watchdog.Critical) // sent after whatever the end sent
	pe.check(t)

	sentAll := waitProbeAlerts(t, all, 6)
	slices.Sort(sentAll[:3]) // raised in one check, in any order
	gotAll := strings.Join(sentAll, "; ")
	wantAll := strings.Join([]string{"raised probe/hot", "raised probe/steady", "raised probe/warm",
		"resolved probe/hot after " + s.ID, "resolved probe/warm after " + s.ID, "raised probe/last"}, "; ")
	gotCrit := strings.Join(waitProbeAlerts(t, crit, 3), "; ")
	wantCrit := strings.Join([]string{"raised probe/hot", "resolved probe/hot after " + s.ID, "raised probe/last"}, "; ")
	if gotAll != wantAll || gotCrit != wantCrit {
		t.Fatalf("sent to all:\n%s\nwant\n%s\nsent to crit:\n%s\nwant\n%s", gotAll, wantAll, gotCrit, wantCrit)
	}
	for _, r := range all.requests() {
		if a := r.msg.Alert; a != nil && a.Key == "probe/warm" && a.Change == "resolved" &&
			(a.Peak != "critical" || a.ResolvedAt.IsZero() || !strings.Contains(r.msg.Summary, "resolved while silence "+s.ID+" muted it")) {
			t.Fatalf("probe/warm's resolution: %s", r.body)
		}
	}
}
