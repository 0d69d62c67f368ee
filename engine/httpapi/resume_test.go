package httpapi

import (
	"bufio"
	"context"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"grace/engine"
)

// sse is one event as the stream wrote it.
type sse struct{ id, kind, data string }

// openStreamFrom opens GET /v1/events with token, sending lastID as
// Last-Event-ID when it is not empty.
func openStreamFrom(t *testing.T, ctx context.Context, url, token, lastID string) *bufio.Scanner {
	t.Helper()
	req, _ := http.NewRequestWithContext(ctx, "GET", url+"/v1/events?kinds=intent", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	if lastID != "" {
		req.Header.Set("Last-Event-ID", lastID)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	if resp.StatusCode != 200 {
		t.Fatalf("events: %d", resp.StatusCode)
	}
	return bufio.NewScanner(resp.Body)
}

// readSSE reads the next event, with its id.
func readSSE(t *testing.T, sc *bufio.Scanner) sse {
	t.Helper()
	var ev sse
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "" && ev.data != "":
			return ev
		case strings.HasPrefix(line, "id: "):
			ev.id = strings.TrimPrefix(line, "id: ")
		case strings.HasPrefix(line, "event: "):
			ev.kind = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: "):
			ev.data = strings.TrimPrefix(line, "data: ")
		}
	}
	t.Fatalf("stream ended: %v", sc.Err())
	return ev
}

// TestEventStreamResumesAfterLastEventID: a client that reconnects with
// the id of the last event it got is sent what happened meanwhile, once,
// then the live events; an id of another run of the engine, or one that
// cannot be read, gets a reset.
func TestEventStreamResumesAfterLastEventID(t *testing.T) {
	t.Parallel()
	b := setupReal(t)
	ctx, cancel := context.WithCancel(t.Context())
	first := openStreamFrom(t, ctx, b.srv.URL, viewVal, "")
	a := b.submit(t, opAlice, `{"type":"change_charter"}`) // waits for approval: one event
	got := readSSE(t, first)
	if got.kind != "intent" || !strings.Contains(got.data, a.ID) || !strings.HasPrefix(got.id, b.e.EventEpoch()+"-") {
		t.Fatalf("first event: %+v", got)
	}
	cancel() // the client goes away

	missed1 := b.submit(t, opAlice, `{"type":"change_charter"}`)
	missed2 := b.submit(t, opAlice, `{"type":"change_charter"}`)
	again := openStreamFrom(t, t.Context(), b.srv.URL, viewVal, got.id)
	for _, want := range []string{missed1.ID, missed2.ID} {
		ev := readSSE(t, again)
		if ev.kind != "intent" || !strings.Contains(ev.data, want) {
			t.Fatalf("resumed stream gave %+v, want the missed intent %s", ev, want)
		}
	}
	live := b.submit(t, opAlice, `{"type":"change_charter"}`)
	if ev := readSSE(t, again); !strings.Contains(ev.data, live.ID) {
		t.Fatalf("after the replay the stream gave %+v, want the live intent %s (nothing repeated)", ev, live.ID)
	}

	for _, bad := range []string{"0123456789ab-1", "not an id"} {
		sc := openStreamFrom(t, t.Context(), b.srv.URL, viewVal, bad)
		if ev := readSSE(t, sc); ev.kind != "reset" || ev.id != "" {
			t.Fatalf("Last-Event-ID %q: first event %+v, want a reset", bad, ev)
		}
	}
}

// TestClientSubscribeResumesAcrossDrops: the Go client reconnects with the
// last id it got, so intents that changed while its connection was down
// still reach the caller, each once.
func TestClientSubscribeResumesAcrossDrops(t *testing.T) {
	t.Parallel()
	b := setupReal(t)
	conns := &connLog{}
	c := NewClient(b.srv.URL, viewVal, &http.Client{Transport: &http.Transport{DialContext: conns.dial}})
	ch := c.SubscribeKinds(t.Context(), "intent")
	// The stream opens in the background: submit until an event shows it
	// is open.
	for open := false; !open; {
		b.submit(t, opAlice, `{"type":"change_charter"}`)
		select {
		case <-ch:
			open = true
		case <-time.After(time.Second):
		}
	}
	conns.closeAll() // the stream drops
	var want []string
	for range 3 {
		want = append(want, b.submit(t, opAlice, `{"type":"change_charter"}`).ID)
	}
	seen := map[string]int{}
	deadline := time.After(10 * time.Second)
	for n := 0; n < len(want); {
		select {
		case ev := <-ch:
			if ev.Kind == engine.EventReset {
				t.Fatal("a resumable drop gave a reset")
			}
			if slices.Contains(want, ev.Intent.ID) {
				seen[ev.Intent.ID]++
				n++
			}
		case <-deadline:
			t.Fatalf("after the drop only %v of %v arrived within 10 s", seen, want)
		}
	}
	for _, id := range want {
		if seen[id] != 1 {
			t.Fatalf("intent %s seen %d times after the drop, want once (seen %v)", id, seen[id], seen)
		}
	}
}

// connLog dials and remembers the connections, so a test can cut them.
type connLog struct {
	mu    sync.Mutex
	conns []net.Conn
}

func (l *connLog) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	var d net.Dialer
	c, err := d.DialContext(ctx, network, addr)
	if err == nil {
		l.mu.Lock()
		l.conns = append(l.conns, c)
		l.mu.Unlock()
	}
	return c, err
}

func (l *connLog) closeAll() {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, c := range l.conns {
		c.Close()
	}
	l.conns = nil
}

// TestFeedOwesAResetWhenTheCallerFallsBehind: an event dropped because the
// caller is behind is followed by a reset as soon as there is room.
func TestFeedOwesAResetWhenTheCallerFallsBehind(t *testing.T) {
	t.Parallel()
	ch := make(chan engine.Event, 2)
	f := &feed{ch: ch}
	for i := range 4 {
		f.give(engine.Event{Seq: uint64(i + 1), Kind: "intent"})
	}
	if a, b := <-ch, <-ch; a.Seq != 1 || b.Seq != 2 {
		t.Fatalf("buffered %d, %d; want 1, 2", a.Seq, b.Seq)
	}
	f.give(engine.Event{Seq: 5, Kind: "intent"})
	if ev := <-ch; ev.Kind != engine.EventReset {
		t.Fatalf("after the drops the caller got %+v, want a reset first", ev)
	}
	if ev := <-ch; ev.Seq != 5 {
		t.Fatalf("after the reset: %+v, want event 5", ev)
	}
}
