package httpapi

import (
	"context"
	"net/http"
	"net/url"
	"strconv"

	"grace/engine"
)

// The Client's engine.ChaosAPI methods. Their errors are the chaos
// service's: errors.Is(err, engine.ErrChaosBusy), engine.ErrChaosRunNotFound
// and engine.ErrChaosUnavailable (a server without a chaos service, or
// from before the chaos routes), and errors.As(err,
// **engine.ChaosRequestError) for a refused request.

var _ engine.ChaosAPI = (*Client)(nil)

// ChaosScenarios lists the server's scenario library with each scenario's
// standing.
func (c *Client) ChaosScenarios(ctx context.Context) ([]engine.ChaosScenario, error) {
	var resp ChaosScenariosResponse
	err := c.do(ctx, http.MethodGet, "/v1/chaos/scenarios", nil, &resp)
	return resp.Scenarios, chaosClientError(err, nil)
}

// StartChaos starts a run on the server and returns it in state running.
// The server records the run as triggered by an operator: the token's
// identity, or for the local token req.Operator (else Client.Operator),
// sent in the X-Grace-Operator header; req.Trigger is not sent.
func (c *Client) StartChaos(ctx context.Context, req engine.ChaosRequest) (engine.ChaosRun, error) {
	if req.Operator == "" {
		req.Operator = c.Operator
	}
	var run engine.ChaosRun
	err := c.do(ctx, http.MethodPost, "/v1/chaos/runs", operatorBody{chaosRunRequestFrom(req), req.Operator}, &run)
	return run, chaosClientError(err, nil)
}

// ChaosRun returns one run, with its live progress while it runs;
// engine.ErrChaosRunNotFound when the server has no such run.
func (c *Client) ChaosRun(ctx context.Context, id string) (engine.ChaosRun, error) {
	var run engine.ChaosRun
	err := c.do(ctx, http.MethodGet, "/v1/chaos/runs/"+url.PathEscape(id), nil, &run)
	return run, chaosClientError(err, engine.ErrChaosRunNotFound)
}

// ChaosHistory returns the server's stored runs, newest first, at most
// limit (0: the server's default of 50; at most 1000).
func (c *Client) ChaosHistory(ctx context.Context, limit int) ([]engine.ChaosRun, error) {
	q := url.Values{}
	if limit > 0 {
		q.Set("limit", strconv.Itoa(min(limit, maxChaosHistory)))
	}
	var resp ChaosRunsResponse
	err := c.do(ctx, http.MethodGet, withQuery("/v1/chaos/runs", q), nil, &resp)
	return resp.Runs, chaosClientError(err, nil)
}

// HaltChaos halts every run in progress on the server. operator is read
// as in StartChaos (Client.Operator when empty).
func (c *Client) HaltChaos(ctx context.Context, operator, reason string) (engine.ChaosHaltResult, error) {
	if operator == "" {
		operator = c.Operator
	}
	var res engine.ChaosHaltResult
	err := c.do(ctx, http.MethodPost, "/v1/chaos/halt", operatorBody{ChaosHaltRequest{Reason: reason}, operator}, &res)
	return res, chaosClientError(err, nil)
}

// ChaosStatus returns the server's resilience score, loop state, run in
// progress, findings and knowledge.
func (c *Client) ChaosStatus(ctx context.Context) (engine.ChaosStatus, error) {
	var st engine.ChaosStatus
	err := c.do(ctx, http.MethodGet, "/v1/chaos/status", nil, &st)
	return st, chaosClientError(err, nil)
}
