package httpapi

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"grace/engine"
)

// Event stream tuning for Client.Subscribe.
const (
	// subscribeBuffer is how many events a subscriber may fall behind
	// before it misses events, as with the engine's own Subscribe.
	subscribeBuffer = 256
	// streamIdle is how long a stream may stay silent (the server sends a
	// comment every 15 s) before the client calls it dead and reconnects.
	streamIdle = 3 * DefaultHeartbeat
	// reconnectMin and reconnectMax bound the wait between reconnections.
	reconnectMin = 250 * time.Millisecond
	reconnectMax = 5 * time.Second
	// maxEventBytes bounds one event's data.
	maxEventBytes = 4 << 20
)

// Subscribe streams the server's events (GET /v1/events) until ctx is
// cancelled; then the channel is closed. A dropped connection is reopened
// (waiting 250 ms, doubling to 5 s between failures) with the id of the
// last event received, so the server sends what happened meanwhile and
// the channel stays open across server restarts. When events were lost
// anyway (the server no longer holds them, it restarted, or the caller
// fell more than 256 behind) the channel carries an event of kind
// engine.EventReset: the caller must read the state it follows again.
// The stream's goroutine is owned by ctx.
func (c *Client) Subscribe(ctx context.Context) <-chan engine.Event {
	return c.SubscribeKinds(ctx)
}

// SubscribeKinds is Subscribe for the events of the named kinds only
// (engine.EventChaos, "intent", ...), filtered by the server (?kinds=), so
// that a follower of one kind is not sent the others; no kinds means all.
func (c *Client) SubscribeKinds(ctx context.Context, kinds ...string) <-chan engine.Event {
	path := "/v1/events"
	if len(kinds) > 0 {
		path += "?kinds=" + url.QueryEscape(strings.Join(kinds, ","))
	}
	ch := make(chan engine.Event, subscribeBuffer)
	go c.subscribeLoop(ctx, path, ch)
	return ch
}

// feed hands a stream's events to the caller without blocking the stream:
// when the caller is too far behind an event is dropped, and a reset is
// owed, given as soon as there is room.
type feed struct {
	ch     chan<- engine.Event
	lastID string // the id of the newest event received, for Last-Event-ID
	owed   bool   // a reset is owed
}

// give offers ev to the caller, after any reset owed.
func (f *feed) give(ev engine.Event) {
	if f.owed {
		select {
		case f.ch <- engine.Event{Kind: engine.EventReset}:
			f.owed = false
		default:
			return // still no room: ev is lost too, and the reset still owed
		}
	}
	select {
	case f.ch <- ev:
	default:
		f.owed = true
	}
}

// subscribeLoop reads the stream at path, reconnecting, until ctx ends.
func (c *Client) subscribeLoop(ctx context.Context, path string, ch chan<- engine.Event) {
	defer close(ch)
	f := &feed{ch: ch}
	wait := reconnectMin
	for ctx.Err() == nil {
		got, _ := c.readStream(ctx, path, f)
		if got {
			wait = reconnectMin
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		wait = min(2*wait, reconnectMax)
	}
}

// readStream opens one stream at path, resuming after f.lastID, and
// delivers its events until it ends. got reports whether the stream was
// opened.
func (c *Client) readStream(ctx context.Context, path string, f *feed) (got bool, err error) {
	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, http.MethodGet, c.base+path, nil)
	if err != nil {
		return false, err
	}
	req.Header.Set("Accept", "text/event-stream")
	if f.lastID != "" {
		req.Header.Set("Last-Event-ID", f.lastID)
	}
	c.authorize(req)
	// The stream has no overall deadline: the idle timer below ends a
	// dead one instead.
	hc := &http.Client{Transport: c.hc.Transport}
	idle := time.AfterFunc(streamIdle, cancel)
	defer idle.Stop()
	resp, err := hc.Do(req)
	if err != nil {
		return false, fmt.Errorf("open event stream: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return false, fmt.Errorf("open event stream: %s", resp.Status)
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 0, 64<<10), maxEventBytes)
	var kind, id string
	var data strings.Builder
	for sc.Scan() {
		idle.Reset(streamIdle)
		line := sc.Text()
		switch {
		case line == "":
			if data.Len() > 0 {
				if id != "" {
					f.lastID = id
				}
				deliver(f, kind, data.String())
			}
			kind, id = "", ""
			data.Reset()
		case strings.HasPrefix(line, ":"): // a comment: the heartbeat
		case strings.HasPrefix(line, "id:"):
			id = strings.TrimSpace(strings.TrimPrefix(line, "id:"))
		case strings.HasPrefix(line, "event:"):
			kind = strings.TrimSpace(strings.TrimPrefix(line, "event:"))
		case strings.HasPrefix(line, "data:"):
			if data.Len() > 0 {
				data.WriteByte('\n')
			}
			data.WriteString(strings.TrimPrefix(strings.TrimPrefix(line, "data:"), " "))
		}
	}
	if err := sc.Err(); err != nil && !errors.Is(err, context.Canceled) {
		return true, fmt.Errorf("read event stream: %w", err)
	}
	return true, nil
}

// deliver decodes one event and gives it to f. An event that does not
// decode is skipped.
func deliver(f *feed, kind, data string) {
	var ev engine.Event
	if err := json.Unmarshal([]byte(data), &ev); err != nil {
		return
	}
	if ev.Kind == "" {
		ev.Kind = kind
	}
	f.give(ev)
}
