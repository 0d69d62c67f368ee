package worker

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"grace/engine/intent"
)

const (
	// httpErrorSnippet is how much of a failed answer's body the error
	// quotes.
	httpErrorSnippet = 512
	// httpDrainLimit is how much of an answer's body is read, so that the
	// connection can be reused, before it is closed regardless.
	httpDrainLimit = 64 << 10
)

// httpHandler POSTs each intent to a webhook.
type httpHandler struct {
	url      string
	redacted string
	client   *http.Client
}

func newHTTPHandler(typ, raw string, client *http.Client) (*httpHandler, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, &ConfigError{Key: "handlers." + typ + ".url", Reason: fmt.Sprintf("cannot parse %q: %v", raw, err)}
	}
	return &httpHandler{url: raw, redacted: u.Redacted(), client: client}, nil
}

// Handle POSTs the intent as JSON (Content-Type application/json, with the
// intent ID as Idempotency-Key so a receiver can spot a retry) and reads at
// most 64 KiB of the answer. A 2xx answer is success. 408 and 429 and any
// 5xx answer, a transport error or the end of ctx are retryable errors;
// every other answer (4xx, or a 3xx that the client did not follow) is a
// Permanent error. Errors quote the status and the start of the body.
func (h *httpHandler) Handle(ctx context.Context, in intent.Intent) error {
	what := fmt.Sprintf("POST intent %s to %s", in.ID, h.redacted)
	body, err := json.Marshal(in)
	if err != nil {
		return Permanent(fmt.Errorf("%s: encode intent: %w", what, err))
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.url, bytes.NewReader(body))
	if err != nil {
		return Permanent(fmt.Errorf("%s: %w", what, err))
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "grace-worker")
	req.Header.Set("Idempotency-Key", in.ID)
	req.Header.Set("X-Grace-Intent-Id", in.ID)
	req.Header.Set("X-Grace-Intent-Type", in.Type)

	resp, err := h.client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("%s: %w", what, ctx.Err())
		}
		return fmt.Errorf("%s: %w", what, err)
	}
	defer resp.Body.Close()
	limited := io.LimitReader(resp.Body, httpDrainLimit)
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		_, _ = io.Copy(io.Discard, limited)
		return nil
	}
	snippet, _ := io.ReadAll(io.LimitReader(limited, httpErrorSnippet))
	_, _ = io.Copy(io.Discard, limited)
	err = fmt.Errorf("%s: %s", what, resp.Status)
	if s := strings.TrimSpace(strings.ToValidUTF8(string(snippet), "\uFFFD")); s != "" {
		err = fmt.Errorf("%w: %s", err, s)
	}
	switch {
	case resp.StatusCode >= 500, resp.StatusCode == http.StatusRequestTimeout, resp.StatusCode == http.StatusTooManyRequests:
		return err
	default:
		return Permanent(err)
	}
}
