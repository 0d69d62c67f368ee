package tui

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"grace/engine"
	"grace/engine/watchdog"
)

// noHistory is an attached server that keeps no alert history (or is
// older than GET /v1/alerts): its Alerts says errors.ErrUnsupported.
type noHistory struct {
	*fakeAPI
	asked *int
}

func (n noHistory) Alerts(context.Context, bool) ([]watchdog.Alert, error) {
	*n.asked++
	return nil, fmt.Errorf("%w: the server offers no alert history", errors.ErrUnsupported)
}

// TestAlertsWithoutAHistoryToFetch: a server that answers that it keeps no
// alert history is not asked again at every refresh with a warning each
// time; the screen says it shows only the resolutions it saw.
func TestAlertsWithoutAHistoryToFetch(t *testing.T) {
	t.Parallel()
	asked := 0
	b := setupWith(t, func(a *fakeAPI) engine.OperatorAPI { return noHistory{fakeAPI: a, asked: &asked} })
	b.send(snapshotMsg{snap: alertsSnapshot()})
	b.run(t, b.press(t, "5"))
	if asked != 1 {
		t.Fatalf("alert history asked %d times on opening the screen, want 1", asked)
	}
	v := b.view()
	if !strings.Contains(v, "resolved: only those seen resolving while this console runs") || strings.Contains(v, "loading the watchdog's alert history") {
		t.Errorf("the screen does not say it shows only the resolutions it saw:\n%s", v)
	}
	b.clock.advance(2 * alertHistoryEvery)
	if cmd := b.m.alerts.tick(); cmd != nil {
		t.Error("the alert history is asked for again of a server that keeps none")
	}
}
