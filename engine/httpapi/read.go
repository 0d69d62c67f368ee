package httpapi

import (
	"net/http"
	"strings"
	"time"

	"grace/engine/clarity"
)

// maxNarratives bounds GET /v1/narratives?limit=; the default is 50.
const (
	maxNarratives     = 1000
	defaultNarratives = 50
)

// narratives handles GET /v1/narratives?q=&actor=&action=&since=&limit=&intent=.
// since is a duration back from now ("1h") or an RFC 3339 time.
func (h *handler) narratives(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	query := clarity.Query{
		Text:     strings.TrimSpace(q.Get("q")),
		Actor:    q.Get("actor"),
		Action:   q.Get("action"),
		IntentID: q.Get("intent"),
	}
	if s := q.Get("since"); s != "" {
		t, err := ParseSince(s, time.Now())
		if err != nil {
			return newError(http.StatusBadRequest, CodeBadQuery, "since", "%v", err)
		}
		query.Since = t
	}
	limit, err := parseLimit(q.Get("limit"), maxNarratives)
	if err != nil {
		return err
	}
	if limit == 0 {
		limit = defaultNarratives
	}
	query.Limit = limit
	entries, err := h.api.Search(r.Context(), query)
	if err != nil {
		return err
	}
	if entries == nil {
		entries = []clarity.Entry{}
	}
	writeJSON(w, http.StatusOK, NarrativesResponse{Narratives: entries})
	return nil
}

// telemetry handles GET /v1/telemetry: the engine's live snapshot.
func (h *handler) telemetry(w http.ResponseWriter, _ *http.Request) error {
	writeJSON(w, http.StatusOK, h.api.Snapshot())
	return nil
}

// healthz answers 200 while the process serves requests.
func (h *handler) healthz(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// readyz answers 200 when the engine is ready, 503 otherwise.
func (h *handler) readyz(w http.ResponseWriter, _ *http.Request) {
	var resp ReadyResponse
	if h.opts.Ready != nil {
		resp.Ready, resp.Checks = h.opts.Ready()
	} else {
		resp.Ready = h.api.Snapshot().Ready
	}
	status := http.StatusOK
	if !resp.Ready {
		status = http.StatusServiceUnavailable
	}
	writeJSON(w, status, resp)
}
