package notify

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"grace/engine"
	"grace/engine/clock"
	"grace/engine/enginetest"
	"grace/engine/watchdog"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// waitLimit bounds every wait in these tests; nothing sleeps to let things
// settle, conditions are polled.
const waitLimit = 10 * time.Second

var epoch = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)

// waitFor polls cond until it holds, failing the test after waitLimit.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitLimit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// received is one request a receiver was sent.
type received struct {
	header http.Header
	body   []byte
	msg    Message
}

// receiver is an httptest server that records what it is sent and
// answers as answer says (nil: 200).
type receiver struct {
	srv    *httptest.Server
	mu     sync.Mutex
	got    []received
	answer func(n int, w http.ResponseWriter, r *http.Request) // n counts from 0
}

func newReceiver(t *testing.T, answer func(n int, w http.ResponseWriter, r *http.Request)) *receiver {
	t.Helper()
	rc := &receiver{answer: answer}
	rc.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var m Message
		if err := json.Unmarshal(body, &m); err != nil {
			t.Errorf("receiver: body is not a message: %v: %s", err, body)
		}
		rc.mu.Lock()
		n := len(rc.got)
		rc.got = append(rc.got, received{header: r.Header.Clone(), body: body, msg: m})
		rc.mu.Unlock()
		if rc.answer != nil {
			rc.answer(n, w, r)
		}
	}))
	t.Cleanup(rc.srv.Close)
	return rc
}

// requests returns what the receiver was sent so far.
func (rc *receiver) requests() []received {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]received(nil), rc.got...)
}

// waitN waits until the receiver was sent at least n requests.
func (rc *receiver) waitN(t *testing.T, n int) []received {
	t.Helper()
	waitFor(t, "the receiver to be sent requests", func() bool { return len(rc.requests()) >= n })
	return rc.requests()
}

// fakeSource is an event stream the test writes into.
type fakeSource struct {
	ch    chan engine.Event
	mu    sync.Mutex
	held  []engine.Event // what EventsBetween returns
	asked [][2]uint64
}

func newFakeSource() *fakeSource { return &fakeSource{ch: make(chan engine.Event, 1024)} }

func (f *fakeSource) Subscribe(context.Context) <-chan engine.Event { return f.ch }

func (f *fakeSource) EventsBetween(after, before uint64) ([]engine.Event, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.asked = append(f.asked, [2]uint64{after, before})
	var out []engine.Event
	for _, ev := range f.held {
		if ev.Seq > after && ev.Seq < before {
			out = append(out, ev)
		}
	}
	return out, true
}

// alert sends an alert change.
func (f *fakeSource) alert(ch watchdog.Change, a watchdog.Alert) {
	f.ch <- engine.Event{Kind: engine.EventAlert, Alert: &watchdog.AlertEvent{Change: ch, Alert: a}}
}

// testAlert is an alert of key at severity sev whose peak is peak.
func testAlert(key string, sev, peak watchdog.Status) watchdog.Alert {
	return watchdog.Alert{ID: "alr_" + key, Key: key, Component: "htm", Condition: key, Severity: sev, Peak: peak,
		Summary: key + " is off", FirstSeen: epoch, LastSeen: epoch, Count: 1}
}

// bundle is one notifier under test.
type bundle struct {
	n       *Notifier
	clock   *clock.Fake
	metrics *Metrics
	logs    *enginetest.Buffer
	cancel  context.CancelFunc
}

// setup starts a notifier for hooks on src with a fake clock; opts may
// change its options. The notifier stops at the end of the test.
func setup(t *testing.T, src Source, hooks []engine.WebhookConfig, opts ...func(*Options)) *bundle {
	t.Helper()
	b := &bundle{clock: clock.NewFake(epoch), metrics: NewMetrics(), logs: &enginetest.Buffer{}}
	o := Options{Clock: b.clock, Metrics: b.metrics,
		Logger:    slog.New(slog.NewTextHandler(b.logs, &slog.HandlerOptions{Level: slog.LevelInfo})),
		LookupEnv: func(string) (string, bool) { return "", false }}
	for _, f := range opts {
		f(&o)
	}
	n, err := New(hooks, o)
	if err != nil {
		t.Fatal(err)
	}
	b.n = n
	ctx, cancel := context.WithCancel(context.Background())
	b.cancel = cancel
	n.Start(ctx, src)
	t.Cleanup(b.stop)
	return b
}

// stop stops the notifier and waits for it.
func (b *bundle) stop() {
	b.cancel()
	b.n.Wait()
}

// advanceWhenWaiting waits until the notifier waits on the clock for d
// (a backoff), then moves the clock on by d.
func (b *bundle) advanceWhenWaiting(t *testing.T, d time.Duration) {
	t.Helper()
	waitFor(t, "a wait of "+d.String(), func() bool { return b.clock.TimersAt(d) == 1 })
	b.clock.Advance(d)
}

// refusedURL is a loopback URL nothing listens on: connection refused.
func refusedURL(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + ln.Addr().String() + "/hook"
	ln.Close()
	return url
}

// hookTo is a webhook named name to url with the defaults.
func hookTo(name, url string) engine.WebhookConfig {
	return engine.WebhookConfig{Name: name, URL: url}
}
