package notify

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"grace/engine"
	"grace/engine/clock"
	"grace/engine/enginetest"
	"grace/engine/intent"
	"grace/engine/watchdog"
	"grace/engine/worker"
)

const testKey = "s3cret-signing-key"

// startEngine runs a real engine on an in-memory store; notify, when
// given, is started on it before the engine starts.
func startEngine(t *testing.T, notify func(*engine.Engine), edit ...func(*engine.Config)) *engine.Engine {
	t.Helper()
	cfg := engine.Default()
	cfg.DB = "test.db"
	cfg.Cortex.Enabled = false
	cfg.Governance.TwoPersonTypes = []string{"change_charter"}
	cfg.Handlers = map[string]worker.HandlerConfig{"default": {Kind: worker.KindNoop}}
	for _, f := range edit {
		f(&cfg)
	}
	st := enginetest.NewStore(64)
	e, err := engine.New(cfg, engine.Deps{Store: st, Clock: clock.Real{}})
	if err != nil {
		t.Fatal(err)
	}
	notify(e)
	if err := e.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	t.Cleanup(e.Stop)
	return e
}

// A Tier 0 submission reaches the webhook once, as approval_requested,
// its payload masked as the API shows it, signed so that the receiver can
// check it with the key alone; a first approval of two (which leaves the
// intent pending) sends nothing more.
func TestApprovalRequestReachesWebhookOnce(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t, nil)
	var b *bundle
	e := startEngine(t, func(e *engine.Engine) {
		hook := hookTo("oncall", rc.srv.URL)
		hook.SecretEnv = "GRACE_TEST_HOOK_KEY"
		b = setup(t, e, []engine.WebhookConfig{hook}, func(o *Options) {
			o.LookupEnv = func(k string) (string, bool) { return testKey, k == "GRACE_TEST_HOOK_KEY" }
		})
	})
	ctx := t.Context()
	res, err := e.Submit(ctx, intent.Submission{Type: "change_charter", Actor: "agent.x", Priority: 5,
		Payload: json.RawMessage(`{"doc":"charter v2","password":"hunter2"}`)})
	if err != nil {
		t.Fatal(err)
	}
	id := res.Intent.ID
	if res.Intent.State != intent.StatePendingApproval {
		t.Fatalf("a Tier 0 intent is %s", res.Intent.State)
	}
	got := rc.waitN(t, 1)[0]

	// The signature, checked as a receiver would: HMAC-SHA256 of
	// timestamp "." body under the key.
	ts := got.header.Get("X-Grace-Timestamp")
	mac := hmac.New(sha256.New, []byte(testKey))
	mac.Write([]byte(ts + "." + string(got.body)))
	if want := "sha256=" + hex.EncodeToString(mac.Sum(nil)); got.header.Get("X-Grace-Signature") != want {
		t.Fatalf("signature %q, want %q", got.header.Get("X-Grace-Signature"), want)
	}
	if sec, err := strconv.ParseInt(ts, 10, 64); err != nil || sec != epoch.Unix() {
		t.Fatalf("X-Grace-Timestamp %q, want the clock's %d", ts, epoch.Unix())
	}
	for h, want := range map[string]string{"Content-Type": "application/json", "User-Agent": "grace",
		"X-Grace-Event": "approval_requested", "X-Grace-Delivery": got.msg.ID} {
		if got.header.Get(h) != want {
			t.Errorf("%s: %q, want %q", h, got.header.Get(h), want)
		}
	}
	m := got.msg
	if m.Kind != KindApproval || !strings.HasPrefix(m.ID, "dlv_") || m.Intent == nil || m.Alert != nil {
		t.Fatalf("message: %s", got.body)
	}
	in := m.Intent
	if in.ID != id || in.Type != "change_charter" || in.Actor != "agent.x" || in.Tier != 0 ||
		in.State != "pending_approval" || in.Deadline.IsZero() || len(in.Reasoning) == 0 {
		t.Fatalf("intent: %s", got.body)
	}
	if strings.Contains(string(got.body), "hunter2") || !strings.Contains(string(in.Payload), `"password":"[masked]"`) ||
		!strings.Contains(string(in.Payload), `"doc":"charter v2"`) {
		t.Fatalf("payload not masked as the API shows it: %s", in.Payload)
	}

	// change_charter needs two operators: the first approval leaves it
	// pending, and is no new request.
	if _, err := e.Approve(ctx, id, "alice", "looks right"); err != nil {
		t.Fatal(err)
	}
	// A second Tier 0 intent: the webhook's notifications arrive in order,
	// so once it has come, anything about the first would have too.
	res2, err := e.Submit(ctx, intent.Submission{Type: "grant_permissions", Actor: "agent.x", Payload: json.RawMessage(`{}`)})
	if err != nil {
		t.Fatal(err)
	}
	all := rc.waitN(t, 2)
	if len(all) != 2 || all[1].msg.Intent == nil || all[1].msg.Intent.ID != res2.Intent.ID {
		t.Fatalf("after the first approval: %d requests, the second %s; want only the second intent's", len(all), all[len(all)-1].body)
	}
	waitFor(t, "the delivered count", func() bool { return b.metrics.Value("oncall", KindApproval, ResultDelivered) == 2 })
}

// An alert's raise and its resolution both reach the webhook, with the
// alert's ID, key, severity and change.
func TestAlertRaiseAndResolveReachWebhook(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t, nil)
	src := newFakeSource()
	b := setup(t, src, []engine.WebhookConfig{hookTo("ops", rc.srv.URL)})
	a := testAlert("queue_depth", watchdog.Warn, watchdog.Warn)
	src.alert(watchdog.Raised, a)
	src.alert(watchdog.Continued, a) // a check that changed nothing: not sent
	a.ResolvedAt, a.Resolution = epoch.Add(time.Minute), "Cleared: depth 3"
	src.alert(watchdog.Resolved, a)
	got := rc.waitN(t, 2)
	for i, want := range []string{"raised", "resolved"} {
		m := got[i].msg
		if m.Kind != KindAlert || m.Alert == nil || m.Alert.Change != want || m.Alert.ID != a.ID ||
			m.Alert.Key != "queue_depth" || m.Alert.Severity != "warn" || got[i].header.Get("X-Grace-Event") != "alert" {
			t.Fatalf("request %d: %s", i, got[i].body)
		}
		if got[i].header.Get("X-Grace-Signature") != "" {
			t.Fatalf("signed without a key: %v", got[i].header)
		}
	}
	if got[1].msg.Alert.ResolvedAt.IsZero() || !strings.Contains(got[1].msg.Summary, "resolved") {
		t.Fatalf("resolution: %s", got[1].body)
	}
	waitFor(t, "two delivered", func() bool { return b.metrics.Value("ops", KindAlert, ResultDelivered) == 2 })
}

// The real engine's watchdog: pausing the scheduler while work waits
// raises the scheduler/paused alert, and resuming resolves it; the webhook
// is sent both. (The engine runs on the wall clock with the shortest
// watchdog interval; the test waits for conditions, never for time.)
func TestEngineAlertRaiseAndResolveReachWebhook(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t, nil)
	e := startEngine(t, func(e *engine.Engine) {
		setup(t, e, []engine.WebhookConfig{hookTo("ops", rc.srv.URL)})
	}, func(c *engine.Config) {
		c.Watchdog.Interval = watchdog.MinInterval
		c.Safeguards["scheduler_auto_resume"] = engine.SafeguardConfig{Enabled: false}
	})
	paused := func(change string) func() bool {
		return func() bool {
			for _, r := range rc.requests() {
				if a := r.msg.Alert; a != nil && a.Key == "scheduler/paused" && a.Change == change {
					return true
				}
			}
			return false
		}
	}
	ctx := t.Context()
	if err := e.PauseScheduler(ctx, "ops", "maintenance"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Submit(ctx, intent.Submission{Type: "query_knowledge", Actor: "agent.x", Payload: json.RawMessage(`{}`)}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "scheduler/paused raised", paused("raised"))
	if err := e.ResumeScheduler(ctx, "ops", "done"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "scheduler/paused resolved", paused("resolved"))
}

// min_severity: a webhook set to critical is sent an alert once it is
// critical, its de-escalation and its resolution, and nothing of an alert
// that stayed at warn; events: [approval] is sent no alert at all.
func TestMinSeverityFilters(t *testing.T) {
	t.Parallel()
	crit, warn, appr := newReceiver(t, nil), newReceiver(t, nil), newReceiver(t, nil)
	src := newFakeSource()
	ch := hookTo("pager", crit.srv.URL)
	ch.MinSeverity = "critical"
	ap := hookTo("approvals", appr.srv.URL)
	ap.Events = []string{"approval"}
	setup(t, src, []engine.WebhookConfig{ch, hookTo("chat", warn.srv.URL), ap})

	x := testAlert("x", watchdog.Warn, watchdog.Warn)
	src.alert(watchdog.Raised, x)
	x.Severity, x.Peak = watchdog.Critical, watchdog.Critical
	src.alert(watchdog.Escalated, x)
	x.Severity = watchdog.Warn
	src.alert(watchdog.Deescalated, x)
	src.alert(watchdog.Resolved, x)
	y := testAlert("y", watchdog.Warn, watchdog.Warn)
	src.alert(watchdog.Raised, y)
	src.alert(watchdog.Resolved, y)
	z := testAlert("z", watchdog.Critical, watchdog.Critical) // the last: once it has come, all before it have
	src.alert(watchdog.Raised, z)
	src.ch <- engine.Event{Kind: "intent", Intent: intent.Intent{ID: "int_1", State: intent.StatePendingApproval, Payload: json.RawMessage(`{}`)}}

	changes := func(rs []received) string {
		var s []string
		for _, r := range rs {
			if r.msg.Alert != nil {
				s = append(s, r.msg.Alert.Key+":"+r.msg.Alert.Change)
			} else {
				s = append(s, r.msg.Kind)
			}
		}
		return strings.Join(s, " ")
	}
	if got, want := changes(crit.waitN(t, 5)), "x:escalated x:deescalated x:resolved z:raised approval_requested"; got != want {
		t.Fatalf("critical webhook: %s, want %s", got, want)
	}
	if got, want := changes(warn.waitN(t, 8)), "x:raised x:escalated x:deescalated x:resolved y:raised y:resolved z:raised approval_requested"; got != want {
		t.Fatalf("warn webhook: %s, want %s", got, want)
	}
	if got := changes(appr.waitN(t, 1)); got != "approval_requested" {
		t.Fatalf("approval-only webhook: %s", got)
	}
}

// A receiver that answers 500 twice, then 200, is sent the same delivery
// three times (same X-Grace-Delivery and body), 2 s and then 4 s apart by
// the clock; the delivery counts as delivered, not failed.
func TestServerErrorsRetriedWithTheSameDeliveryID(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t, func(n int, w http.ResponseWriter, _ *http.Request) {
		if n < 2 {
			http.Error(w, "busy", http.StatusInternalServerError)
		}
	})
	src := newFakeSource()
	b := setup(t, src, []engine.WebhookConfig{hookTo("flaky", rc.srv.URL)})
	src.alert(watchdog.Raised, testAlert("x", watchdog.Critical, watchdog.Critical))
	rc.waitN(t, 1)
	b.advanceWhenWaiting(t, 2*time.Second)
	rc.waitN(t, 2)
	b.advanceWhenWaiting(t, 4*time.Second)
	got := rc.waitN(t, 3)
	waitFor(t, "delivered", func() bool { return b.metrics.Value("flaky", KindAlert, ResultDelivered) == 1 })
	id := got[0].header.Get("X-Grace-Delivery")
	for i, r := range got {
		if r.header.Get("X-Grace-Delivery") != id || string(r.body) != string(got[0].body) {
			t.Fatalf("attempt %d: delivery %q, body %s; want %q and the first body", i+1, r.header.Get("X-Grace-Delivery"), r.body, id)
		}
	}
	if f := b.metrics.Value("flaky", KindAlert, ResultFailed); f != 0 {
		t.Fatalf("failed = %d", f)
	}
	if len(rc.requests()) != 3 {
		t.Fatalf("%d requests", len(rc.requests()))
	}
}

// A 429's Retry-After sets the wait before the next attempt.
func TestRetryAfterIsHonoured(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t, func(n int, w http.ResponseWriter, _ *http.Request) {
		if n == 0 {
			w.Header().Set("Retry-After", "7")
			w.WriteHeader(http.StatusTooManyRequests)
		}
	})
	src := newFakeSource()
	b := setup(t, src, []engine.WebhookConfig{hookTo("slow", rc.srv.URL)})
	src.alert(watchdog.Raised, testAlert("x", watchdog.Warn, watchdog.Warn))
	rc.waitN(t, 1)
	b.advanceWhenWaiting(t, 7*time.Second)
	rc.waitN(t, 2)
	waitFor(t, "delivered", func() bool { return b.metrics.Value("slow", KindAlert, ResultDelivered) == 1 })
}

// A receiver that answers 400 refused the notification: it is not sent
// again, and counts as failed; the next one is sent at once.
func TestClientErrorNotRetried(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t, func(n int, w http.ResponseWriter, _ *http.Request) {
		if n == 0 {
			http.Error(w, "bad", http.StatusBadRequest)
		}
	})
	src := newFakeSource()
	b := setup(t, src, []engine.WebhookConfig{hookTo("strict", rc.srv.URL)})
	src.alert(watchdog.Raised, testAlert("x", watchdog.Warn, watchdog.Warn))
	src.alert(watchdog.Raised, testAlert("y", watchdog.Warn, watchdog.Warn))
	got := rc.waitN(t, 2)
	waitFor(t, "the counts", func() bool {
		return b.metrics.Value("strict", KindAlert, ResultFailed) == 1 && b.metrics.Value("strict", KindAlert, ResultDelivered) == 1
	})
	if got[1].msg.Alert.Key != "y" || len(rc.requests()) != 2 || b.clock.Waiters() != 0 {
		t.Fatalf("the refused one was retried: %d requests, second %s, %d waits", len(rc.requests()), got[1].body, b.clock.Waiters())
	}
	if !strings.Contains(b.logs.String(), "400 Bad Request (not retried)") {
		t.Fatalf("log: %s", b.logs.String())
	}
}

// A receiver that is down: 5 attempts, 2+4+8+16 s apart, then the
// delivery counts as failed and one WARN line names the webhook, the kind,
// the delivery and the cause, without the key or the signature.
func TestReceiverDownExhaustsRetries(t *testing.T) {
	t.Parallel()
	url := refusedURL(t)
	src := newFakeSource()
	h := hookTo("down", url)
	h.SecretEnv = "KEY"
	b := setup(t, src, []engine.WebhookConfig{h}, func(o *Options) {
		o.LookupEnv = func(string) (string, bool) { return testKey, true }
	})
	src.ch <- engine.Event{Kind: "intent", Intent: intent.Intent{ID: "int_down", State: intent.StatePendingApproval, Payload: json.RawMessage(`{}`)}}
	for _, d := range []time.Duration{2, 4, 8, 16} {
		b.advanceWhenWaiting(t, d*time.Second)
	}
	waitFor(t, "failed", func() bool { return b.metrics.Value("down", KindApproval, ResultFailed) == 1 })
	logs := b.logs.String()
	var lines []string
	for _, l := range strings.Split(logs, "\n") {
		if strings.Contains(l, "level=WARN") {
			lines = append(lines, l)
		}
	}
	if len(lines) != 1 {
		t.Fatalf("want one WARN line, got:\n%s", logs)
	}
	for _, want := range []string{"webhook=down", "kind=approval_requested", "id=dlv_", "attempts=5", "cause=", "refused", "about=int_down"} {
		if !strings.Contains(lines[0], want) {
			t.Errorf("the WARN line lacks %q: %s", want, lines[0])
		}
	}
	if strings.Contains(logs, testKey) || strings.Contains(logs, "sha256=") {
		t.Fatalf("the log holds the key or a signature: %s", logs)
	}
	if b.clock.Waiters() != 0 {
		t.Fatalf("a sixth attempt is waiting")
	}
}

// A full queue drops what does not fit and counts it, while the webhook's
// one request hangs: the dispatcher goes on reading events. Stopping then
// gives the request in flight its grace, and counts and logs what was left.
func TestFullQueueDropsAndCounts(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	rc := newReceiver(t, func(n int, _ http.ResponseWriter, r *http.Request) {
		if n == 0 {
			select { // hangs until released, or the notifier gives up on it
			case <-release:
			case <-r.Context().Done():
			}
		}
	})
	defer close(release)
	src := newFakeSource()
	b := setup(t, src, []engine.WebhookConfig{hookTo("stuck", rc.srv.URL)}, func(o *Options) { o.QueueSize = 3 })
	src.alert(watchdog.Raised, testAlert("first", watchdog.Warn, watchdog.Warn))
	rc.waitN(t, 1) // in flight, hanging
	for i := range 10 {
		src.alert(watchdog.Raised, testAlert("a"+strconv.Itoa(i), watchdog.Warn, watchdog.Warn))
	}
	// 3 fit in the queue, 7 are dropped, and the dispatcher never waited.
	waitFor(t, "7 dropped", func() bool { return b.metrics.Value("stuck", KindAlert, ResultDropped) == 7 })
	if n := strings.Count(b.logs.String(), "queue full"); n != 1 {
		t.Fatalf("%d 'queue full' lines, want 1: %s", n, b.logs.String())
	}

	// Stop: the hanging request has ShutdownGrace (2 s by the clock), then
	// it and the 3 queued are counted dropped and logged as a count.
	b.cancel()
	waitFor(t, "the shutdown grace", func() bool { return b.clock.TimersAt(DefaultShutdownGrace) == 1 })
	b.clock.Advance(DefaultShutdownGrace)
	b.n.Wait()
	if d := b.metrics.Value("stuck", KindAlert, ResultDropped); d != 11 {
		t.Fatalf("dropped = %d, want 11 (7 + 3 queued + 1 cut short)", d)
	}
	if !strings.Contains(b.logs.String(), "undelivered=4") {
		t.Fatalf("log: %s", b.logs.String())
	}
}

// A subscription that fell behind (its event numbers skip) is given what
// it missed from the engine's held events.
func TestMissedEventsAreFetched(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t, nil)
	src := newFakeSource()
	setup(t, src, []engine.WebhookConfig{hookTo("ops", rc.srv.URL)})
	mk := func(seq uint64, key string) engine.Event {
		a := testAlert(key, watchdog.Warn, watchdog.Warn)
		return engine.Event{Seq: seq, Kind: engine.EventAlert, Alert: &watchdog.AlertEvent{Change: watchdog.Raised, Alert: a}}
	}
	src.mu.Lock()
	src.held = []engine.Event{mk(11, "missed1"), mk(12, "missed2")}
	src.mu.Unlock()
	src.ch <- mk(10, "seen1")
	src.ch <- mk(13, "seen2")
	got := rc.waitN(t, 4)
	var keys []string
	for _, r := range got {
		keys = append(keys, r.msg.Alert.Key)
	}
	if strings.Join(keys, " ") != "seen1 missed1 missed2 seen2" {
		t.Fatalf("sent %v", keys)
	}
}

// A secret_env that names no variable (or an empty one) stops New, naming
// the key; plain http beyond loopback is allowed and warned.
func TestNewChecksSecretsAndWarnsPlainHTTP(t *testing.T) {
	t.Parallel()
	env := map[string]string{"EMPTY": ""}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	for _, name := range []string{"UNSET", "EMPTY"} {
		h := hookTo("a", "https://hooks.example.com/x")
		h.SecretEnv = name
		_, err := New([]engine.WebhookConfig{hookTo("ok", "http://127.0.0.1:1/"), h}, Options{LookupEnv: lookup})
		if err == nil || !strings.HasPrefix(err.Error(), `notify.webhooks[1].secret_env (webhook "a"): the environment variable `+name+" holds no signing key") {
			t.Fatalf("%s: %v", name, err)
		}
	}
	logs := &enginetest.Buffer{}
	n, err := New([]engine.WebhookConfig{hookTo("far", "http://hooks.example.com/x"), hookTo("near", "http://localhost:9/x")},
		Options{Logger: slog.New(slog.NewTextHandler(logs, nil))})
	if err != nil || n.Webhooks() != 2 {
		t.Fatal(err)
	}
	if s := logs.String(); strings.Count(s, "plain http") != 1 || !strings.Contains(s, "webhook=far") {
		t.Fatalf("log: %s", s)
	}
}

func TestBackoffAndRetryAfter(t *testing.T) {
	t.Parallel()
	for i, want := range []time.Duration{2, 4, 8, 16} {
		if got := backoff(2*time.Second, i+1, -1); got != want*time.Second {
			t.Errorf("attempt %d: %v, want %vs", i+1, got, want)
		}
	}
	if got := backoff(2*time.Second, 1, time.Hour); got != MaxRetryAfter {
		t.Errorf("Retry-After of an hour: %v", got)
	}
	now := epoch
	for v, want := range map[string]time.Duration{"": -1, "soon": -1, "-3": -1, "0": 0, "12": 12 * time.Second,
		now.Add(30 * time.Second).Format(http.TimeFormat): 30 * time.Second, now.Add(-time.Hour).Format(http.TimeFormat): 0} {
		if got := retryAfter(v, now); got != want {
			t.Errorf("Retry-After %q: %v, want %v", v, got, want)
		}
	}
}

// The events already in the stream when the notifier is stopped (the
// engine stops first, its last events buffered) are not lost without a
// trace: each is counted and logged as undelivered. (Before, the
// dispatcher chose at random between stopping and reading them.)
func TestEventsInStreamAtStopAreCounted(t *testing.T) {
	t.Parallel()
	url := refusedURL(t) // nothing is delivered
	for range 20 {
		src := newFakeSource()
		const buffered = 6
		for i := range buffered {
			src.alert(watchdog.Raised, testAlert("a"+strconv.Itoa(i), watchdog.Warn, watchdog.Warn))
		}
		m, logs := NewMetrics(), &enginetest.Buffer{}
		n, err := New([]engine.WebhookConfig{hookTo("ops", url)}, Options{Clock: clock.NewFake(epoch), Metrics: m,
			Logger: slog.New(slog.NewTextHandler(logs, nil))})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		cancel() // stopped as it starts, the events waiting
		n.Start(ctx, src)
		n.Wait()
		if d := m.Value("ops", KindAlert, ResultDropped); d != buffered {
			t.Fatalf("dropped = %d, want %d: the events in the stream were lost uncounted; log: %s", d, buffered, logs.String())
		}
	}
}
