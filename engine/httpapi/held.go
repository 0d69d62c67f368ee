package httpapi

import (
	"context"
	"net/http"
	"time"
)

// A held request (GET /v1/intents/{id}?wait=) outlives the moment its
// token was checked by up to MaxWait. Like an event stream, it must not
// outlive the token: when SetAccess removes it or gives it to another
// identity or role, or it expires, the wait ends at once and the request is
// answered 401 instead of with the intent (which the caller may no longer
// read), on the record.

// accessSignal returns a channel closed by the next SetAccess.
func (h *Handler) accessSignal() <-chan struct{} {
	h.accessMu.Lock()
	defer h.accessMu.Unlock()
	return h.accessChanged
}

// signalAccess wakes the held requests to check their token again.
func (h *Handler) signalAccess() {
	h.accessMu.Lock()
	defer h.accessMu.Unlock()
	close(h.accessChanged)
	h.accessChanged = make(chan struct{})
}

// holdFor is ctx for a request of p held up to wait: it ends when wait is
// up, the server closes (Close), or p's token stops granting p (SetAccess,
// its expiry). stop releases it; call it when the wait is over.
func (h *Handler) holdFor(ctx context.Context, p principal, wait time.Duration) (held context.Context, stop func()) {
	ctx, cancel := context.WithTimeout(ctx, wait)
	var expired <-chan time.Time
	if left := p.expires.Sub(h.clock.Now()); !p.expires.IsZero() && left < wait {
		expired = h.clock.After(left)
	}
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		for {
			changed := h.accessSignal() // before the check: a change between the two is not missed
			if h.revoked(p) != nil {
				cancel()
				return
			}
			select {
			case <-h.closed: // a server shutting down answers held requests at once
				cancel()
				return
			case <-expired:
				cancel()
				return
			case <-changed:
			case <-ctx.Done():
				return
			}
		}
	}()
	return ctx, func() {
		cancel()
		<-finished
	}
}

// revoked is the answer to a request of p, once held, when p's token no
// longer grants p at the clock's now: 401 token_expired when it has
// expired, 401 unauthorized when the identities no longer give it to p
// with p's role; nil while it does.
func (h *Handler) revoked(p principal) *apiError {
	q, ok := h.keys.Load().byHash[p.hash]
	switch {
	case !ok || q.name != p.name || q.role != p.role:
		return newError(http.StatusUnauthorized, CodeUnauthorized, "",
			"the token of %s (%s) was withdrawn while the request waited: the identities were reloaded", clipText(p.name, 64), p.role)
	case q.expiredAt(h.clock.Now()):
		at := q.expires.UTC().Format(time.RFC3339)
		e := newError(http.StatusUnauthorized, CodeTokenExpired, "",
			"token of %s expired at %s, while the request waited; issue a new one with grace token new", clipText(p.name, 64), at)
		e.details = map[string]any{"expired_at": at}
		return e
	}
	return nil
}
