package notify

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// The request headers (besides Content-Type and User-Agent).
const (
	HeaderEvent     = "X-Grace-Event"
	HeaderDelivery  = "X-Grace-Delivery"
	HeaderTimestamp = "X-Grace-Timestamp"
	HeaderSignature = "X-Grace-Signature"
	// UserAgent is every request's User-Agent.
	UserAgent = "grace"
)

// outcome is what one attempt came to.
type outcome struct {
	ok     bool
	retry  bool          // worth another attempt
	wait   time.Duration // the receiver's Retry-After, when it gave one (-1: none)
	cause  string        // why it failed, for the log
	status int           // the receiver's HTTP status (0: no answer)
}

// deliver sends d, retrying with backoff, and counts the result. It
// returns false, counting nothing, when the notifier stopped before d was
// delivered or given up on.
func (h *hook) deliver(d delivery) bool {
	var waits []time.Duration
	for attempt := 1; ; attempt++ {
		o := h.attempt(d)
		switch {
		case o.ok:
			h.n.m.add(h.cfg.Name, d.kind, ResultDelivered, 1)
			h.standing.deliveredOne()
			h.n.acks.delivered(h, d) // an approval request acknowledged: not announced again at start
			h.n.log.Debug("notify: delivered", "webhook", h.cfg.Name, "kind", d.kind, "id", d.id, "attempts", attempt)
			return true
		case o.retry && h.stopping():
			return false
		case !o.retry || attempt >= h.n.opts.MaxAttempts:
			h.n.m.add(h.cfg.Name, d.kind, ResultFailed, 1)
			h.standing.failedOne(o.cause, h.n.clock.Now())
			h.n.log.Warn("notify: notification not delivered", "webhook", h.cfg.Name, "kind", d.kind, "id", d.id,
				"about", d.subject, "attempts", attempt, "cause", o.cause)
			h.n.rec.report(h.failure(d, o.cause, o.status, attempt, howRetried(attempt, waits, o.retry)))
			return true
		}
		wait := backoff(h.n.opts.BackoffBase, attempt, o.wait)
		waits = append(waits, wait)
		h.n.log.Debug("notify: attempt failed; retrying", "webhook", h.cfg.Name, "kind", d.kind, "id", d.id,
			"attempt", attempt, "cause", o.cause, "wait", wait)
		select {
		case <-h.n.clock.After(wait):
		case <-h.stop:
			return false
		}
	}
}

// howRetried says how a delivery that failed for good was tried: its
// attempts and the waits between them, or why it was not tried again.
func howRetried(attempts int, waits []time.Duration, retryable bool) string {
	if !retryable {
		return fmt.Sprintf("%d attempt(s), the last refused: an answer other than 2xx, 429 or 5xx is not retried", attempts)
	}
	parts := make([]string, len(waits))
	for i, w := range waits {
		parts[i] = w.String()
	}
	return fmt.Sprintf("%d attempts, waiting %s between them (exponential backoff, or the receiver's Retry-After up to %v)",
		attempts, strings.Join(parts, ", "), MaxRetryAfter)
}

// stopping reports whether the notifier is stopping.
func (h *hook) stopping() bool {
	select {
	case <-h.stop:
		return true
	default:
		return false
	}
}

// backoff is the wait after the attempt-th failed attempt: base doubled
// for each attempt before it, or the receiver's Retry-After (retryAfter
// ≥ 0) up to MaxRetryAfter.
func backoff(base time.Duration, attempt int, retryAfter time.Duration) time.Duration {
	if retryAfter >= 0 {
		return min(retryAfter, MaxRetryAfter)
	}
	return base << min(attempt-1, 10)
}

// attempt POSTs d once, signed with the attempt's timestamp when the
// webhook has a key, within its timeout.
func (h *hook) attempt(d delivery) outcome {
	ctx, cancel := context.WithTimeout(h.reqCtx, h.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.url, bytes.NewReader(d.body))
	if err != nil {
		return outcome{cause: "build request: " + requestCause(err, h.cfg.Timeout)} // without the URL
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", UserAgent)
	req.Header.Set(HeaderEvent, d.kind)
	req.Header.Set(HeaderDelivery, d.id)
	if h.secret != nil {
		ts := strconv.FormatInt(h.n.clock.Now().Unix(), 10)
		req.Header.Set(HeaderTimestamp, ts)
		req.Header.Set(HeaderSignature, Sign(h.secret, ts, d.body))
	}
	resp, err := h.n.opts.Client.Do(req)
	if err != nil {
		return outcome{retry: true, wait: -1, cause: requestCause(err, h.cfg.Timeout)}
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // lets the connection be reused
	resp.Body.Close()
	code := resp.StatusCode
	cause := fmt.Sprintf("the receiver answered %s", resp.Status)
	switch {
	case code >= 200 && code < 300:
		return outcome{ok: true}
	case code == http.StatusTooManyRequests || code >= 500:
		return outcome{retry: true, wait: retryAfter(resp.Header.Get("Retry-After"), h.n.clock.Now()), cause: cause, status: code}
	}
	return outcome{cause: cause + " (not retried)", status: code}
}

// Sign returns the X-Grace-Signature of body sent at timestamp (decimal
// Unix seconds, as X-Grace-Timestamp): "sha256=" and the hex
// HMAC-SHA256 of timestamp, ".", and body, under key.
func Sign(key []byte, timestamp string, body []byte) string {
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(timestamp))
	mac.Write([]byte{'.'})
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// requestCause says why a request failed without its URL (which may hold
// a secret).
func requestCause(err error, timeout time.Duration) string {
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Sprintf("no answer within %v (notify.webhooks[].timeout)", timeout)
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return err.Error()
}

// retryAfter reads a Retry-After header: seconds or an HTTP date. -1 when
// there is none or it does not parse; a time in the past is 0.
func retryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return -1
	}
	if s, err := strconv.Atoi(v); err == nil {
		if s < 0 {
			return -1
		}
		return time.Duration(min(s, 1<<20)) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0)
	}
	return -1
}
