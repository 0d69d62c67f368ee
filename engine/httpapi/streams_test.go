package httpapi

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"grace/engine"
	"grace/engine/enginetest"
	"grace/engine/intent"
)

// getStream opens GET /v1/events as token over client and returns the
// answer (the caller closes its body).
func getStream(t *testing.T, client *http.Client, url, token, lastID string) *http.Response {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), "GET", url+"/v1/events", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	if lastID != "" {
		req.Header.Set("Last-Event-ID", lastID)
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

// TestEventStreamsAreCappedPerIdentityAndOverall: past its cap one
// identity's next stream is refused 429 too_many_streams and, past the
// server's, anyone's 503 streams_full, each with Retry-After, the error
// shape and a refusal record, and counted on /metrics; a stream that
// closes gives its place back.
func TestEventStreamsAreCappedPerIdentityAndOverall(t *testing.T) {
	t.Parallel()
	refusals := &refusalLog{}
	ids := append(testIdentities(), Identity{Name: "bob", Role: engine.RoleOperator, TokenSHA256: sha256.Sum256([]byte("tok-op-bob"))})
	h := NewHandler(newFake(), Options{Identities: ids, Refusals: refusals, MaxStreams: 3, MaxStreamsPerIdentity: 2})
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	t.Cleanup(h.Close)
	client := &http.Client{Transport: &http.Transport{MaxConnsPerHost: 0}}
	t.Cleanup(client.CloseIdleConnections)

	open := func(token string) *http.Response {
		t.Helper()
		resp := getStream(t, client, srv.URL, token, "")
		if resp.StatusCode != http.StatusOK {
			body, _ := io.ReadAll(resp.Body)
			t.Fatalf("stream of %s: %d %s, want 200", token, resp.StatusCode, body)
		}
		return resp
	}
	refused := func(token string, status int, code string) {
		t.Helper()
		resp := getStream(t, client, srv.URL, token, "")
		var body ErrorResponse
		_ = json.NewDecoder(resp.Body).Decode(&body)
		if resp.StatusCode != status || body.Error.Code != code || body.Error.Message == "" {
			t.Fatalf("stream of %s: %d %+v, want %d %s", token, resp.StatusCode, body.Error, status, code)
		}
		if ra, err := strconv.Atoi(resp.Header.Get("Retry-After")); err != nil || ra < 1 {
			t.Fatalf("stream of %s: Retry-After %q, want whole seconds", token, resp.Header.Get("Retry-After"))
		}
		if rf, _ := refusals.last(); rf.Code != code || rf.Status != status || rf.Action != eventsRoute {
			t.Fatalf("refusal record %+v, want %d %s on %s", rf, status, code, eventsRoute)
		}
	}

	first := open(viewerToken)
	open(viewerToken)
	refused(viewerToken, http.StatusTooManyRequests, CodeTooManyStreams)
	open(aliceToken)
	refused("tok-op-bob", http.StatusServiceUnavailable, CodeStreamsFull)

	first.Body.Close()
	waitFor(t, "the closed stream's place", func() bool {
		resp := getStream(t, client, srv.URL, viewerToken, "")
		return resp.StatusCode == http.StatusOK
	})

	resp, err := http.Get(srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	metrics, _ := io.ReadAll(resp.Body)
	for _, want := range []string{
		"grace_event_streams_open 3",
		`grace_event_streams_refused_total{limit="identity"} `,
		`grace_event_streams_refused_total{limit="server"} `,
	} {
		if !strings.Contains(string(metrics), want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}

// TestResumingStreamsDoNotEachCopyTheHeldEvents: streams that resume from
// the oldest held event and never read (a viewer's, an operator's) hold a
// few dozen events each, not a copy of the thousands the engine holds, so
// that many of them cannot fill the server's memory; one that reads still
// gets every event, in order, once.
func TestResumingStreamsDoNotEachCopyTheHeldEvents(t *testing.T) {
	b := setupReal(t)
	const held = 3500
	first := b.e.EventEpoch() + "-0"
	for i := range held {
		b.e.PublishChaos(engine.ChaosProgress{RunID: "run", Index: i + 1, Total: held, Phase: "running"})
	}
	// Clients that do not read: a small receive buffer, so that the
	// server cannot write the replay away into the sockets.
	unread := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
		if tc, ok := c.(*net.TCPConn); ok {
			_ = tc.SetReadBuffer(4 << 10)
		}
		return c, err
	}}}
	t.Cleanup(unread.CloseIdleConnections)
	// A server whose connections have small send buffers, for the same.
	srv := httptest.NewUnstartedServer(b.srv.Config.Handler)
	srv.Listener = smallSendBuffers{srv.Listener}
	srv.Start()
	t.Cleanup(srv.Close)

	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for _, token := range []string{viewVal, opAlice} {
		for range DefaultMaxStreamsPerIdentity {
			if resp := getStream(t, unread, srv.URL, token, first); resp.StatusCode != http.StatusOK {
				t.Fatalf("resume: %d", resp.StatusCode)
			}
		}
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	// A copy of the held events is about 1.6 MB a stream (54 MB for
	// these 32, measured); a chunk of them is a few dozen KB.
	if grown := int64(after.HeapAlloc) - int64(before.HeapAlloc); grown > 20<<20 {
		t.Fatalf("32 unread resuming streams hold %d MB of heap, want well under a copy of the %d held events each", grown>>20, held)
	}

	resp := getStream(t, http.DefaultClient, b.srv.URL, opBob, first)
	all := bufio.NewScanner(resp.Body)
	all.Buffer(nil, 1<<20)
	for want := 1; want <= held; {
		ev := readSSE(t, all)
		if ev.kind != engine.EventChaos {
			continue // telemetry from the watchdog
		}
		var got engine.Event
		if err := json.Unmarshal([]byte(ev.data), &got); err != nil || got.Chaos == nil || got.Chaos.Index != want {
			t.Fatalf("resumed event %+v, want chaos progress %d (err %v)", ev, want, err)
		}
		want++
	}
}

// smallSendBuffers gives each accepted connection a small send buffer.
type smallSendBuffers struct{ net.Listener }

func (l smallSendBuffers) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetWriteBuffer(4 << 10)
	}
	return c, err
}

// TestUnreadStreamIsCutLoggedAndCounted: a client that opens the event
// stream and never reads is cut off once an event cannot be written
// within the write timeout, and the operator sees it: a log line naming
// the identity, and grace_event_streams_dropped_total on /metrics.
func TestUnreadStreamIsCutLoggedAndCounted(t *testing.T) {
	t.Parallel()
	var logs enginetest.Buffer
	api := newFake()
	h := NewHandler(api, Options{Identities: testIdentities(), WriteTimeout: 100 * time.Millisecond,
		Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	// Small socket buffers on both ends, so that unread events fill them.
	srv := httptest.NewUnstartedServer(h)
	srv.Listener = smallSendBuffers{srv.Listener}
	srv.Start()
	t.Cleanup(srv.Close)
	t.Cleanup(h.Close)

	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.(*net.TCPConn).SetReadBuffer(4 << 10)
	if _, err := io.WriteString(conn, "GET /v1/events HTTP/1.1\r\nHost: grace\r\nAuthorization: Bearer "+viewerToken+"\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the stream to subscribe", func() bool { return api.subscribers() == 1 })

	big := json.RawMessage(`{"blob":"` + strings.Repeat("x", 32<<10) + `"}`)
	waitFor(t, "the server to cut the stream it cannot write to", func() bool {
		api.publish(engine.Event{Kind: "intent", Intent: intent.Intent{ID: "in-1", Actor: "a", Payload: big}})
		return strings.Contains(logs.String(), "event stream dropped")
	})
	line := logs.String()
	for _, want := range []string{"its client did not read an event within the write timeout", "identity=val", "role=viewer", "write_timeout=100ms"} {
		if !strings.Contains(line, want) {
			t.Errorf("log %q lacks %q", line, want)
		}
	}
	// The connection ends: what the client had not read, then the end.
	_ = conn.SetReadDeadline(time.Now().Add(15 * time.Second))
	if _, err := io.Copy(io.Discard, conn); err != nil && !strings.Contains(err.Error(), "reset") {
		t.Fatalf("reading the cut stream: %v, want its end", err)
	}
	waitFor(t, "the stream's place back", func() bool {
		resp, err := http.Get(srv.URL + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		m, _ := io.ReadAll(resp.Body)
		if !strings.Contains(string(m), "grace_event_streams_dropped_total 1\n") {
			t.Fatalf("/metrics lacks grace_event_streams_dropped_total 1:\n%s", grep(string(m), "grace_event_streams"))
		}
		return strings.Contains(string(m), "grace_event_streams_open 0\n")
	})
}

// grep returns the lines of s that hold sub.
func grep(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
