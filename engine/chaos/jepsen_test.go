package chaos_test

import (
	"strings"
	"testing"
	"time"

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

// TestPausedApprovalsAtItsHighestDifficulties: from difficulty 7 on
// JEPSEN_paused_approvals submits more Tier 0 intents (273, up to 500)
// than one agent's rate-limit burst (200) lets in at once. The run used to
// end in error there ("could not be carried out: … intake rate limit
// exceeded: actor jepsen.agent"), taking every scenario after it in the
// run down with it; it must run and pass, as at the lower levels.
func TestPausedApprovalsAtItsHighestDifficulties(t *testing.T) {
	const id = "JEPSEN_paused_approvals"
	b := setup(t)
	sc := b.lib.Get(id)
	if sc == nil {
		t.Fatalf("scenario %s not in the library", id)
	}
	if top := sc.Parameters["tier0"].At(10); top <= 200 {
		t.Fatalf("%s submits %v Tier 0 intents at difficulty 10: no more than one agent's burst, the test proves nothing", id, top)
	}
	res := b.run(t, id, map[string]float64{"tier0": 300, "settle_ms": 3000})
	if !res.Passed {
		t.Fatalf("%s with 300 Tier 0 intents failed: %v", id, res.Failures)
	}
}

// TestCrashRestartScalesItsWorkersWithItsLoad: JEPSEN_crash_restart's
// submissions grow with the difficulty (to 2,000), so its workers must
// too, or past some level the engine cannot run what was submitted
// within settle_ms however correct it is. With 4 workers at 40 ms each
// (100 a second) the scenario failed from difficulty 8 on, reporting
// hundreds of acknowledged intents "never completed" and the history not
// linearizable: a false finding of lost work that the loop, escalating to
// chaos.loop.max_difficulty, would reach. The work each difficulty asks
// for must fit in the settle time with room to spare for the crashes.
func TestCrashRestartScalesItsWorkersWithItsLoad(t *testing.T) {
	t.Parallel()
	sc := setup(t).lib.Get("JEPSEN_crash_restart")
	if sc == nil {
		t.Fatal("JEPSEN_crash_restart not in the library")
	}
	for d := 1; d <= engine.Default().Chaos.Loop.MaxDifficulty; d++ {
		p := func(name string) float64 { return sc.Parameters[name].At(d) }
		work := time.Duration(p("submissions") * p("handler_latency_ms") / p("workers") * float64(time.Millisecond))
		settle := time.Duration(p("settle_ms") * float64(time.Millisecond))
		if work > settle*3/4 {
			t.Errorf("difficulty %d: %v submissions at %vms on %v workers take %v of handler time, more than 3/4 of settle_ms (%v)",
				d, p("submissions"), p("handler_latency_ms"), p("workers"), work, settle)
		}
	}
}
