package httpapi

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"grace/engine"
	"grace/engine/clarity"
)

// maxNarratives bounds GET /v1/narratives?limit=; the default is 50.
const (
	maxNarratives     = 1000
	defaultNarratives = 50
)

// narratives handles GET /v1/narratives?q=&actor=&action=&intent=&since=&until=&before=&limit=.
// since and until are a duration back from now ("1h", "7d") or an RFC 3339 time;
// before pages (narrative IDs below it); a page that stopped early at the
// store's read budget says where, in resume_before. A q that is not blank
// but has no letters or digits is a 422 no_words (field q), not a list of
// everything. An agent must name one of its own intents (intent=) and
// reads that intent's story, less the attempts others made on it that
// were refused (agentPage).
func (h *Handler) narratives(w http.ResponseWriter, r *http.Request) error {
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
	if s := q.Get("until"); s != "" {
		t, err := ParseSince(s, time.Now())
		if err != nil {
			return newError(http.StatusBadRequest, CodeBadQuery, "until", "%v", strings.Replace(err.Error(), "since", "until", 1))
		}
		query.Until = t
		if !query.Since.IsZero() && t.Before(query.Since) {
			return newError(http.StatusBadRequest, CodeBadQuery, "until", "until (%s) is before since (%s): nothing can match",
				t.UTC().Format(time.RFC3339), query.Since.UTC().Format(time.RFC3339))
		}
	}
	if s := q.Get("before"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 1 {
			return newError(http.StatusBadRequest, CodeBadQuery, "before", "before must be a narrative ID (a positive integer), got %q", clipText(s, 32))
		}
		query.BeforeID = n
	}
	if s := q.Get("after"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 0 {
			return newError(http.StatusBadRequest, CodeBadQuery, "after", "after must be a narrative ID (0 or a positive integer), got %q", clipText(s, 32))
		}
		query.AfterID = n
	}
	limit, err := parseLimit(q.Get("limit"), maxNarratives)
	if err != nil {
		return err
	}
	if limit == 0 {
		limit = defaultNarratives
	}
	query.Limit = limit
	if p := principalOf(r); p.role == engine.RoleAgent {
		if err := h.ownIntent(r, p, query.IntentID); err != nil {
			return err
		}
	}
	page, err := clarity.SearchPage(r.Context(), h.api, query)
	if errors.Is(err, clarity.ErrNoWords) {
		msg := err.Error()
		if te := (*engine.TextError)(nil); errors.As(err, &te) {
			msg = te.Error() // without the wrapping: q "…" has no letters…
		}
		return newError(http.StatusUnprocessableEntity, CodeNoWords, "q", "%s", msg)
	}
	if err != nil {
		return err
	}
	if p := principalOf(r); p.role == engine.RoleAgent {
		if page, err = h.agentPage(r.Context(), p.name, query, page); err != nil {
			return err
		}
	}
	if page.Entries == nil {
		page.Entries = []clarity.Entry{}
	}
	writeJSON(w, http.StatusOK, NarrativesResponse{Narratives: page.Entries, ResumeBefore: page.ResumeBefore})
	return nil
}

// ownIntent checks that an agent's narrative search names one of its own
// intents.
func (h *Handler) ownIntent(r *http.Request, p principal, id string) error {
	if id == "" {
		return newError(http.StatusForbidden, CodeForbidden, "intent",
			"%s reads the narratives of its own intents only: name one with intent=", p.name)
	}
	_, err := h.intentFor(r, id, "reads the narratives of its own intents only")
	return err
}

// telemetry handles GET /v1/telemetry: the engine's live snapshot.
func (h *Handler) telemetry(w http.ResponseWriter, _ *http.Request) error {
	writeJSON(w, http.StatusOK, h.api.Snapshot())
	return nil
}

// verifyAudit handles GET /v1/audit/verify: the audit chain recomputed
// from its first entry.
func (h *Handler) verifyAudit(w http.ResponseWriter, r *http.Request) error {
	rep, err := h.api.VerifyAudit(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, rep)
	return nil
}

// whoami handles GET /v1/whoami: the caller's identity and role.
func (h *Handler) whoami(w http.ResponseWriter, r *http.Request) error {
	p := principalOf(r)
	who := WhoAmIResponse{Name: p.name, Role: p.role, Local: p.local}
	if !p.expires.IsZero() {
		at := p.expires.UTC()
		who.Expires = &at
	}
	writeJSON(w, http.StatusOK, who)
	return nil
}

// healthz answers 200 while the process serves requests.
func (h *Handler) healthz(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// readyz answers 200 when the engine is ready, 503 otherwise.
func (h *Handler) readyz(w http.ResponseWriter, _ *http.Request) {
	var resp ReadyResponse
	if h.opts.Ready != nil {
		resp.Ready, resp.Checks = h.opts.Ready()
	} else {
		resp.Ready = h.api.Snapshot().Ready
	}
	if s := h.keys.Load().expirySummary(h.clock.Now()); s != "" {
		if resp.Checks == nil {
			resp.Checks = map[string]string{}
		}
		resp.Checks["tokens"] = s
	}
	status := http.StatusOK
	if !resp.Ready {
		status = http.StatusServiceUnavailable
	}
	writeJSON(w, status, resp)
}
