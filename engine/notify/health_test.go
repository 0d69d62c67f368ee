package notify

import (
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"grace/engine"
	"grace/engine/watchdog"
)

// A webhook whose notifications fail raises the notifier's watchdog
// finding: warn after one failed after all its attempts, critical after
// three in a row, ok once one is delivered; another webhook's finding is
// untouched. So a receiver that refuses Grace shows as an alert, not only
// as a line in the log.
func TestFailingWebhookIsAWatchdogFinding(t *testing.T) {
	t.Parallel()
	var refuse atomic.Bool
	refuse.Store(true)
	bad := newReceiver(t, func(_ int, w http.ResponseWriter, _ *http.Request) {
		if refuse.Load() {
			http.Error(w, "no", http.StatusForbidden)
		}
	})
	good := newReceiver(t, nil)
	src := newFakeSource()
	b := setup(t, src, []engine.WebhookConfig{hookTo("bad", bad.srv.URL), hookTo("good", good.srv.URL)})
	comp := b.n.Component()
	if comp.Name != ComponentName {
		t.Fatalf("component %q", comp.Name)
	}
	finding := func(name string) watchdog.Finding {
		t.Helper()
		res := comp.Check(epoch)
		if !res.Ready {
			t.Fatalf("not ready: %+v", res)
		}
		for _, f := range res.Findings {
			if f.Condition == "webhook:"+name {
				return f
			}
		}
		t.Fatalf("no finding for webhook %s: %+v", name, res.Findings)
		return watchdog.Finding{}
	}
	if f := finding("bad"); f.Status != watchdog.OK {
		t.Fatalf("before any notification: %+v", f)
	}
	failed := func(n uint64) func() bool {
		return func() bool { return b.metrics.Value("bad", KindAlert, ResultFailed) == n }
	}
	src.alert(watchdog.Raised, testAlert("a", watchdog.Warn, watchdog.Warn))
	waitFor(t, "one failed notification", failed(1))
	if f := finding("bad"); f.Status != watchdog.Warn || !strings.Contains(f.Reason, "403 Forbidden") {
		t.Fatalf("after one failure: %+v", f)
	}
	src.alert(watchdog.Raised, testAlert("b", watchdog.Warn, watchdog.Warn))
	src.alert(watchdog.Raised, testAlert("c", watchdog.Warn, watchdog.Warn))
	waitFor(t, "three failed notifications", failed(3))
	if f := finding("bad"); f.Status != watchdog.Critical || !strings.Contains(f.Reason, "the last 3 notifications failed") {
		t.Fatalf("after three failures: %+v", f)
	}
	if f := finding("good"); f.Status != watchdog.OK {
		t.Fatalf("the webhook that works: %+v", f)
	}
	refuse.Store(false)
	src.alert(watchdog.Raised, testAlert("d", watchdog.Warn, watchdog.Warn))
	waitFor(t, "a delivered notification", func() bool { return b.metrics.Value("bad", KindAlert, ResultDelivered) == 1 })
	if f := finding("bad"); f.Status != watchdog.OK {
		t.Fatalf("after a delivery: %+v", f)
	}
}
