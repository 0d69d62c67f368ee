package engine

import (
	"strings"
	"testing"
	"time"

	"grace/engine/watchdog"
)

// TestSilenceOfStarStarIsAMaintenanceWindow: "*/*" matches every alert
// as "*" does, so its alert_silenced record says so and carries the same
// risk, rather than passing for a narrower silence.
func TestSilenceOfStarStarIsAMaintenanceWindow(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	for _, m := range []string{"*", "*/*"} {
		s := watchdog.Silence{ID: "sil_x", Match: m, Reason: "upgrade", By: "alice", CreatedAt: at, EndsAt: at.Add(time.Hour)}
		r := silencedRecord(s, nil)
		if r.Risk != 0.7 || !strings.Contains(strings.Join(r.Why, " "), "every alert (a maintenance window)") {
			t.Errorf("match %q: risk %v, why %q; want 0.7 and a maintenance window", m, r.Risk, r.Why)
		}
	}
	if r := silencedRecord(watchdog.Silence{Match: "probe/*", CreatedAt: at, EndsAt: at.Add(time.Hour)}, nil); r.Risk != 0.4 {
		t.Errorf("probe/*: risk %v, want 0.4", r.Risk)
	}
}
