package notify

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"grace/engine"
	"grace/engine/clock"
	"grace/engine/enginetest"
	"grace/engine/intent"
	"grace/engine/watchdog"
)

// waitingSource is a fakeSource that holds intents pending approval, as
// the engine's store does at start.
type waitingSource struct {
	*fakeSource
	pending []intent.Intent // oldest first
	limits  []int
}

func (w *waitingSource) WaitingApprovals(_ context.Context, limit int) ([]intent.Intent, int, error) {
	w.limits = append(w.limits, limit)
	return w.pending[max(0, len(w.pending)-limit):], len(w.pending), nil
}

func pendingIntent(i int) intent.Intent {
	return intent.Intent{ID: fmt.Sprintf("int_%03d", i), Type: "change_charter", Actor: "agent.x", State: intent.StatePendingApproval,
		CreatedAt: epoch.Add(-time.Duration(100-i) * time.Minute), Payload: json.RawMessage(`{}`)}
}

// At start, the intents already pending approval are announced again, once,
// oldest first, marked reannounced with their submission time, to the
// webhooks that want approval requests only; one whose deadline passed is
// not (it expires as the engine starts). An event of a re-announced intent
// still pending sends nothing more.
func TestPendingApprovalsReannouncedAtStart(t *testing.T) {
	t.Parallel()
	appr, alerts := newReceiver(t, nil), newReceiver(t, nil)
	src := &waitingSource{fakeSource: newFakeSource()}
	for i := range 3 {
		src.pending = append(src.pending, pendingIntent(i))
	}
	src.pending[1].Deadline = epoch.Add(-time.Second) // expired while Grace was down
	ah := hookTo("alerts", alerts.srv.URL)
	ah.Events = []string{"alert"}
	oh := hookTo("oncall", appr.srv.URL)
	oh.Events = []string{"approval"}
	setup(t, src, []engine.WebhookConfig{oh, ah})
	// An event of int_000 still pending, then a new intent: once that is
	// sent, everything before it was.
	src.ch <- engine.Event{Kind: "intent", Intent: src.pending[0]}
	src.ch <- engine.Event{Kind: "intent", Intent: pendingIntent(50)}
	src.alert(watchdog.Raised, testAlert("x", watchdog.Warn, watchdog.Warn))
	got := appr.waitN(t, 3)
	var ids []string
	for _, r := range got {
		ids = append(ids, r.msg.Intent.ID)
	}
	if len(appr.requests()) != 3 || strings.Join(ids, " ") != "int_000 int_002 int_050" {
		t.Fatalf("announced %v, want int_000 int_002 (again) then int_050 (new)", ids)
	}
	for i, r := range got[:2] {
		if !r.msg.Reannounced || !r.msg.SubmittedAt.Equal(src.pending[2*i].CreatedAt) || r.msg.Kind != KindApproval ||
			!strings.Contains(string(r.body), `"reannounced":true`) || !strings.Contains(r.msg.Summary, "announced again") {
			t.Fatalf("re-announcement %d: %s", i, r.body)
		}
	}
	if got[2].msg.Reannounced || strings.Contains(string(got[2].body), "reannounced") || !got[2].msg.SubmittedAt.IsZero() {
		t.Fatalf("a new request is marked re-announced: %s", got[2].body)
	}
	if r := alerts.waitN(t, 1); len(r) != 1 || r[0].msg.Kind != KindAlert {
		t.Fatalf("the alert-only webhook was sent %d: %s", len(r), r[0].body)
	}
}

// Thousands pending: the newest ReannounceMax are announced again, after
// one approvals_pending message giving the total.
func TestManyPendingApprovalsAreCapped(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t, nil)
	src := &waitingSource{fakeSource: newFakeSource()}
	for i := range 3000 {
		src.pending = append(src.pending, pendingIntent(i))
	}
	b := setup(t, src, []engine.WebhookConfig{hookTo("oncall", rc.srv.URL)}, func(o *Options) { o.ReannounceMax = 3 })
	got := rc.waitN(t, 4)
	sum := got[0].msg
	if sum.Kind != KindApprovalsPending || !sum.Reannounced || sum.Pending == nil || sum.Pending.Total != 3000 || sum.Pending.Announced != 3 ||
		!sum.Pending.Oldest.Equal(src.pending[2997].CreatedAt) || got[0].header.Get("X-Grace-Event") != KindApprovalsPending {
		t.Fatalf("summary: %s", got[0].body)
	}
	for i, r := range got[1:] {
		if want := src.pending[2997+i].ID; r.msg.Intent == nil || r.msg.Intent.ID != want || !r.msg.Reannounced {
			t.Fatalf("request %d: %s, want %s", i+1, r.body, want)
		}
	}
	if len(src.limits) != 1 || src.limits[0] != 3 {
		t.Fatalf("asked for %v", src.limits)
	}
	waitFor(t, "the counts", func() bool {
		return b.metrics.Value("oncall", KindApprovalsPending, ResultDelivered) == 1 && b.metrics.Value("oncall", KindApproval, ResultDelivered) == 3
	})
}

// The engine after a restart: a Tier 0 intent submitted to the engine that
// stopped is announced again by the notifier of the next one on the same
// store, and only once.
func TestEngineRestartReannouncesPendingApproval(t *testing.T) {
	t.Parallel()
	st := enginetest.NewStore(64)
	t.Cleanup(func() { _ = st.Close() })
	cfg := engine.Default()
	cfg.DB, cfg.Cortex.Enabled = "test.db", false
	first, err := engine.New(cfg, engine.Deps{Store: st, Clock: clock.Real{}})
	if err != nil {
		t.Fatal(err)
	}
	if err := first.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	res, err := first.Submit(t.Context(), intent.Submission{Type: "grant_permissions", Actor: "agent.x", Payload: json.RawMessage(`{"password":"hunter2"}`)})
	if err != nil {
		t.Fatal(err)
	}
	first.Stop() // no webhook heard of it

	rc := newReceiver(t, nil)
	second, err := engine.New(cfg, engine.Deps{Store: st, Clock: clock.Real{}})
	if err != nil {
		t.Fatal(err)
	}
	setup(t, second, []engine.WebhookConfig{hookTo("oncall", rc.srv.URL)})
	if err := second.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(second.Stop)
	got := rc.waitN(t, 1)[0]
	if got.msg.Intent == nil || got.msg.Intent.ID != res.Intent.ID || !got.msg.Reannounced || !got.msg.SubmittedAt.Equal(res.Intent.CreatedAt) ||
		strings.Contains(string(got.body), "hunter2") {
		t.Fatalf("re-announcement: %s", got.body)
	}
	// Once: a second Tier 0 intent arrives alone after it.
	res2, err := second.Submit(t.Context(), intent.Submission{Type: "grant_permissions", Actor: "agent.x", Payload: json.RawMessage(`{}`)})
	if err != nil {
		t.Fatal(err)
	}
	all := rc.waitN(t, 2)
	if len(all) != 2 || all[1].msg.Intent.ID != res2.Intent.ID || all[1].msg.Reannounced {
		t.Fatalf("after the re-announcement: %d requests, the last %s", len(all), all[len(all)-1].body)
	}
}

// An intent still waiting for approval is announced again after each
// restart with the X-Grace-Delivery of its first announcement (the body's
// id too), so that a receiver dropping repeats by it is paged once for it,
// however often Grace restarts; each webhook has its own ID for it, and
// another intent has another.
func TestReannouncementKeepsTheFirstDeliveryID(t *testing.T) {
	t.Parallel()
	st := enginetest.NewStore(64)
	t.Cleanup(func() { _ = st.Close() })
	cfg := engine.Default()
	cfg.DB, cfg.Cortex.Enabled = "test.db", false
	oncall, pager := newReceiver(t, nil), newReceiver(t, nil)
	hooks := []engine.WebhookConfig{hookTo("oncall", oncall.srv.URL), hookTo("pager", pager.srv.URL)}
	run := func() *engine.Engine {
		t.Helper()
		e, err := engine.New(cfg, engine.Deps{Store: st, Clock: clock.Real{}})
		if err != nil {
			t.Fatal(err)
		}
		setup(t, e, hooks)
		if err := e.Start(t.Context()); err != nil {
			t.Fatal(err)
		}
		return e
	}
	first := run()
	res, err := first.Submit(t.Context(), intent.Submission{Type: "grant_permissions", Actor: "agent.x", Payload: json.RawMessage(`{}`)})
	if err != nil {
		t.Fatal(err)
	}
	announced := map[*receiver]string{}
	for _, rc := range []*receiver{oncall, pager} {
		got := rc.waitN(t, 1)[0]
		if got.msg.Intent == nil || got.msg.Intent.ID != res.Intent.ID || got.msg.Reannounced ||
			got.header.Get(HeaderDelivery) != got.msg.ID || !strings.HasPrefix(got.msg.ID, "dlv_") {
			t.Fatalf("first announcement: %s (X-Grace-Delivery %s)", got.body, got.header.Get(HeaderDelivery))
		}
		announced[rc] = got.msg.ID
	}
	if announced[oncall] == announced[pager] {
		t.Fatalf("two webhooks were sent one delivery ID, %s", announced[oncall])
	}
	first.Stop()

	for restart := 1; restart <= 2; restart++ {
		e := run()
		for _, rc := range []*receiver{oncall, pager} {
			got := rc.waitN(t, 1+restart)[restart]
			if got.msg.Intent == nil || got.msg.Intent.ID != res.Intent.ID || !got.msg.Reannounced {
				t.Fatalf("restart %d: %s; want %s announced again", restart, got.body, res.Intent.ID)
			}
			if id := got.header.Get(HeaderDelivery); id != announced[rc] || got.msg.ID != announced[rc] {
				t.Fatalf("restart %d: re-announced as delivery %s (body %s); want the first announcement's %s", restart, id, got.msg.ID, announced[rc])
			}
		}
		e.Stop()
	}

	e := run()
	t.Cleanup(e.Stop)
	res2, err := e.Submit(t.Context(), intent.Submission{Type: "grant_permissions", Actor: "agent.x", Payload: json.RawMessage(`{}`)})
	if err != nil {
		t.Fatal(err)
	}
	all := oncall.waitN(t, 5)
	if got := all[4]; got.msg.Intent == nil || got.msg.Intent.ID != res2.Intent.ID || got.msg.ID == announced[oncall] {
		t.Fatalf("another intent: %s; want its own delivery ID, not %s", got.body, announced[oncall])
	}
}
