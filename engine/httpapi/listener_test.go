package httpapi

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"grace/engine"
	"grace/engine/intent"
)

// limitBundle is a server on a loopback LimitListener, following its
// connections' states as grace serve does.
type limitBundle struct {
	addr string
	ln   *LimitedListener
	api  *fakeAPI // when the handler is the API's
}

// setupLimit serves h with at most n connections until the test ends.
// The idle timeout is an hour: a connection the listener does not close
// stays open.
func setupLimit(t *testing.T, n int, h http.Handler) *limitBundle {
	t.Helper()
	raw, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln := LimitListener(raw, n)
	b := &limitBundle{addr: raw.Addr().String(), ln: ln}
	if h == nil { // the API over the fake, with the listener's figures
		b.api = newFake()
		h = NewHandler(b.api, Options{Token: testToken, Connections: ln})
	}
	srv := NewServerWith(h, nil, Timeouts{Idle: time.Hour})
	if _, ok := h.(*Handler); !ok {
		srv.ConnState = ln.ConnState // a Handler's server does it itself
	}
	done := make(chan struct{})
	go func() { defer close(done); _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close(); <-done })
	if hh, ok := h.(*Handler); ok {
		t.Cleanup(hh.Close) // runs first: event streams end
	}
	return b
}

// rawConn is one client connection, written and read by hand.
type rawConn struct {
	net.Conn
	r *bufio.Reader
}

func (b *limitBundle) dial(t *testing.T) *rawConn {
	t.Helper()
	c, err := net.Dial("tcp", b.addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &rawConn{Conn: c, r: bufio.NewReader(c)}
}

// send writes a GET of path, with token unless it is "", and the header
// lines given ("Connection: close"); without, the connection is kept alive.
func (c *rawConn) send(t *testing.T, path, token string, header ...string) {
	t.Helper()
	req := "GET " + path + " HTTP/1.1\r\nHost: grace\r\n"
	if token != "" {
		req += "Authorization: Bearer " + token + "\r\n"
	}
	for _, h := range header {
		req += h + "\r\n"
	}
	if _, err := io.WriteString(c, req+"\r\n"); err != nil {
		t.Fatalf("send %s: %v", path, err)
	}
}

// answer reads the next whole answer on c. The deadline only keeps a
// broken server from hanging the test.
func (c *rawConn) answer(t *testing.T) (int, string) {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(15 * time.Second))
	defer c.SetReadDeadline(time.Time{})
	resp, err := http.ReadResponse(c.r, nil)
	if err != nil {
		t.Fatalf("no answer: %v", err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatalf("answer's body: %v", err)
	}
	return resp.StatusCode, string(body)
}

// get sends a GET of path on c and reads its answer.
func (c *rawConn) get(t *testing.T, path, token string) (int, string) {
	t.Helper()
	c.send(t, path, token)
	return c.answer(t)
}

// wantClosed reads c to its end: the server closed it.
func (c *rawConn) wantClosed(t *testing.T, what string) {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(15 * time.Second))
	if _, err := io.Copy(io.Discard, c.r); err != nil && !strings.Contains(err.Error(), "reset") {
		t.Fatalf("%s: %v, want the server to close it", what, err)
	}
}

// TestLimitListenerHoldsConnectionsAtTheCap: with the cap's connections
// busy, a further one is accepted but not served (its request reaches no
// handler) until one of them closes; then it is answered.
func TestLimitListenerHoldsConnectionsAtTheCap(t *testing.T) {
	t.Parallel()
	var held, quick atomic.Int32
	b := setupLimit(t, 2, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/hold" {
			held.Add(1)
			<-r.Context().Done() // until its client goes
			return
		}
		quick.Add(1)
		io.WriteString(w, "ok")
	}))
	// Closed when their requests end: never idle, so never closed to
	// make room, whenever the server notices the client went.
	first, second := b.dial(t), b.dial(t)
	first.send(t, "/hold", "", "Connection: close")
	second.send(t, "/hold", "", "Connection: close")
	waitFor(t, "two held requests", func() bool { return held.Load() == 2 })

	third := b.dial(t)
	third.send(t, "/quick", "")
	waitFor(t, "the third connection to wait for a place", func() bool { return b.ln.Figures().Waiting == 1 })
	if n := quick.Load(); n != 0 {
		t.Fatalf("a connection past the cap was served (%d requests) while the others were open", n)
	}
	if f := b.ln.Figures(); f.Open != 2 || f.Evicted != 0 {
		t.Fatalf("figures at the cap: %+v, want 2 open, none evicted", f)
	}

	first.Close()
	if status, body := third.answer(t); status != http.StatusOK || body != "ok" {
		t.Fatalf("the third connection, once one closed: %d %q", status, body)
	}
	if f := b.ln.Figures(); f.Open != 2 || f.Waiting != 0 || f.Evicted != 0 {
		t.Fatalf("figures after: %+v, want 2 open, none waiting, none evicted", f)
	}
}

// TestIdleConnectionsMakeRoomAtTheCap: a client holding every place with
// idle keep-alive connections does not lock others out: a new connection
// is served at once, in the place of the connection idle the longest
// (which the server closes), the others stay usable, and /metrics counts
// the eviction.
func TestIdleConnectionsMakeRoomAtTheCap(t *testing.T) {
	t.Parallel()
	b := setupLimit(t, 2, nil)

	oldest, older := b.dial(t), b.dial(t)
	for i, c := range []*rawConn{oldest, older} {
		if status, _ := c.get(t, "/healthz", ""); status != http.StatusOK {
			t.Fatalf("healthz: %d", status)
		}
		waitFor(t, "the connection to go idle", func() bool { return b.ln.Figures().Idle == i+1 })
	}

	newer := b.dial(t)
	if status, body := newer.get(t, "/healthz", ""); status != http.StatusOK {
		t.Fatalf("a new client at the cap of idle connections: %d %s", status, body)
	}
	oldest.wantClosed(t, "the connection idle the longest")
	if status, _ := older.get(t, "/healthz", ""); status != http.StatusOK {
		t.Fatalf("the other idle connection: %d", status)
	}
	_, metrics := newer.get(t, "/metrics", "")
	for _, want := range []string{
		"grace_http_connections_evicted_total 1\n",
		"grace_http_connections_max 2\n",
		"grace_http_connections_open 2\n",
		"grace_http_connections_waiting 0\n",
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %q", strings.TrimSpace(want))
		}
	}
}

// TestBusyConnectionsAreNotClosedToMakeRoom: when every place holds an
// event stream, a new connection waits, as without eviction, and the
// streams go on; it is served once a stream closes.
func TestBusyConnectionsAreNotClosedToMakeRoom(t *testing.T) {
	t.Parallel()
	b := setupLimit(t, 2, nil)
	api := b.api

	var streams []*bufio.Scanner
	var conns []*rawConn
	for range 2 {
		c := b.dial(t)
		// Closed when the stream ends: never idle, whenever the server
		// notices the client went.
		c.send(t, "/v1/events", testToken, "Connection: close")
		resp, err := http.ReadResponse(c.r, nil)
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("event stream: %v %v", resp, err)
		}
		conns = append(conns, c)
		streams = append(streams, bufio.NewScanner(resp.Body))
	}
	waitFor(t, "two streams", func() bool { return api.subscribers() == 2 })

	newer := b.dial(t)
	newer.send(t, "/healthz", "")
	waitFor(t, "the new connection to wait for a place", func() bool { return b.ln.Figures().Waiting == 1 })
	if f := b.ln.Figures(); f.Open != 2 || f.Evicted != 0 {
		t.Fatalf("figures with every place streaming: %+v, want 2 open, none evicted", f)
	}
	api.publish(engine.Event{Kind: "intent", Intent: intent.Intent{ID: "in-1", Actor: "a", State: intent.StateQueued}})
	for i, s := range streams {
		if _, data := nextEvent(t, s); !strings.Contains(data, `"in-1"`) {
			t.Fatalf("stream %d after the new connection came: %s", i, data)
		}
	}

	conns[0].Close()
	if status, _ := newer.answer(t); status != http.StatusOK {
		t.Fatalf("the new connection once a stream closed: %d", status)
	}
	if f := b.ln.Figures(); f.Evicted != 0 {
		t.Fatalf("figures after: %+v, want none evicted", f)
	}
}
