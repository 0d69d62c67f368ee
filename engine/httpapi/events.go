package httpapi

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
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
// is idle. Events are not numbered for resuming: a Last-Event-ID header is
// ignored, and a reconnecting client starts from the next event. A HEAD
// request gets the stream's headers and ends at once.
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
	p := principalOf(r)
	rc := http.NewResponseController(w)
	// The stream outlives the server's read timeout: the request has no body
	// to wait for, and a read deadline would end it.
	_ = rc.SetReadDeadline(time.Time{})

	ctx, cancel := context.WithCancel(r.Context())
	defer cancel() // ends the subscription
	ch := h.api.Subscribe(ctx)

	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	bw := bufio.NewWriter(w)
	send := func(write func()) bool {
		_ = rc.SetWriteDeadline(time.Now().Add(h.opts.WriteTimeout))
		write()
		return bw.Flush() == nil && rc.Flush() == nil
	}
	if !send(func() { fmt.Fprintf(bw, "retry: %d\n: stream open\n\n", streamRetry.Milliseconds()) }) {
		return nil
	}
	beat := time.NewTicker(h.opts.Heartbeat)
	defer beat.Stop()
	var seq uint64
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-h.closed:
			return nil
		case <-beat.C:
			if !send(func() { bw.WriteString(": ping\n\n") }) {
				return nil
			}
		case ev, ok := <-ch:
			if !ok {
				return nil
			}
			if !visible(p, ev) || (kinds != nil && !kinds[ev.Kind]) {
				continue
			}
			data, err := json.Marshal(ev)
			if err != nil {
				h.log.Error("encode event", "kind", ev.Kind, "err", err)
				continue
			}
			seq++
			if !send(func() { fmt.Fprintf(bw, "id: %d\nevent: %s\ndata: %s\n\n", seq, sseName(ev.Kind), data) }) {
				return nil
			}
			beat.Reset(h.opts.Heartbeat)
		}
	}
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
