package kernel

import (
	"strings"
	"testing"
	"time"
)

func TestAnalyzerNamesTheRootCauseWithEvidence(t *testing.T) {
	t.Parallel()
	now := epoch.Add(10 * time.Second)
	beats := func(mem ...float64) []Beat {
		var out []Beat
		for i, m := range mem {
			out = append(out, Beat{At: epoch.Add(time.Duration(i) * time.Second), Incarnation: 1, Seq: uint64(i + 1), MemMB: m})
		}
		return out
	}
	running := []DepState{{Name: "db", State: StateRunning, Since: epoch}}
	for _, tc := range []struct {
		name     string
		ev       Evidence
		cause    Cause
		related  string
		evidence string
	}{
		{"panic", Evidence{Exit: &Exit{Panic: "nil map write", Stack: "main.go:12"}, Beats: beats(30)}, CausePanic, "", "nil map write"},
		{"exhausted on exit", Evidence{Exit: &Exit{Exhausted: true, MemMB: 700, Err: "out of memory"}, Beats: beats(30, 31)}, CauseResourceExhaustion, "", "last reported 700 MB"},
		{"exhausted by the heartbeats", Evidence{Beats: beats(100, 300, 520)}, CauseResourceExhaustion, "", "100 → 300 → 520 MB"},
		{"dependency", Evidence{Exit: &Exit{Dependency: "db", Err: "dependency db is down"}, Beats: beats(30),
			Deps: []DepState{{Name: "db", State: StateFailed, Since: epoch}}}, CauseDependencyFailure, "db", "Dependency db has been failed"},
		{"dependency seen down while hung", Evidence{Beats: beats(30), Deps: []DepState{{Name: "db", State: StateUnresponsive, Since: epoch}}},
			CauseDependencyFailure, "db", "unresponsive"},
		{"stop command", Evidence{Exit: &Exit{StoppedBy: "rogue"}, Beats: beats(30)}, CauseStopCommand, "rogue", "stop command from rogue"},
		{"hang", Evidence{Beats: beats(30, 30), Missed: 3, Deps: running}, CauseMissedHeartbeats, "", "has not ended"},
		{"error exit", Evidence{Exit: &Exit{Err: "socket closed"}, Beats: beats(30)}, CauseMissedHeartbeats, "", "socket closed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.ev.Kernel, tc.ev.Now, tc.ev.Interval, tc.ev.MemoryLimitMB = "k", now, time.Second, 512
			d := Analyze(tc.ev)
			if d.Cause != tc.cause || d.Related != tc.related || d.Confidence <= 0 || d.Summary == "" {
				t.Fatalf("diagnosis = %+v", d)
			}
			if all := strings.Join(d.Evidence, "\n"); !strings.Contains(all, tc.evidence) || !strings.Contains(all, "Last heartbeat") {
				t.Fatalf("evidence %q lacks %q", all, tc.evidence)
			}
		})
	}
}
