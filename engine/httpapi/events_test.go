package httpapi

import (
	"bufio"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"grace/engine"
	"grace/engine/intent"
)

// waitFor polls cond every few milliseconds for up to 5 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// openStream opens GET /v1/events with token and returns a line reader.
func openStream(t *testing.T, ctx context.Context, url, token string) *bufio.Scanner {
	t.Helper()
	req, _ := http.NewRequestWithContext(ctx, "GET", url+"/v1/events", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("events: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	return bufio.NewScanner(resp.Body)
}

// nextEvent reads lines up to the end of the next event and returns its
// "event:" and "data:" values, skipping comments.
func nextEvent(t *testing.T, sc *bufio.Scanner) (kind, data string) {
	t.Helper()
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "" && data != "":
			return kind, data
		case strings.HasPrefix(line, "event: "):
			kind = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: "):
			data = strings.TrimPrefix(line, "data: ")
		}
	}
	t.Fatalf("stream ended: %v", sc.Err())
	return "", ""
}

func TestEventStreamDeliversStateChanges(t *testing.T) {
	t.Parallel()
	b := setupIdentities(t)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	agent := openStream(t, ctx, b.srv.URL, agentToken)
	viewer := openStream(t, ctx, b.srv.URL, viewerToken)
	waitFor(t, "two subscribers", func() bool { return b.api.subscribers() == 2 })

	other := engine.Event{Kind: "intent", Intent: intent.Intent{ID: "in-9", Actor: "someone.else", State: intent.StateQueued}}
	own := engine.Event{Kind: "intent", Intent: intent.Intent{ID: "in-7", Actor: "agent.x", State: intent.StatePendingApproval}}
	alert := engine.Event{Kind: "alert"}
	for _, ev := range []engine.Event{other, alert, own} {
		b.api.publish(ev)
	}
	kind, data := nextEvent(t, viewer)
	if kind != "intent" || !strings.Contains(data, `"id":"in-9"`) || !strings.Contains(data, `"kind":"intent"`) {
		t.Fatalf("viewer's first event: %s %s", kind, data)
	}
	if kind, _ = nextEvent(t, viewer); kind != "alert" {
		t.Fatalf("a new kind of event did not pass through: %s", kind)
	}
	kind, data = nextEvent(t, agent)
	if kind != "intent" || !strings.Contains(data, `"id":"in-7"`) {
		t.Fatalf("the agent's first event should be its own intent, got %s %s", kind, data)
	}
}

// TestEventStreamHeadHoldsNothing: HEAD gets the stream's headers and the
// request ends; it holds no subscription for as long as the connection
// stays open.
func TestEventStreamHeadHoldsNothing(t *testing.T) {
	t.Parallel()
	b := setup(t, Options{})
	a := b.call(t, "HEAD", "/v1/events", "")
	if a.status != http.StatusOK || a.header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("HEAD /v1/events: %d %s", a.status, a.header.Get("Content-Type"))
	}
	if n := b.api.subscribers(); n != 0 {
		t.Fatalf("HEAD /v1/events left %d subscriptions open", n)
	}
}

func TestEventStreamHeartbeatsAndEndsOnClose(t *testing.T) {
	t.Parallel()
	api := newFake()
	h := NewHandler(api, Options{Token: testToken, Heartbeat: 20 * time.Millisecond})
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	sc := openStream(t, t.Context(), srv.URL, testToken)
	pings := 0
	for pings < 2 && sc.Scan() {
		if sc.Text() == ": ping" {
			pings++
		}
	}
	if pings < 2 {
		t.Fatalf("no heartbeat: %v", sc.Err())
	}
	h.Close()
	for sc.Scan() {
	}
	waitFor(t, "the subscription to end", func() bool { return api.subscribers() == 0 })
}

func TestEventStreamOutlivesTheServerTimeouts(t *testing.T) {
	t.Parallel()
	api := newFake()
	h := NewHandler(api, Options{Token: testToken, Heartbeat: 10 * time.Millisecond, WriteTimeout: time.Second})
	srv := httptest.NewUnstartedServer(h)
	srv.Config = NewServerWith(h, nil, Timeouts{Read: 50 * time.Millisecond, Write: 50 * time.Millisecond})
	srv.Start()
	t.Cleanup(srv.Close)
	t.Cleanup(h.Close) // first: streams end, so that Close does not wait for them
	sc := openStream(t, t.Context(), srv.URL, testToken)
	time.Sleep(200 * time.Millisecond) // four times the read and write timeouts
	api.publish(engine.Event{Kind: "intent", Intent: intent.Intent{ID: "late"}})
	if _, data := nextEvent(t, sc); !strings.Contains(data, `"late"`) {
		t.Fatalf("event after the timeouts: %s", data)
	}
}

func TestClientSubscribeReadsTheStream(t *testing.T) {
	t.Parallel()
	b := setup(t, Options{})
	c := NewClient(b.srv.URL, testToken, b.srv.Client())
	ctx, cancel := context.WithCancel(t.Context())
	ch := c.Subscribe(ctx)
	waitFor(t, "the subscription", func() bool { return b.api.subscribers() == 1 })
	b.api.publish(engine.Event{Kind: "intent", Intent: intent.Intent{ID: "in-1", State: intent.StateCompleted, Payload: []byte(`{"a":1}`)}})
	select {
	case ev := <-ch:
		if ev.Kind != "intent" || ev.Intent.ID != "in-1" || ev.Intent.State != intent.StateCompleted || string(ev.Intent.Payload) != `{"a":1}` {
			t.Fatalf("event = %+v", ev)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no event")
	}
	cancel()
	for range ch { // closed once ctx ends
	}
}

func TestClientSubscribeReconnects(t *testing.T) {
	t.Parallel()
	api := newFake()
	h := NewHandler(api, Options{Token: testToken})
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	t.Cleanup(h.Close)
	c := NewClient(srv.URL, testToken, srv.Client())
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	ch := c.Subscribe(ctx)
	waitFor(t, "the first subscription", func() bool { return api.subscribers() == 1 })
	srv.CloseClientConnections() // the connection drops
	waitFor(t, "the stream to end", func() bool { return api.subscribers() == 0 })
	waitFor(t, "the reconnection", func() bool { return api.subscribers() == 1 })
	api.publish(engine.Event{Kind: "intent", Intent: intent.Intent{ID: "after"}})
	select {
	case ev := <-ch:
		if ev.Intent.ID != "after" {
			t.Fatalf("event = %+v", ev)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no event after the reconnection")
	}
}
