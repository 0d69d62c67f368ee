package tui

import (
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"

	"grace/engine/intent"
)

func TestClockAt(t *testing.T) {
	t.Parallel()
	now := fixedNow // 2025-03-14 15:09:26 UTC
	for _, tc := range []struct {
		at   time.Time
		want string
	}{
		{now.Add(-time.Hour), "14:09:26"},
		{now.Add(24 * time.Hour), "03-15 15:09:26"},
		{now.Add(-16 * time.Hour), "03-13 23:09:26"},
		// The day is now's, in now's location: 23:30 UTC is the next day in Tokyo.
		{time.Date(2025, 3, 14, 23, 30, 0, 0, time.UTC), "08:30:00"},
	} {
		n := now
		if tc.want == "08:30:00" {
			n = time.Date(2025, 3, 15, 1, 0, 0, 0, time.FixedZone("JST", 9*3600))
		}
		if got := clockAt(tc.at, n); got != tc.want {
			t.Errorf("clockAt(%v, %v) = %q, want %q", tc.at, n, got, tc.want)
		}
	}
}

// TestApprovalDetailDatesTomorrowsDeadline: a Tier 0 intent's deadline a
// day away must not show as a time of day that already passed today.
func TestApprovalDetailDatesTomorrowsDeadline(t *testing.T) {
	t.Parallel()
	b := setup(t)
	it := pendingIntent("int_01JPB7Q4Z8XK3M2N5R6T7V8W9A", "change_charter", "agent:steward", time.Minute)
	it.Deadline = it.CreatedAt.Add(24 * time.Hour)
	b.api.setPending([]intent.Intent{it})
	b.run(t, b.press(t, "2"))
	b.press(t, "<enter>")
	v := ansi.Strip(b.view())
	if !strings.Contains(v, "in 23h59m (03-15 15:08:26)") || !strings.Contains(v, "1m00s (15:08:26)") {
		t.Errorf("the detail does not date tomorrow's deadline (and only it):\n%s", v)
	}
}

// TestApprovalDetailShowsASchedule: a scheduled Tier 0 intent says when it
// may run, so that the approver knows an approval will not start it now.
func TestApprovalDetailShowsASchedule(t *testing.T) {
	t.Parallel()
	b := setup(t)
	it := pendingIntent("int_01JPB7Q4Z8XK3M2N5R6T7V8W9A", "change_charter", "agent:steward", time.Minute)
	it.NotBefore = fixedNow.Add(2 * time.Hour)
	b.api.setPending([]intent.Intent{it})
	b.run(t, b.press(t, "2"))
	b.press(t, "<enter>")
	if v := ansi.Strip(b.view()); !strings.Contains(v, "not before 17:09:26 (in 2h00m)") {
		t.Errorf("the detail does not show the schedule:\n%s", v)
	}
}
