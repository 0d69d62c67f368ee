package httpapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"grace/engine/watchdog"
)

// AlertSource is the part of the engine's watchdog API that GET /v1/alerts
// reads: the alerts firing, or the alert history (engine.HealthAPI has
// it). A remote engine offers it through Client.Alerts.
type AlertSource interface {
	Alerts(ctx context.Context, firing bool) ([]watchdog.Alert, error)
}

// AlertsResponse is the answer to GET /v1/alerts, newest first.
type AlertsResponse struct {
	Alerts []watchdog.Alert `json:"alerts"`
}

// alerts handles GET /v1/alerts?firing=: the watchdog's alerts firing now
// (firing=true), or its history, resolved alerts with their resolution
// included (the newest 100), as the console's Alerts screen shows them.
func (h *Handler) alerts(w http.ResponseWriter, r *http.Request) error {
	src, ok := h.api.(AlertSource)
	if !ok {
		return newError(http.StatusNotImplemented, CodeNotImplemented, "", "this server keeps no alerts")
	}
	var firing bool
	if s := r.URL.Query().Get("firing"); s != "" {
		b, err := strconv.ParseBool(s)
		if err != nil {
			return newError(http.StatusBadRequest, CodeBadQuery, "firing", "firing must be true or false, got %q", clipText(s, 32))
		}
		firing = b
	}
	als, err := src.Alerts(r.Context(), firing)
	if err != nil {
		return err
	}
	if als == nil {
		als = []watchdog.Alert{}
	}
	writeJSON(w, http.StatusOK, AlertsResponse{Alerts: als})
	return nil
}

// Alerts returns the server's alerts firing now (firing), or its alert
// history, newest first (GET /v1/alerts). A server that keeps no alerts,
// or one older than the route, answers an error that is
// errors.ErrUnsupported.
func (c *Client) Alerts(ctx context.Context, firing bool) ([]watchdog.Alert, error) {
	path := "/v1/alerts"
	if firing {
		path = withQuery(path, url.Values{"firing": {"true"}})
	}
	var resp AlertsResponse
	err := c.do(ctx, http.MethodGet, path, nil, &resp)
	if e := (*Error)(nil); errors.As(err, &e) && (e.Status == http.StatusNotFound || e.Status == http.StatusNotImplemented) {
		return nil, fmt.Errorf("%w: the server at %s offers no alert history (%s)", errors.ErrUnsupported, c.BaseURL(), e.Message)
	}
	return resp.Alerts, err
}
