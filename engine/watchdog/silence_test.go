package watchdog

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestSilenceMatch: a match is an alert key, component/*, */condition or
// * (and */*), matched without regard to case; anything else is refused
// with the value quoted.
func TestSilenceMatch(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		match, key string
		want       bool
	}{
		{"scheduler/paused", "scheduler/paused", true},
		{"Scheduler/Paused", "scheduler/paused", true},
		{"scheduler/paused", "scheduler/stalled", false},
		{"scheduler/*", "scheduler/stalled", true},
		{"scheduler/*", "htm_orchestrator/queue_depth", false},
		{"*/queue_depth", "htm_orchestrator/queue_depth", true},
		{"*/queue_depth", "htm_orchestrator/rate", false},
		{"*", "notifications/webhook:oncall", true},
		{"*/*", "a/b", true},
		{"notifications/webhook:a/b", "notifications/webhook:a/b", true},
		{"sched/*", "scheduler/paused", false},
	} {
		if p := CheckMatch(tc.match); p != "" {
			t.Errorf("CheckMatch(%q) = %q, want it accepted", tc.match, p)
		}
		if got := MatchKey(tc.match, tc.key); got != tc.want {
			t.Errorf("MatchKey(%q, %q) = %v, want %v", tc.match, tc.key, got, tc.want)
		}
	}
	for _, bad := range []string{"", "scheduler", "scheduler/", "/paused", "sched*/paused", "scheduler/pa*", "**",
		"a b/c", "a/b\x1b[2J", strings.Repeat("a", 300) + "/b"} {
		p := CheckMatch(bad)
		if p == "" {
			t.Errorf("CheckMatch(%q) accepted it", bad)
			continue
		}
		if len(bad) <= maxMatchBytes && bad != "" && !strings.Contains(p, fmt.Sprintf("%q", bad)) {
			t.Errorf("CheckMatch(%q) = %q: the value is not named", bad, p)
		}
	}
}

// TestMarkSilenced: a firing alert an active silence matches carries the
// silence that ends last; a resolved one, one no silence matches, and one
// whose silence ended or ran out carry none.
func TestMarkSilenced(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	ss := []Silence{
		{ID: "sil_1", Match: "htm/*", By: "alice", EndsAt: now.Add(time.Hour), State: SilenceActive},
		{ID: "sil_2", Match: "*", By: "bob", EndsAt: now.Add(2 * time.Hour), State: SilenceActive},
		{ID: "sil_3", Match: "mesh/*", By: "carol", EndsAt: now, State: SilenceActive}, // its time came
		{ID: "sil_4", Match: "policy/*", By: "dan", EndsAt: now.Add(time.Hour), State: SilenceEnded, EndedAt: now},
	}
	as := []Alert{
		{Key: "htm/depth"},
		{Key: "mesh/drops"},
		{Key: "htm/rate", ResolvedAt: now},
	}
	MarkSilenced(as, ss, now)
	if s := as[0].Silenced; s == nil || s.ID != "sil_2" || s.By != "bob" || !s.EndsAt.Equal(now.Add(2*time.Hour)) {
		t.Errorf("htm/depth: %+v, want sil_2 (it ends last)", s)
	}
	if s := as[1].Silenced; s == nil || s.ID != "sil_2" {
		t.Errorf("mesh/drops: %+v, want sil_2 (sil_3 ran out)", s)
	}
	if as[2].Silenced != nil {
		t.Errorf("a resolved alert is marked: %+v", as[2].Silenced)
	}
	MarkSilenced(as, ss[2:], now)
	if as[0].Silenced != nil || as[1].Silenced != nil {
		t.Errorf("with no active silence: %+v, %+v", as[0].Silenced, as[1].Silenced)
	}
}
