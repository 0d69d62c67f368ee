package chaos_test

import (
	"strings"
	"testing"

	"grace/engine"
	"grace/engine/chaos"
)

func TestJepsenScenarios(t *testing.T) {
	cases := []struct {
		id        string
		safeguard string
		// params bound the wait for a broken engine to settle, so that a
		// run without its safeguard fails in seconds.
		params map[string]float64
		// offBreaksHistory: without the safeguard the history itself is
		// not linearizable (acknowledged work never completes).
		offBreaksHistory bool
	}{
		{"JEPSEN_crash_restart", engine.SafeguardCrashRecovery, map[string]float64{"settle_ms": 3000}, true},
		{"JEPSEN_store_stall", engine.SafeguardRateLimit, map[string]float64{"settle_ms": 3000}, false},
		{"JEPSEN_paused_approvals", engine.SafeguardSchedulerAutoResume, map[string]float64{"settle_ms": 1500}, true},
	}
	for _, tc := range cases {
		t.Run(tc.id, func(t *testing.T) {
			on := setup(t).run(t, tc.id, tc.params)
			if !on.Passed {
				t.Fatalf("with every safeguard on, %s failed: %v", tc.id, on.Failures)
			}
			if !fired(on, tc.safeguard) {
				t.Errorf("%s passed but %s is not reported fired: %+v", tc.id, tc.safeguard, on.Safeguards)
			}
			inv := on.Invariants
			if inv.Linearizable == nil || !*inv.Linearizable {
				t.Errorf("a passing Jepsen run must report linearizable=true, got %v", inv.Linearizable)
			}
			if inv.Lost != 0 || inv.Duplicated != 0 || inv.UnauthorizedExecutions != 0 || !inv.AuditIntact {
				t.Errorf("invariants broken on a passing run: %+v", inv)
			}

			off := setup(t, tc.safeguard).run(t, tc.id, tc.params)
			if off.Passed {
				t.Fatalf("with %s off, %s passed", tc.safeguard, tc.id)
			}
			failures := strings.Join(off.Failures, "\n")
			if !strings.Contains(failures, "safeguard "+tc.safeguard+" did not fire") {
				t.Errorf("failures do not name the missing safeguard %s: %v", tc.safeguard, off.Failures)
			}
			if tc.offBreaksHistory {
				if lin := off.Invariants.Linearizable; lin == nil || *lin {
					t.Errorf("with %s off the history should not be linearizable, got %v", tc.safeguard, lin)
				}
				if !strings.Contains(failures, "invariant "+chaos.InvariantLinearizable+": intent ") {
					t.Errorf("failures do not name the intent that broke the model: %v", off.Failures)
				}
			}
		})
	}
}
