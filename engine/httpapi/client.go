package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"grace/engine"
	"grace/engine/clarity"
	"grace/engine/intent"
)

// Client calls a Grace HTTP API. Its methods mirror engine.OperatorAPI and
// return the engine's errors: errors.Is(err, engine.ErrNotFound) and
// errors.As(err, **engine.ValidationError) work as against a local engine.
// Transport errors (connection refused, timeouts) are returned wrapped, so
// callers can tell "no server" from "the server said no". It implements
// every method of engine.OperatorAPI but Snapshot, which it has with a
// context and an error; Remote adds the interface's Snapshot. It also
// implements engine.ChaosAPI (client_chaos.go).
type Client struct {
	base  string
	token string
	hc    *http.Client
	// Operator, when set, is sent as X-Grace-Operator with every request.
	// Only a server without identities (the local token) reads it.
	Operator string
}

// NewClient returns a client for the API at baseURL (for example
// "http://127.0.0.1:7420") sending token as the bearer token. A nil
// httpClient means one with a 30 s timeout.
func NewClient(baseURL, token string, httpClient *http.Client) *Client {
	if httpClient == nil {
		httpClient = &http.Client{Timeout: 30 * time.Second}
	}
	return &Client{base: strings.TrimRight(baseURL, "/"), token: token, hc: httpClient}
}

// BaseURL returns the server's address as given.
func (c *Client) BaseURL() string { return c.base }

// Submit sends sub. The returned intent holds what the server answers (ID,
// state, decision and tier) plus the submitted fields; Existing is set when
// the idempotency key named an earlier intent submitted the same way. A key
// that holds a different submission is refused (409 idempotency_conflict)
// with an error that matches engine.ErrIdempotencyConflict with errors.Is
// and *Error with errors.As; its message names the holder and the fields
// that differ.
func (c *Client) Submit(ctx context.Context, sub intent.Submission) (engine.SubmitResult, error) {
	var resp SubmitResponse
	if err := c.do(ctx, http.MethodPost, "/v1/intents", submitRequestFrom(sub), &resp); err != nil {
		var ae *Error
		if errors.As(err, &ae) && ae.Code == CodeIdempotencyConflict {
			return engine.SubmitResult{}, &conflictError{ae}
		}
		return engine.SubmitResult{}, err
	}
	in := intent.Intent{
		ID: resp.ID, Type: sub.Type, Actor: sub.Actor, Payload: sub.Payload, Context: sub.Context,
		Priority: sub.Priority, IdempotencyKey: sub.IdempotencyKey, State: resp.State,
		Tier: resp.Decision.AutonomyTier, Decision: resp.Decision,
	}
	return engine.SubmitResult{Intent: in, Existing: resp.Existing}, nil
}

// SubmitBatch submits subs in one request (POST /v1/intents/batch; at most
// MaxBatch) and returns one result per submission, in order. An error
// means the batch as a whole was refused (nothing stored) or did not
// reach the server; a result's Error says one submission was refused.
func (c *Client) SubmitBatch(ctx context.Context, subs []intent.Submission) ([]BatchResult, error) {
	req, err := batchRequest(subs, false)
	if err != nil {
		return nil, err
	}
	var resp BatchResponse
	if err := c.do(ctx, http.MethodPost, "/v1/intents/batch", req, &resp); err != nil {
		return nil, err
	}
	if len(resp.Results) != len(subs) {
		return nil, fmt.Errorf("submit batch: %d results for %d submissions", len(resp.Results), len(subs))
	}
	return resp.Results, nil
}

var _ engine.AtomicSubmitter = (*Client)(nil)

// SubmitAtomic submits subs all or none (POST /v1/intents/batch with
// "atomic": true). A batch refused whole is an *engine.BatchRefusedError
// whose items carry the server's answer for each refused submission (so
// errors.Is finds engine.ErrRateLimited, errors.As an
// *engine.ValidationError); the *Error with every result is wrapped too.
func (c *Client) SubmitAtomic(ctx context.Context, subs []intent.Submission) ([]engine.SubmitResult, error) {
	req, err := batchRequest(subs, true)
	if err != nil {
		return nil, err
	}
	var resp BatchResponse
	if err := c.do(ctx, http.MethodPost, "/v1/intents/batch", req, &resp); err != nil {
		var ae *Error
		if errors.As(err, &ae) && ae.Code == CodeBatchRefused && len(ae.Results) == len(subs) {
			br := &engine.BatchRefusedError{Size: len(subs)}
			for i, r := range ae.Results {
				if r.Error != nil && r.Error.Code != CodeNotStored {
					br.Items = append(br.Items, engine.BatchItemError{Index: i,
						Err: toClientError(r.Status, ErrorResponse{Error: *r.Error, Problems: r.Problems})})
				}
			}
			if len(br.Items) > 0 {
				return nil, &refusedBatch{br: br, answer: ae}
			}
		}
		return nil, err
	}
	if len(resp.Results) != len(subs) {
		return nil, fmt.Errorf("submit batch: %d results for %d submissions", len(resp.Results), len(subs))
	}
	out := make([]engine.SubmitResult, len(subs))
	for i, r := range resp.Results {
		in := intent.Intent{ID: r.ID, Type: subs[i].Type, Actor: subs[i].Actor, Payload: subs[i].Payload, Context: subs[i].Context,
			Priority: subs[i].Priority, IdempotencyKey: subs[i].IdempotencyKey, State: r.State}
		if r.Decision != nil {
			in.Decision, in.Tier = *r.Decision, r.Decision.AutonomyTier
		}
		out[i] = engine.SubmitResult{Intent: in, Existing: r.Existing}
	}
	return out, nil
}

// refusedBatch is an atomic batch the server refused whole: the engine's
// error, rebuilt from the answer, and the answer itself.
type refusedBatch struct {
	br     *engine.BatchRefusedError
	answer *Error
}

func (e *refusedBatch) Error() string   { return e.answer.Error() }
func (e *refusedBatch) Unwrap() []error { return []error{e.br, e.answer} }

// batchRequest is the body of POST /v1/intents/batch for subs.
func batchRequest(subs []intent.Submission, atomic bool) (BatchRequest, error) {
	req := BatchRequest{Intents: make([]json.RawMessage, len(subs)), Atomic: atomic}
	for i, sub := range subs {
		raw, err := json.Marshal(submitRequestFrom(sub))
		if err != nil {
			return req, fmt.Errorf("submission %d: %w", i, err)
		}
		req.Intents[i] = raw
	}
	return req, nil
}

// conflictError is a 409 idempotency_conflict answer: the server's *Error,
// which is also engine.ErrIdempotencyConflict.
type conflictError struct{ answer *Error }

// Error returns the server's message.
func (e *conflictError) Error() string { return e.answer.Error() }

// Unwrap returns the answer and engine.ErrIdempotencyConflict.
func (e *conflictError) Unwrap() []error { return []error{e.answer, engine.ErrIdempotencyConflict} }

// Get returns one intent.
func (c *Client) Get(ctx context.Context, id string) (intent.Intent, error) {
	var in intent.Intent
	err := c.do(ctx, http.MethodGet, "/v1/intents/"+url.PathEscape(id), nil, &in)
	return in, err
}

// waitChunk is the longest one WaitFinished request asks the server to
// hold: under the 30 s a client's own timeout commonly allows.
const waitChunk = 25 * time.Second

// WaitFinished returns intent id once it is in a terminal state, asking
// the server to hold each request (GET /v1/intents/{id}?wait=) until the
// intent finishes, in chunks of at most 25 s, until ctx ends; then it
// returns the intent as it stands. A server too old to wait answers at
// once, and the chunks become polls a second apart.
func (c *Client) WaitFinished(ctx context.Context, id string) (intent.Intent, error) {
	path := "/v1/intents/" + url.PathEscape(id)
	for {
		chunk := waitChunk
		if dl, ok := ctx.Deadline(); ok {
			chunk = min(chunk, time.Until(dl))
		}
		if chunk < time.Millisecond {
			return c.Get(context.WithoutCancel(ctx), id)
		}
		asked := time.Now()
		var in intent.Intent
		if err := c.do(ctx, http.MethodGet, withQuery(path, url.Values{"wait": {chunk.Round(time.Millisecond).String()}}), nil, &in); err != nil {
			if ctx.Err() != nil {
				return c.Get(context.WithoutCancel(ctx), id)
			}
			return in, err
		}
		if in.State.Terminal() {
			return in, nil
		}
		if early := time.Second - time.Since(asked); early > 0 { // answered without holding
			t := time.NewTimer(early)
			select {
			case <-ctx.Done():
				t.Stop()
				return in, nil
			case <-t.C:
			}
		}
	}
}

// List returns the intents matching f, newest first, at most f.Limit (the
// server's default when 0). An agent's token lists only its own.
func (c *Client) List(ctx context.Context, f intent.Filter) ([]intent.Intent, error) {
	q := url.Values{}
	set := func(k, s string) {
		if s != "" {
			q.Set(k, s)
		}
	}
	set("state", string(f.State))
	set("actor", f.Actor)
	set("type", f.Type)
	set("before", f.Before)
	if f.HasTier {
		q.Set("tier", strconv.Itoa(f.Tier))
	}
	if f.Unreviewed {
		q.Set("unreviewed", "true")
	}
	if f.Unretried {
		q.Set("unretried", "true")
	}
	if !f.Since.IsZero() {
		q.Set("since", f.Since.UTC().Format(time.RFC3339Nano))
	}
	if f.Limit > 0 {
		q.Set("limit", strconv.Itoa(min(f.Limit, maxListLimit)))
	}
	var resp IntentsResponse
	err := c.do(ctx, http.MethodGet, withQuery("/v1/intents", q), nil, &resp)
	return resp.Intents, err
}

// Pending returns the intents waiting for a human, oldest first (at most
// the server's list limit of 1000).
func (c *Client) Pending(ctx context.Context) ([]intent.Intent, error) {
	list, err := c.List(ctx, intent.Filter{State: intent.StatePendingApproval, Limit: maxListLimit})
	if err != nil {
		return nil, err
	}
	slices.Reverse(list)
	return list, nil
}

// Route returns the governance decision for sub; nothing is stored.
func (c *Client) Route(ctx context.Context, sub intent.Submission) (intent.Decision, error) {
	var d intent.Decision
	err := c.do(ctx, http.MethodPost, "/v1/intents/route", submitRequestFrom(sub), &d)
	return d, err
}

// Review marks a finished Tier 1 intent reviewed, or flags it with a note.
func (c *Client) Review(ctx context.Context, id, operator, note string, flag bool) (intent.Intent, error) {
	if operator == "" {
		operator = c.Operator
	}
	var in intent.Intent
	err := c.do(ctx, http.MethodPost, "/v1/intents/"+url.PathEscape(id)+"/review",
		ReviewRequest{Note: note, Flag: flag, Operator: operator}, &in)
	return in, err
}

// VerifyAudit asks the server to verify its audit chain.
func (c *Client) VerifyAudit(ctx context.Context) (engine.AuditReport, error) {
	var rep engine.AuditReport
	err := c.do(ctx, http.MethodGet, "/v1/audit/verify", nil, &rep)
	return rep, err
}

// WhoAmI returns the identity the server knows the client's token by.
func (c *Client) WhoAmI(ctx context.Context) (WhoAmIResponse, error) {
	var who WhoAmIResponse
	err := c.do(ctx, http.MethodGet, "/v1/whoami", nil, &who)
	return who, err
}

// Cancel withdraws an intent that has not run (POST
// /v1/intents/{id}/cancel); by names the canceller for the local token, as
// operator does for Approve.
func (c *Client) Cancel(ctx context.Context, id, by, reason string) (intent.Intent, error) {
	return c.decide(ctx, "cancel", id, by, reason)
}

var _ engine.Retrier = (*Client)(nil)

// Retry submits the failed intent id again as a new intent (POST
// /v1/intents/{id}/retry); by names who asks for the local token, as
// operator does for Approve. The server records a configured identity as
// itself.
func (c *Client) Retry(ctx context.Context, id, by, reason string) (engine.SubmitResult, error) {
	if by == "" {
		by = c.Operator
	}
	var resp SubmitResponse
	if err := c.do(ctx, http.MethodPost, "/v1/intents/"+url.PathEscape(id)+"/retry", DecisionRequest{Operator: by, Reason: reason}, &resp); err != nil {
		return engine.SubmitResult{}, err
	}
	return engine.SubmitResult{Intent: intent.Intent{ID: resp.ID, State: resp.State, Decision: resp.Decision, Tier: resp.Decision.AutonomyTier}, Existing: resp.Existing}, nil
}

// Approve approves a pending intent as operator (Client.Operator when
// operator is empty). A server with identities records the token's
// identity instead.
func (c *Client) Approve(ctx context.Context, id, operator, reason string) (intent.Intent, error) {
	return c.decide(ctx, "approve", id, operator, reason)
}

// Deny denies a pending intent; the server refuses an empty reason with
// engine.ErrReasonRequired.
func (c *Client) Deny(ctx context.Context, id, operator, reason string) (intent.Intent, error) {
	return c.decide(ctx, "deny", id, operator, reason)
}

func (c *Client) decide(ctx context.Context, verb, id, operator, reason string) (intent.Intent, error) {
	if operator == "" {
		operator = c.Operator
	}
	var in intent.Intent
	err := c.do(ctx, http.MethodPost, "/v1/intents/"+url.PathEscape(id)+"/"+verb,
		DecisionRequest{Reason: reason, Operator: operator}, &in)
	return in, err
}

// Search returns narratives matching q, newest first.
func (c *Client) Search(ctx context.Context, q clarity.Query) ([]clarity.Entry, error) {
	p, err := c.SearchPage(ctx, q)
	return p.Entries, err
}

// SearchPage is Search, with where a page that stopped early at the
// server's read budget stopped (resume_before).
func (c *Client) SearchPage(ctx context.Context, q clarity.Query) (clarity.Page, error) {
	v := url.Values{}
	set := func(k, s string) {
		if s != "" {
			v.Set(k, s)
		}
	}
	set("q", q.Text)
	set("actor", q.Actor)
	set("action", q.Action)
	set("intent", q.IntentID)
	if !q.Since.IsZero() {
		v.Set("since", q.Since.UTC().Format(time.RFC3339Nano))
	}
	if !q.Until.IsZero() {
		v.Set("until", q.Until.UTC().Format(time.RFC3339Nano))
	}
	if q.BeforeID > 0 {
		v.Set("before", strconv.FormatInt(q.BeforeID, 10))
	}
	if q.AfterID > 0 {
		v.Set("after", strconv.FormatInt(q.AfterID, 10))
	}
	if q.Limit > 0 {
		v.Set("limit", strconv.Itoa(min(q.Limit, maxNarratives)))
	}
	var resp NarrativesResponse
	err := c.do(ctx, http.MethodGet, withQuery("/v1/narratives", v), nil, &resp)
	return clarity.Page{Entries: resp.Narratives, ResumeBefore: resp.ResumeBefore}, err
}

// Snapshot returns the engine's live figures (GET /v1/telemetry).
func (c *Client) Snapshot(ctx context.Context) (engine.Snapshot, error) {
	var s engine.Snapshot
	err := c.do(ctx, http.MethodGet, "/v1/telemetry", nil, &s)
	return s, err
}

// Ready asks /readyz. A server that answers, ready or not, returns a nil
// error; only a failure to get an answer is an error.
func (c *Client) Ready(ctx context.Context) (ReadyResponse, error) {
	var r ReadyResponse
	err := c.do(ctx, http.MethodGet, "/readyz", nil, &r)
	var ae *Error
	if err != nil && errors.As(err, &ae) && ae.Status == http.StatusServiceUnavailable {
		return r, nil
	}
	return r, err
}

// maxResponseBytes bounds what the client reads from one answer.
const maxResponseBytes = 64 << 20

// do sends one request and decodes a 2xx answer into out, or an error
// answer into an error.
func (c *Client) do(ctx context.Context, method, path string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return fmt.Errorf("%s %s: encode request: %w", method, path, err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	c.authorize(req)
	switch b := body.(type) {
	case DecisionRequest:
		if b.Operator != "" {
			req.Header.Set(OperatorHeader, b.Operator)
		}
	case ReviewRequest:
		if b.Operator != "" {
			req.Header.Set(OperatorHeader, b.Operator)
		}
	case operatorBody:
		if b.operator != "" {
			req.Header.Set(OperatorHeader, b.operator)
		}
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		// The *url.Error would repeat the method and URL this names.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return fmt.Errorf("%s %s%s: %w", method, c.base, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes))
	if err != nil {
		return fmt.Errorf("%s %s%s: read answer: %w", method, c.base, path, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		var eb ErrorResponse
		if json.Unmarshal(data, &eb) != nil || eb.Error.Code == "" {
			// Not an answer in the API's error shape: a proxy, or not a
			// grace serve at all.
			eb.Error = ErrorBody{Code: CodeInternal, Message: fmt.Sprintf("%s %s%s: %s, not a Grace API answer (is %s a grace serve?)",
				method, c.base, path, resp.Status, c.base)}
		}
		// /readyz answers 503 with a readiness body, not an error body.
		if out != nil && path == "/readyz" {
			_ = json.Unmarshal(data, out)
		}
		return toClientError(resp.StatusCode, eb)
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("%s %s%s: decode answer (is %s a grace serve?): %w", method, c.base, path, c.base, err)
	}
	return nil
}

// authorize sets the bearer token and the operator header.
func (c *Client) authorize(req *http.Request) {
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	if c.Operator != "" {
		req.Header.Set(OperatorHeader, c.Operator)
	}
}

func withQuery(path string, q url.Values) string {
	if len(q) == 0 {
		return path
	}
	return path + "?" + q.Encode()
}
