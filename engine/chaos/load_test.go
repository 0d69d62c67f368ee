package chaos_test

import (
	"testing"
	"time"
)

// TestScenarioLoadWaitsOutTheGlobalRateLimit: a scenario's backdrop load
// is submitted as a well-behaved client would, waiting when the intake's
// limit on all actors together says so. On a fast machine
// L2_type_pause_isolation at difficulty 10 submitted its 5,000 tasks faster
// than 1,000 a second past the burst of 2,000, and the scenario could not
// be carried out ("intake rate limit exceeded: all actors together"). A
// tight limit makes the same happen on any machine.
func TestScenarioLoadWaitsOutTheGlobalRateLimit(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.runner.Config.HTM.RateLimit.GlobalRate, b.runner.Config.HTM.RateLimit.GlobalBurst = 400, 20
	b.runner.Deadline = 6 * time.Second // the pause is forgotten for 4 s, as in the safeguard tests
	res := b.run(t, "L2_type_pause_isolation", map[string]float64{"queued": 100, "flowing": 100, "auto_resume_after_ms": 4000})
	if !res.Passed {
		t.Fatalf("L2_type_pause_isolation under a global limit of 400/s (burst 20) failed: %v", res.Failures)
	}
}
