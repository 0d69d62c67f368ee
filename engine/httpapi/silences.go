package httpapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"grace/engine"
	"grace/engine/watchdog"
)

// SilenceRequest is the body of POST /v1/alerts/silences: mute the
// notifications of the alerts Match matches ("component/condition",
// "component/*", "*/condition" or "*") for For ("2h", "90m", "7d") or
// until Until (RFC 3339), one of the two, at most 30 days; a Reason is
// required. Operator is read as in DecisionRequest (the local token's).
type SilenceRequest struct {
	Match    string `json:"match"`
	For      string `json:"for,omitempty"`
	Until    string `json:"until,omitempty"`
	Reason   string `json:"reason"`
	Operator string `json:"operator,omitempty"`
}

// EndSilenceRequest is the body of POST /v1/alerts/silences/{id}/end: the
// reason is required.
type EndSilenceRequest struct {
	Reason   string `json:"reason"`
	Operator string `json:"operator,omitempty"`
}

// SilencesResponse is the answer to GET /v1/alerts/silences, newest
// first.
type SilencesResponse struct {
	Silences []watchdog.Silence `json:"silences"`
}

// maxSilenceDays bounds the days of a silence's "for" that are read at
// all (the engine refuses more than 30).
const maxSilenceDays = 100_000

// ParseSilenceFor reads how long a silence lasts: a Go duration ("2h",
// "90m", "1h30m"), whole days ("7d") or both ("1d12h", as the console
// takes it). It must be at least a minute (watchdog.MinSilence); the
// engine bounds it (30 days). The CLI's --for and the route's "for" share
// it.
func ParseSilenceFor(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	d, err := parseFor(s)
	switch {
	case err != nil:
		return 0, err
	case d <= 0:
		return 0, fmt.Errorf("for %q: a duration must be positive", s)
	case d < watchdog.MinSilence:
		return 0, fmt.Errorf("for %q: a silence lasts at least 1m", s)
	}
	return d, nil
}

// parseFor reads a silence's "for" (trimmed) without bounding it.
func parseFor(s string) (time.Duration, error) {
	if n, ok := strings.CutSuffix(s, "d"); ok && n != "" && strings.Trim(n, "0123456789") == "" {
		days, err := strconv.Atoi(n)
		if err != nil || days > maxSilenceDays {
			return 0, fmt.Errorf("for %q: far too long (a silence lasts at most 30d)", s)
		}
		return time.Duration(days) * 24 * time.Hour, nil
	}
	if n, rest, ok := strings.Cut(s, "d"); ok && n != "" && strings.Trim(n, "0123456789") == "" && rest != "" && rest[0] >= '0' && rest[0] <= '9' {
		// Days and then a duration, as the console takes them ("1d12h").
		days, err := strconv.Atoi(n)
		if err != nil || days > maxSilenceDays {
			return 0, fmt.Errorf("for %q: far too long (a silence lasts at most 30d)", s)
		}
		x, err := time.ParseDuration(rest)
		switch {
		case err != nil && durationLike.MatchString(rest):
			return 0, fmt.Errorf("for %q: far too long (a silence lasts at most 30d)", s)
		case err != nil:
			return 0, fmt.Errorf("for %q: expected a duration like 2h, 90m, 7d or 1d12h", s)
		}
		d := time.Duration(days)*24*time.Hour + x
		if d < x {
			return 0, fmt.Errorf("for %q: far too long (a silence lasts at most 30d)", s)
		}
		return d, nil
	}
	d, err := time.ParseDuration(s)
	switch {
	case err != nil && durationLike.MatchString(s):
		return 0, fmt.Errorf("for %q: far too long (a silence lasts at most 30d)", s)
	case err != nil:
		return 0, fmt.Errorf("for %q: expected a duration like 2h, 90m or 7d", s)
	}
	return d, nil
}

// silencer is the engine's silences, or 501 when the engine behind the
// API has none.
func (h *Handler) silencer() (engine.AlertSilencer, error) {
	s, ok := h.api.(engine.AlertSilencer)
	if !ok {
		return nil, newError(http.StatusNotImplemented, CodeNotImplemented, "", "this server keeps no alert silences")
	}
	return s, nil
}

// createSilence handles POST /v1/alerts/silences (operators): 201 with
// the silence made. A bad match, for, until or reason is answered with
// the field named (422; a silence shorter than a minute too), and
// engine.MaxActiveSilences active already with 409 too_many_silences;
// nothing is made.
func (h *Handler) createSilence(w http.ResponseWriter, r *http.Request) error {
	var req SilenceRequest
	if err := decodeBody(r, &req, false); err != nil {
		return err
	}
	for _, f := range []struct {
		name, text string
		max        int
	}{{"match", req.Match, maxOperatorBytes * 2}, {"for", req.For, 64}, {"until", req.Until, 64},
		{"reason", req.Reason, maxReasonBytes}, {"operator", req.Operator, maxOperatorBytes}} {
		if err := checkText(f.name, f.text, f.max, f.name == "reason"); err != nil {
			return err
		}
	}
	forText, untilText := strings.TrimSpace(req.For), strings.TrimSpace(req.Until)
	if forText != "" && untilText != "" {
		return newError(http.StatusBadRequest, CodeConflictingFields, "until",
			"give for or until, not both: a silence lasts for a while (for) or until a time (until)")
	}
	if strings.TrimSpace(req.Reason) == "" {
		return newError(http.StatusUnprocessableEntity, CodeReasonRequired, "reason", "a reason is required to silence alerts (it goes on the record)")
	}
	sreq := engine.SilenceRequest{Match: req.Match, Reason: req.Reason, Operator: operatorOf(r, DecisionRequest{Operator: req.Operator})}
	if forText != "" {
		d, err := ParseSilenceFor(forText)
		if err != nil {
			return newError(http.StatusUnprocessableEntity, CodeInvalidField, "for", "%s", err.Error())
		}
		sreq.For = d
	}
	if untilText != "" {
		t, err := time.Parse(time.RFC3339, untilText)
		if err != nil {
			return newError(http.StatusUnprocessableEntity, CodeInvalidField, "until",
				"until %q: expected an RFC 3339 time like 2026-01-02T15:04:05Z", clipText(untilText, 64))
		}
		sreq.Until = t
	}
	sil, err := h.silencer()
	if err != nil {
		return err
	}
	s, err := sil.SilenceAlerts(r.Context(), sreq)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, s)
	return nil
}

// listSilences handles GET /v1/alerts/silences?all= (viewers and
// operators): the active silences, or with all=true the newest 100 of
// every state.
func (h *Handler) listSilences(w http.ResponseWriter, r *http.Request) error {
	var all bool
	if s := r.URL.Query().Get("all"); s != "" {
		b, err := strconv.ParseBool(s)
		if err != nil {
			return newError(http.StatusBadRequest, CodeBadQuery, "all", "all must be true or false, got %q", clipText(s, 32))
		}
		all = b
	}
	sil, err := h.silencer()
	if err != nil {
		return err
	}
	ss, err := sil.Silences(r.Context(), all)
	if err != nil {
		return err
	}
	if ss == nil {
		ss = []watchdog.Silence{}
	}
	writeJSON(w, http.StatusOK, SilencesResponse{Silences: ss})
	return nil
}

// endSilence handles POST /v1/alerts/silences/{id}/end {reason}
// (operators): 200 with the silence ended; an unknown ID is a 404, a
// silence that ended or expired already a 409 silence_ended.
func (h *Handler) endSilence(w http.ResponseWriter, r *http.Request) error {
	var req EndSilenceRequest
	if err := decodeBody(r, &req, false); err != nil {
		return err
	}
	if err := checkText("reason", req.Reason, maxReasonBytes, true); err != nil {
		return err
	}
	if err := checkText("operator", req.Operator, maxOperatorBytes, false); err != nil {
		return err
	}
	if strings.TrimSpace(req.Reason) == "" {
		return newError(http.StatusUnprocessableEntity, CodeReasonRequired, "reason", "a reason is required to end a silence (it goes on the record)")
	}
	sil, err := h.silencer()
	if err != nil {
		return err
	}
	s, err := sil.EndSilence(r.Context(), r.PathValue("id"), operatorOf(r, DecisionRequest{Operator: req.Operator}), req.Reason)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s)
	return nil
}

var _ engine.AlertSilencer = (*Client)(nil)

// SilenceAlerts makes a silence on the server (POST /v1/alerts/silences);
// req.Operator names who for the local token (c.Operator when ""). A bad
// request is an *Error naming the field; a server without silences, or
// one older than the route, answers an error that is
// errors.ErrUnsupported.
func (c *Client) SilenceAlerts(ctx context.Context, req engine.SilenceRequest) (watchdog.Silence, error) {
	body := SilenceRequest{Match: req.Match, Reason: req.Reason, Operator: cmpOr(req.Operator, c.Operator)}
	if req.For != 0 {
		body.For = req.For.String()
	}
	if !req.Until.IsZero() {
		body.Until = req.Until.Format(time.RFC3339Nano)
	}
	var s watchdog.Silence
	err := c.do(ctx, http.MethodPost, "/v1/alerts/silences", body, &s)
	return s, c.silenceError(err, false)
}

// EndSilence ends silence id on the server (POST
// /v1/alerts/silences/{id}/end). Errors unwrap to
// engine.ErrSilenceNotFound (an unknown ID), engine.ErrSilenceEnded, or
// errors.ErrUnsupported (a server without silences).
func (c *Client) EndSilence(ctx context.Context, id, operator, reason string) (watchdog.Silence, error) {
	var s watchdog.Silence
	err := c.do(ctx, http.MethodPost, "/v1/alerts/silences/"+url.PathEscape(strings.TrimSpace(id))+"/end",
		EndSilenceRequest{Reason: reason, Operator: cmpOr(operator, c.Operator)}, &s)
	return s, c.silenceError(err, true)
}

// Silences returns the server's active silences, or with all the newest
// 100 of every state (GET /v1/alerts/silences), newest first.
func (c *Client) Silences(ctx context.Context, all bool) ([]watchdog.Silence, error) {
	path := "/v1/alerts/silences"
	if all {
		path = withQuery(path, url.Values{"all": {"true"}})
	}
	var resp SilencesResponse
	if err := c.do(ctx, http.MethodGet, path, nil, &resp); err != nil {
		return nil, c.silenceError(err, false)
	}
	return resp.Silences, nil
}

// SilenceError is a silence route's error answer with the engine's
// sentinel it stands for (engine.ErrSilenceNotFound, where the answer's
// code, not_found, would stand for an intent's): errors.Is matches both.
type SilenceError struct {
	API      *Error
	Sentinel error
}

func (e *SilenceError) Error() string   { return e.API.Error() }
func (e *SilenceError) Unwrap() []error { return []error{e.API, e.Sentinel} }

// silenceError turns a silence route's answer back into the engine's
// error: on an end, a not_found naming the id is an unknown silence; any
// other 404 (no such route: an older server) and a 501 are
// errors.ErrUnsupported; silence_ended unwraps to engine.ErrSilenceEnded
// as it is (Error.Unwrap).
func (c *Client) silenceError(err error, byID bool) error {
	var e *Error
	if err == nil || !errors.As(err, &e) {
		return err
	}
	switch {
	case e.Code == CodeNotFound && byID && e.Field == "id":
		return &SilenceError{API: e, Sentinel: engine.ErrSilenceNotFound}
	case e.Status == http.StatusNotFound || e.Status == http.StatusNotImplemented:
		return fmt.Errorf("%w: the server at %s keeps no alert silences (%s)", errors.ErrUnsupported, c.BaseURL(), e.Message)
	}
	return err
}

func cmpOr(s, def string) string {
	if s != "" {
		return s
	}
	return def
}
