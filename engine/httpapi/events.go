package httpapi

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"grace/engine"
)

// events handles GET /v1/events: server-sent events, one per engine event,
// until the client goes, the engine stops or the server shuts down. Each
// event's SSE name is its kind ("intent", "telemetry", "alert", and
// "chaos" for a chaos run's progress, engine.EventChaos) and its data the
// JSON of the whole engine.Event, so a new kind needs nothing here.
// ?kinds=a,b keeps only those kinds (each one of EventKinds; an unknown
// kind is refused, 400, rather than giving a stream that stays silent). An
// agent gets only the intent events of its own intents (no telemetry,
// alerts or chaos). A comment line is sent every heartbeat while the stream
// is idle. A HEAD request gets the stream's headers and ends at once.
//
// Over the engine, each event's id is its place in the engine's numbering
// ("epoch-seq", see engine.Event.Seq). A client that reconnects with
// Last-Event-ID is sent the events after it first, none lost or repeated;
// when some are no longer held (or the id is of another run of the
// engine, or unreadable) it is sent an event named "reset" instead, and
// must read the state it follows again. A client that falls so far behind
// that the engine dropped events for it is sent them from what the engine
// holds, or a reset.
func (h *Handler) events(w http.ResponseWriter, r *http.Request) error {
	kinds, err := parseKinds(r.URL.Query().Get("kinds"))
	if err != nil {
		return err
	}
	if r.Method == http.MethodHead {
		w.Header().Set("Content-Type", "text/event-stream")
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusOK)
		return nil
	}
	rc := http.NewResponseController(w)
	// The stream outlives the server's read timeout: the request has no body
	// to wait for, and a read deadline would end it.
	_ = rc.SetReadDeadline(time.Time{})

	ctx, cancel := context.WithCancel(r.Context())
	defer cancel() // ends the subscription
	s := &stream{h: h, p: principalOf(r), kinds: kinds, rc: rc, bw: bufio.NewWriter(w)}
	ls, refused := h.track(s.p, cancel) // SetAccess ends it when its token goes
	if refused != nil {
		return refused
	}
	defer h.untrack(ls)
	ch, upTo, resumed := s.subscribe(ctx, r.Header.Get("Last-Event-ID"))

	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	if !s.send(func() { fmt.Fprintf(s.bw, "retry: %d\n: stream open\n\n", streamRetry.Milliseconds()) }) {
		return nil
	}
	if !resumed {
		if !s.reset() {
			return nil
		}
	} else if s.rp != nil && !s.catchUp(upTo+1) {
		return nil
	}
	beat := time.NewTicker(h.opts.Heartbeat)
	defer beat.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-h.closed:
			return nil
		case <-beat.C:
			if !s.send(func() { s.bw.WriteString(": ping\n\n") }) {
				return nil
			}
		case ev, ok := <-ch:
			if !ok {
				return nil
			}
			if !s.take(ev) {
				return nil
			}
			beat.Reset(h.opts.Heartbeat)
		}
	}
}

// stream is one GET /v1/events answer being written.
type stream struct {
	h     *Handler
	p     principal
	kinds map[string]bool // nil: every kind
	rc    *http.ResponseController
	bw    *bufio.Writer
	// rp is the engine's replay (nil over an API without it: the stream
	// then numbers its own events with seq and cannot be resumed).
	rp    replayer
	epoch string
	last  uint64 // the engine's newest event seen on this stream
	seq   uint64
}

// subscribe subscribes, resuming after lastID when the API can: the
// events the client missed are those up to upTo, read in pieces
// (catchUp), and resumed is false when it missed events no longer held (it
// is sent a reset).
func (s *stream) subscribe(ctx context.Context, lastID string) (ch <-chan engine.Event, upTo uint64, resumed bool) {
	rp, ok := s.h.api.(replayer)
	if !ok {
		return s.h.api.Subscribe(ctx), 0, true
	}
	s.rp, s.epoch = rp, rp.EventEpoch()
	if lastID == "" {
		return s.h.api.Subscribe(ctx), 0, true
	}
	epoch, seq, readable := parseEventID(lastID)
	if !readable {
		return s.h.api.Subscribe(ctx), 0, false
	}
	ch, upTo, resumed = rp.SubscribeFrom(ctx, epoch, seq)
	if resumed {
		s.last = seq
	}
	return ch, upTo, resumed
}

// replayChunk is how many held events a stream copies at a time while it
// catches up: what a stream holds while its client is slow to read is
// this, not everything the engine holds.
const replayChunk = 64

// catchUp writes the held events after the last one seen and below
// before, a chunk at a time, only those the client may see and asked for
// copied; a reset instead when some are no longer held.
func (s *stream) catchUp(before uint64) bool {
	for s.last+1 < before {
		after := s.last
		evs, next, complete := s.rp.EventsAfter(after, before, replayChunk, s.wants)
		if !complete {
			s.last = before - 1
			return s.reset()
		}
		for _, ev := range evs {
			if !s.emit(ev) {
				return false
			}
		}
		if next <= after {
			break // nothing more held below before (never, while numbering is unbroken)
		}
		s.last = max(s.last, next)
	}
	return true
}

// wants reports whether the stream sends ev: the caller may see it and
// asked for its kind.
func (s *stream) wants(ev engine.Event) bool {
	return visible(s.p, ev) && (s.kinds == nil || s.kinds[ev.Kind])
}

// take writes a live event, after the ones the engine dropped for this
// stream since the last (or a reset when they are no longer held).
func (s *stream) take(ev engine.Event) bool {
	if s.rp != nil {
		if ev.Seq <= s.last {
			return true // given already, in the replay
		}
		if s.last > 0 && ev.Seq > s.last+1 && !s.catchUp(ev.Seq) {
			return false
		}
	}
	return s.emit(ev)
}

// emit writes ev if the caller may see it and asked for its kind.
func (s *stream) emit(ev engine.Event) bool {
	if s.rp != nil {
		s.last = max(s.last, ev.Seq)
	}
	if !s.wants(ev) {
		return true
	}
	data, err := json.Marshal(ev)
	if err != nil {
		s.h.log.Error("encode event", "kind", ev.Kind, "err", err)
		return true
	}
	var id string
	if s.rp != nil {
		id = s.epoch + "-" + strconv.FormatUint(ev.Seq, 10)
	} else {
		s.seq++
		id = strconv.FormatUint(s.seq, 10)
	}
	return s.send(func() { fmt.Fprintf(s.bw, "id: %s\nevent: %s\ndata: %s\n\n", id, sseName(ev.Kind), data) })
}

// reset tells the client it missed events and must read its state again.
func (s *stream) reset() bool {
	return s.send(func() { fmt.Fprintf(s.bw, "event: %s\ndata: {\"kind\":%q}\n\n", engine.EventReset, engine.EventReset) })
}

// send writes and flushes within the write timeout; false when the client
// is gone.
func (s *stream) send(write func()) bool {
	_ = s.rc.SetWriteDeadline(time.Now().Add(s.h.opts.WriteTimeout))
	write()
	err := s.bw.Flush()
	if err == nil {
		err = s.rc.Flush()
	}
	if err != nil {
		s.h.dropped(s.p, err)
	}
	return err == nil
}

// EventKinds are the kinds of event the stream carries, as ?kinds= names
// them. A new kind of engine event must be added here to be asked for by
// name (without a filter, every kind passes).
var EventKinds = []string{"intent", engine.EventTelemetry, engine.EventAlert, engine.EventChaos}

// parseKinds reads ?kinds=a,b: nil (every kind) when empty.
func parseKinds(s string) (map[string]bool, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, nil
	}
	kinds := map[string]bool{}
	for _, k := range strings.Split(s, ",") {
		if k = strings.TrimSpace(k); k == "" {
			continue
		}
		if !slices.Contains(EventKinds, k) {
			return nil, newError(http.StatusBadRequest, CodeBadQuery, "kinds", "unknown event kind %q (one of %s)",
				clipText(k, 32), strings.Join(EventKinds, ", "))
		}
		kinds[k] = true
	}
	return kinds, nil
}

// replayer is what the engine offers beyond OperatorAPI for resuming a
// stream (see engine.Engine.SubscribeFrom); a client of another server
// does not, and its stream is not resumable.
type replayer interface {
	EventEpoch() string
	SubscribeFrom(ctx context.Context, epoch string, seq uint64) (<-chan engine.Event, uint64, bool)
	EventsAfter(after, before uint64, limit int, keep func(engine.Event) bool) ([]engine.Event, uint64, bool)
}

// parseEventID reads an event id of the form epoch-seq; ok is false for
// anything else.
func parseEventID(id string) (epoch string, seq uint64, ok bool) {
	i := strings.LastIndexByte(id, '-')
	if i <= 0 {
		return "", 0, false
	}
	n, err := strconv.ParseUint(id[i+1:], 10, 64)
	if err != nil {
		return "", 0, false
	}
	return id[:i], n, true
}

// streamRetry is the reconnection delay the stream suggests to clients.
const streamRetry = 2 * time.Second

// visible reports whether p may see ev: everyone but agents sees every
// event; an agent sees only intent events of intents it submitted.
func visible(p principal, ev engine.Event) bool {
	if p.role != engine.RoleAgent {
		return true
	}
	return ev.Kind == "intent" && ev.Intent.Actor == p.name
}

// sseName makes a kind safe for the "event:" line.
func sseName(kind string) string {
	if kind == "" {
		return "message"
	}
	return strings.Map(func(r rune) rune {
		if r == '\n' || r == '\r' || r == ':' {
			return '_'
		}
		return r
	}, kind)
}
