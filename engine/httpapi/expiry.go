package httpapi

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// ExpiryWarning is how far ahead NewHandler warns (in its log) of an
// identity's token expiring.
const ExpiryWarning = 7 * 24 * time.Hour

// eventsRoute is the event stream, which an expiring identity may hold
// open across its expiry: it is ended at that instant.
const eventsRoute = "GET /v1/events"

// checkExpiry runs before routing when some identity has an expiry.
// pattern is the mux's pattern for r ("" for no route). A request whose
// token has expired at the clock's now is answered 401 token_expired, on
// the record with the identity's name, and ok is false. Otherwise r comes
// back with that instant pinned (so later checks of the same request
// agree) and, for the event stream of an identity that will expire, with a
// context that ends at the expiry; done must be called when r is served.
func (h *Handler) checkExpiry(w http.ResponseWriter, r *http.Request, pattern string) (_ *http.Request, done func(), ok bool) {
	done = func() {}
	if cleanPath(r.URL.Path) != r.URL.Path {
		pattern = "" // answered 404 as sent, never routed
	}
	if publicPaths[r.URL.Path] { // canonical: those keys are
		return r, done, true
	}
	p, known := h.keys.Load().identify(r)
	if !known || p.expires.IsZero() {
		return r, done, true
	}
	now := h.clock.Now()
	if p.expiredAt(now) {
		r = r.WithContext(withPrincipal(r.Context(), p))
		if id := pathID(pattern, r.URL.Path); id != "" {
			r.SetPathValue("id", id) // not routed yet: the record names the intent all the same
		}
		h.tokenExpired(w, r, p, pattern)
		return r, done, false
	}
	ctx := withRequestTime(r.Context(), now)
	if pattern == eventsRoute {
		ctx, done = h.endAt(ctx, p, p.expires.Sub(now))
	}
	return r.WithContext(ctx), done, true
}

// pathID is the {id} segment of path under the mux pattern ("POST
// /v1/intents/{id}/approve"), or "" when the pattern has none.
func pathID(pattern, path string) string {
	_, pat, _ := strings.Cut(pattern, " ")
	ps, segs := strings.Split(pat, "/"), strings.Split(path, "/")
	if len(ps) != len(segs) {
		return ""
	}
	for i, s := range ps {
		if s == "{id}" {
			return segs[i]
		}
	}
	return ""
}

// tokenExpired answers 401 token_expired for p and records the refusal
// with p as who. action is the route's pattern, or "" for the method and
// path as sent.
func (h *Handler) tokenExpired(w http.ResponseWriter, r *http.Request, p principal, action string) {
	at := p.expires.UTC().Format(time.RFC3339)
	w.Header().Set("WWW-Authenticate",
		fmt.Sprintf(`Bearer realm="grace", error="invalid_token", error_description="the token of %s expired at %s"`, quotable(p.name), at))
	e := newError(http.StatusUnauthorized, CodeTokenExpired, "",
		"token of %s expired at %s; issue a new one with grace token new", p.name, at)
	e.details = map[string]any{"expired_at": at}
	h.refuse(w, r, e, action)
}

// endAt returns ctx ended once the handler's clock has moved on by d (the
// time left on p's token), so that an event stream does not outlive the
// token. stop ends the watch and waits for it; call it when the request is
// served.
func (h *Handler) endAt(ctx context.Context, p principal, d time.Duration) (context.Context, func()) {
	ctx, cancel := context.WithCancel(ctx)
	fire := h.clock.After(d)
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		select {
		case <-fire:
			h.log.Info("event stream ended: the token expired", "identity", p.name,
				"expired_at", p.expires.UTC().Format(time.RFC3339))
			cancel()
		case <-ctx.Done():
		}
	}()
	return ctx, func() {
		cancel()
		<-finished
	}
}

// warnExpiries logs a warning for each identity whose token has expired
// (its requests will be refused) or expires within ExpiryWarning.
func (h *Handler) warnExpiries(ids []Identity) {
	now := h.clock.Now()
	for _, id := range ids {
		if id.Expires.IsZero() {
			continue
		}
		at := id.Expires.UTC().Format(time.RFC3339)
		switch left := id.Expires.Sub(now); {
		case left <= 0:
			h.log.Warn("identity's token has expired: its requests are refused (401 token_expired) until it has a new token",
				"identity", id.Name, "expired_at", at)
		case left <= ExpiryWarning:
			h.log.Warn("identity's token expires soon: issue a new one with grace token new",
				"identity", id.Name, "expires_at", at, "left", left.Round(time.Minute).String())
		}
	}
}

// expirySummary sums up the identities' token expiries at now, for the
// checks of /readyz: how many have expired (their requests are refused)
// and how many expire within ExpiryWarning, with the soonest instant. It
// names no identity (the route needs no token; the log names them). It is
// "" when no identity has an expiry; an expiry does not make the server
// unready.
func (k *keyring) expirySummary(now time.Time) string {
	var expired, soon, later int
	var soonest time.Time
	for _, id := range k.ids {
		switch e := id.Expires; {
		case e.IsZero():
			continue
		case !e.After(now):
			expired++
			continue
		case e.Sub(now) <= ExpiryWarning:
			soon++
		default:
			later++
		}
		if soonest.IsZero() || id.Expires.Before(soonest) {
			soonest = id.Expires
		}
	}
	if expired+soon+later == 0 {
		return ""
	}
	var parts []string
	if expired > 0 {
		parts = append(parts, fmt.Sprintf("%d expired (refused until given a new token)", expired))
	}
	if soon > 0 {
		parts = append(parts, fmt.Sprintf("%d expiring within %s", soon, leftText(ExpiryWarning)))
	}
	head := "ok"
	if len(parts) > 0 {
		head = "warn: " + strings.Join(parts, ", ")
	}
	s := fmt.Sprintf("%s; %d of %d identities have an expiry", head, expired+soon+later, len(k.ids))
	if !soonest.IsZero() {
		s += fmt.Sprintf(", the next in %s (%s)", leftText(soonest.Sub(now)), soonest.UTC().Format(time.RFC3339))
	}
	return s + "; names in the server log"
}

// leftText is a time left in days and hours, or hours and minutes when
// under two days.
func leftText(d time.Duration) string {
	switch {
	case d >= 48*time.Hour:
		days, hours := int(d/(24*time.Hour)), int(d%(24*time.Hour)/time.Hour)
		if hours == 0 {
			return fmt.Sprintf("%dd", days)
		}
		return fmt.Sprintf("%dd%dh", days, hours)
	case d >= time.Minute:
		return strings.TrimSuffix(d.Truncate(time.Minute).String(), "0s")
	}
	return d.Truncate(time.Second).String()
}

// quotable is s fit for a quoted header parameter (RFC 6750's
// error_description: printable ASCII but the double quote and the backslash); anything else
// becomes '_'. Configured names already are; Options.Identities may not be.
func quotable(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r > 0x7e || r == '"' || r == '\\' {
			return '_'
		}
		return r
	}, s)
}
