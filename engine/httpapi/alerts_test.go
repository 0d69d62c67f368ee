package httpapi

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"grace/engine/watchdog"
)

var _ AlertSource = (*Remote)(nil) // the attached console's Alerts screen reads it

// alertingFake is the fake engine with a watchdog's alerts: one firing,
// one resolved.
type alertingFake struct {
	*fakeAPI
	alerts []watchdog.Alert
}

func (f alertingFake) Alerts(_ context.Context, firing bool) ([]watchdog.Alert, error) {
	var out []watchdog.Alert
	for _, a := range f.alerts {
		if !firing || a.Firing() {
			out = append(out, a)
		}
	}
	return out, nil
}

// TestAlertsRoute: GET /v1/alerts gives readers the alert history (the
// resolved with their resolution) or, with firing=true, the alerts firing;
// an agent is refused; a bad firing is a 400 naming it; and a remote
// engine (the attached console's) reads both through Client.Alerts. A
// server that keeps no alerts answers 501, which the client reports as
// errors.ErrUnsupported, as it does a server without the route.
func TestAlertsRoute(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 11, 29, 10, 0, 0, 0, time.UTC)
	fake := alertingFake{fakeAPI: newFake(), alerts: []watchdog.Alert{
		{ID: "alr_2", Key: "htm/queue_depth", Component: "htm", Condition: "queue_depth", Severity: watchdog.Warn, Peak: watchdog.Warn,
			Summary: "depth 1,200 over 1,000", FirstSeen: t0.Add(time.Minute), LastSeen: t0.Add(2 * time.Minute), Count: 3},
		{ID: "alr_1", Key: "store/commit_latency", Component: "store", Condition: "commit_latency", Severity: watchdog.Critical, Peak: watchdog.Critical,
			Summary: "p99 80ms", FirstSeen: t0, LastSeen: t0.Add(30 * time.Second), Count: 2, ResolvedAt: t0.Add(40 * time.Second), Resolution: "recovered"},
	}}
	h := NewHandler(fake, Options{Identities: testIdentities(), Token: testToken})
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	t.Cleanup(h.Close)
	b := &idBundle{testBundle: &testBundle{api: fake.fakeAPI, srv: srv}}

	var all AlertsResponse
	a := b.as(t, viewerToken, "GET", "/v1/alerts", "")
	a.decode(t, &all)
	if a.status != http.StatusOK || len(all.Alerts) != 2 || all.Alerts[1].Resolution != "recovered" {
		t.Fatalf("viewer GET /v1/alerts: %d %s; want both, the resolved one with its resolution", a.status, a.body)
	}
	var firing AlertsResponse
	a = b.as(t, aliceToken, "GET", "/v1/alerts?firing=true", "")
	a.decode(t, &firing)
	if a.status != http.StatusOK || len(firing.Alerts) != 1 || firing.Alerts[0].ID != "alr_2" {
		t.Fatalf("operator GET /v1/alerts?firing=true: %d %s; want alr_2 alone", a.status, a.body)
	}
	if a := b.as(t, agentToken, "GET", "/v1/alerts", ""); a.status != http.StatusForbidden {
		t.Errorf("agent GET /v1/alerts: %d %s; want 403", a.status, a.body)
	}
	if a := b.as(t, viewerToken, "GET", "/v1/alerts?firing=maybe", ""); a.status != http.StatusBadRequest || !strings.Contains(string(a.body), `"field":"firing"`) {
		t.Errorf("firing=maybe: %d %s; want 400 naming firing", a.status, a.body)
	}
	r := NewRemote(NewClient(srv.URL, viewerToken, nil))
	if got, err := r.Alerts(t.Context(), false); err != nil || len(got) != 2 || !got[1].ResolvedAt.Equal(t0.Add(40*time.Second)) {
		t.Errorf("Remote.Alerts(history) = %+v, %v; want both, alr_1 resolved at %v", got, err, t0.Add(40*time.Second))
	}
	if got, err := r.Alerts(t.Context(), true); err != nil || len(got) != 1 {
		t.Errorf("Remote.Alerts(firing) = %+v, %v; want alr_2", got, err)
	}

	plain := setup(t, Options{}) // the fake without a watchdog
	if a := plain.call(t, "GET", "/v1/alerts", ""); a.status != http.StatusNotImplemented {
		t.Errorf("GET /v1/alerts of a server without alerts: %d %s; want 501", a.status, a.body)
	}
	if _, err := NewClient(plain.srv.URL, testToken, nil).Alerts(t.Context(), false); !errors.Is(err, errors.ErrUnsupported) {
		t.Errorf("client of a server without alerts: %v; want errors.ErrUnsupported", err)
	}
	old := httptest.NewServer(http.NotFoundHandler()) // a server older than the route
	t.Cleanup(old.Close)
	if _, err := NewClient(old.URL, testToken, nil).Alerts(t.Context(), false); !errors.Is(err, errors.ErrUnsupported) {
		t.Errorf("client of a server without the route: %v; want errors.ErrUnsupported", err)
	}
}
