package notify

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"grace/engine"
	"grace/engine/clock"
	"grace/engine/intent"
	"grace/store"
)

// ackRig runs the engine and its notifier on a real store on disk, one run
// after another (a restart: the store is closed and opened again), all on
// one fake clock.
type ackRig struct {
	t     *testing.T
	path  string
	clock *clock.Fake
	st    *store.Store
	e     *engine.Engine
	b     *bundle
}

func newAckRig(t *testing.T) *ackRig {
	return &ackRig{t: t, path: filepath.Join(t.TempDir(), "grace.db"), clock: clock.NewFake(epoch)}
}

// start opens the store and starts an engine on it with a notifier for
// hooks (its options changed by opts), the notifier first, as grace does.
func (r *ackRig) start(hooks []engine.WebhookConfig, opts ...func(*Options)) {
	r.t.Helper()
	st, err := store.Open(r.t.Context(), r.path, store.Options{Clock: r.clock})
	if err != nil {
		r.t.Fatal(err)
	}
	r.st = st
	cfg := engine.Default()
	cfg.DB, cfg.Cortex.Enabled = r.path, false
	e, err := engine.New(cfg, engine.Deps{Store: st, Clock: r.clock})
	if err != nil {
		r.t.Fatal(err)
	}
	r.e = e
	r.b = setup(r.t, e, hooks, append([]func(*Options){func(o *Options) { o.Clock = r.clock }}, opts...)...)
	if err := e.Start(r.t.Context()); err != nil {
		r.t.Fatal(err)
	}
	r.t.Cleanup(r.stop)
}

// stop stops the engine, then the notifier, then closes the store, as
// grace does; again is harmless.
func (r *ackRig) stop() {
	if r.e == nil {
		return
	}
	r.e.Stop()
	r.b.stop()
	if err := r.st.Close(); err != nil {
		r.t.Error(err)
	}
	r.e = nil
}

// submit submits a Tier 0 intent, which waits for approval.
func (r *ackRig) submit() string {
	r.t.Helper()
	res, err := r.e.Submit(r.t.Context(), intent.Submission{Type: "grant_permissions", Actor: "agent.x", Payload: json.RawMessage(`{}`)})
	if err != nil {
		r.t.Fatal(err)
	}
	if res.Intent.State != intent.StatePendingApproval {
		r.t.Fatalf("submitted %s: %s", res.Intent.ID, res.Intent.State)
	}
	return res.Intent.ID
}

// told lists what a receiver was sent from index from on: an intent's ID,
// with "(again)" when re-announced, or "pending total/announced".
func told(rs []received, from int) string {
	var out []string
	for _, r := range rs[from:] {
		switch {
		case r.msg.Pending != nil:
			out = append(out, fmt.Sprintf("pending %d/%d", r.msg.Pending.Total, r.msg.Pending.Announced))
		case r.msg.Intent != nil && r.msg.Reannounced:
			out = append(out, r.msg.Intent.ID+"(again)")
		case r.msg.Intent != nil:
			out = append(out, r.msg.Intent.ID)
		default:
			out = append(out, r.msg.Kind)
		}
	}
	return strings.Join(out, " ")
}

// A webhook that acknowledged an approval request (200) is not told of the
// intent again after a restart; a webhook added to the config since is,
// once, marked reannounced with the intent's delivery ID for it.
func TestAcknowledgedApprovalNotReannounced(t *testing.T) {
	t.Parallel()
	oncall, pager := newReceiver(t, nil), newReceiver(t, nil)
	r := newAckRig(t)
	r.start([]engine.WebhookConfig{hookTo("oncall", oncall.srv.URL)})
	a := r.submit()
	oncall.waitN(t, 1)
	r.stop()

	r.start([]engine.WebhookConfig{hookTo("oncall", oncall.srv.URL), hookTo("pager", pager.srv.URL)})
	b := r.submit() // once it is sent, everything queued before it was
	got := oncall.waitN(t, 2)
	if s := told(got, 0); s != a+" "+b {
		t.Fatalf("oncall was told %q, want %s then %s (it acknowledged %s before the restart)", s, a, b, a)
	}
	got = pager.waitN(t, 2)
	if s := told(got, 0); s != a+"(again) "+b {
		t.Fatalf("pager (added since) was told %q, want %s again then %s", s, a, b)
	}
	if id := got[0].header.Get(HeaderDelivery); id != approvalDeliveryID("pager", a) {
		t.Fatalf("pager's re-announcement is delivery %s", id)
	}
	r.stop()

	// The next restart tells neither again: pager acknowledged both too.
	r.start([]engine.WebhookConfig{hookTo("oncall", oncall.srv.URL), hookTo("pager", pager.srv.URL)})
	c := r.submit()
	oncall.waitN(t, 3)
	pager.waitN(t, 3)
	if so, sp := told(oncall.requests(), 2), told(pager.requests(), 2); so != c || sp != c {
		t.Fatalf("after the second restart oncall was told %q and pager %q, want %s alone", so, sp, c)
	}
}

// An approval request the webhook refused (400: failed for good) or never
// answered before the stop (503, retried: lost with the process) is
// announced again at the next start, with its first delivery ID, and only
// it: the one acknowledged before it is not.
func TestUnacknowledgedApprovalReannounced(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		status int
	}{{"refused", http.StatusBadRequest}, {"lost", http.StatusServiceUnavailable}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var mu sync.Mutex
			accept := false
			rc := newReceiver(t, func(n int, w http.ResponseWriter, _ *http.Request) {
				mu.Lock()
				defer mu.Unlock()
				if n > 0 && !accept {
					http.Error(w, "no", tc.status)
				}
			})
			r := newAckRig(t)
			r.start([]engine.WebhookConfig{hookTo("oncall", rc.srv.URL)})
			a, b := r.submit(), r.submit()
			if tc.status == http.StatusBadRequest {
				waitFor(t, "the refusal", func() bool { return r.b.metrics.Value("oncall", KindApproval, ResultFailed) == 1 })
			} else {
				// Refused once, it waits to try again when the process stops.
				waitFor(t, "the wait after the refusal", func() bool { return r.clock.TimersAt(DefaultBackoffBase) == 1 })
			}
			r.stop()
			if got := told(rc.requests(), 0); !strings.HasPrefix(got, a+" "+b) {
				t.Fatalf("the first run sent %q", got)
			}
			first := len(rc.requests())

			mu.Lock()
			accept = true
			mu.Unlock()
			r.start([]engine.WebhookConfig{hookTo("oncall", rc.srv.URL)})
			c := r.submit()
			got := rc.waitN(t, first+2)
			if s := told(got, first); s != b+"(again) "+c {
				t.Fatalf("after the restart: %q, want %s again (not acknowledged) then %s; not %s (acknowledged)", s, b, c, a)
			}
			if id := got[first].header.Get(HeaderDelivery); id != got[1].header.Get(HeaderDelivery) {
				t.Fatalf("re-announced as delivery %s, first sent as %s", id, got[1].header.Get(HeaderDelivery))
			}
		})
	}
}

// The approvals_pending summary counts, for each webhook, the intents
// waiting that it has not acknowledged: 5 wait, oncall acknowledged the
// first 2 and refused the others, pager is new; with ReannounceMax 2,
// oncall is told 3 wait and pager 5, and each the newest 2 again.
func TestPendingSummaryCountsWhatTheWebhookWasNotTold(t *testing.T) {
	t.Parallel()
	oncall := newReceiver(t, func(n int, w http.ResponseWriter, _ *http.Request) {
		if n >= 2 && n < 5 {
			http.Error(w, "no", http.StatusBadRequest)
		}
	})
	pager := newReceiver(t, nil)
	r := newAckRig(t)
	r.start([]engine.WebhookConfig{hookTo("oncall", oncall.srv.URL)})
	var ids []string
	for range 5 {
		ids = append(ids, r.submit())
	}
	waitFor(t, "3 refused", func() bool { return r.b.metrics.Value("oncall", KindApproval, ResultFailed) == 3 })
	r.stop()

	max2 := func(o *Options) { o.ReannounceMax = 2 }
	r.start([]engine.WebhookConfig{hookTo("oncall", oncall.srv.URL), hookTo("pager", pager.srv.URL)}, max2)
	newest := ids[3] + "(again) " + ids[4] + "(again)"
	if got := told(oncall.waitN(t, 8), 5); got != "pending 3/2 "+newest {
		t.Fatalf("oncall after the restart: %q, want pending 3/2 %s", got, newest)
	}
	got := pager.waitN(t, 3)
	if s := told(got, 0); s != "pending 5/2 "+newest {
		t.Fatalf("pager after the restart: %q, want pending 5/2 %s", s, newest)
	}
	sum := oncall.requests()[5].msg
	if !sum.Reannounced || !strings.Contains(sum.Summary, "3 intents") || !strings.Contains(sum.Summary, "not acknowledged by this webhook") {
		t.Fatalf("oncall's summary: %+v", sum)
	}
	in, err := r.e.Get(t.Context(), ids[3])
	if err != nil || !sum.Pending.Oldest.Equal(in.CreatedAt) {
		t.Fatalf("oldest announced %v, want %s's %v (%v)", sum.Pending.Oldest, ids[3], in.CreatedAt, err)
	}
}

// blockingAcks is a source that keeps acknowledgements, whose writes wait
// while gate is open.
type blockingAcks struct {
	*fakeSource
	gate  chan struct{}
	mu    sync.Mutex
	saved []engine.ApprovalAck
}

func (s *blockingAcks) UnacknowledgedApprovals(context.Context, []string, int) (map[string]engine.ApprovalsWaiting, error) {
	return nil, nil
}

func (s *blockingAcks) AcknowledgeApprovals(_ context.Context, acks []engine.ApprovalAck) error {
	<-s.gate
	s.mu.Lock()
	defer s.mu.Unlock()
	s.saved = append(s.saved, acks...)
	return nil
}

func (s *blockingAcks) ForgetApprovalAcks(context.Context, []string) (int64, error) { return 0, nil }

// A store that does not take the acknowledgements holds up no delivery:
// with their writer stuck, every approval request is still delivered in
// turn; those that find the bounded hand-over full are not kept (logged
// with their count), and what was handed over is written once the store
// answers.
func TestAcknowledgementsNeverHoldUpDeliveries(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t, nil)
	src := &blockingAcks{fakeSource: newFakeSource(), gate: make(chan struct{})}
	b := setup(t, src, []engine.WebhookConfig{hookTo("oncall", rc.srv.URL)}, func(o *Options) { o.QueueSize = 4 })
	const n = 40 // the hand-over holds 16
	for i := range n {
		src.ch <- engine.Event{Kind: "intent", Intent: intent.Intent{ID: fmt.Sprintf("int_%02d", i), State: intent.StatePendingApproval, Payload: json.RawMessage(`{}`)}}
		rc.waitN(t, i+1)
	}
	waitFor(t, "every request counted delivered", func() bool { return b.metrics.Value("oncall", KindApproval, ResultDelivered) == n })
	close(src.gate)
	b.stop()
	src.mu.Lock()
	saved := len(src.saved)
	src.mu.Unlock()
	if saved == 0 || saved >= n {
		t.Fatalf("%d of %d acknowledgements written", saved, n)
	}
	logs := b.logs.String()
	if want := fmt.Sprintf("lost=%d", n-saved); !strings.Contains(logs, "acknowledgements of approval requests not kept (their queue was full)") || !strings.Contains(logs, want) {
		t.Fatalf("log (want %s):\n%s", want, logs)
	}
	if first := src.saved[0]; first.IntentID != "int_00" || !strings.HasPrefix(first.Webhook, "oncall#") || !first.At.Equal(epoch) {
		t.Fatalf("first written: %+v", first)
	}
}

// A webhook whose URL changed under the same name points at another
// receiver, which never heard of the intents the first one acknowledged:
// it is told of them again at start; once it acknowledged them, not again.
func TestWebhookPointedElsewhereIsToldAgain(t *testing.T) {
	t.Parallel()
	before, after := newReceiver(t, nil), newReceiver(t, nil)
	r := newAckRig(t)
	r.start([]engine.WebhookConfig{hookTo("oncall", before.srv.URL)})
	a := r.submit()
	before.waitN(t, 1)
	r.stop()

	r.start([]engine.WebhookConfig{hookTo("oncall", after.srv.URL)})
	b := r.submit()
	if s := told(after.waitN(t, 2), 0); s != a+"(again) "+b {
		t.Fatalf("the new receiver was told %q, want %s again then %s", s, a, b)
	}
	r.stop()

	r.start([]engine.WebhookConfig{hookTo("oncall", after.srv.URL)})
	c := r.submit()
	if s := told(after.waitN(t, 3), 2); s != c {
		t.Fatalf("after it acknowledged them, the new receiver was told %q, want %s alone", s, c)
	}
	if n := len(before.requests()); n != 1 {
		t.Fatalf("the old receiver was sent %d requests, want its first alone", n)
	}
}
