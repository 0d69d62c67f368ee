package chaos_test

import (
	"testing"

	"grace/engine"
	"grace/engine/chaos"
)

func TestFITScenarios(t *testing.T) {
	cases := []safeguardCase{
		{
			id: "FIT_handler_latency", off: []string{engine.SafeguardLoadShedding},
			passing: func(t *testing.T, res chaos.Result) {
				if !mentions(res.Notes, "steady load outcome") {
					t.Errorf("the load's outcomes were not checked: %v", res.Notes)
				}
			},
		},
		{
			id: "FIT_handler_errors", off: []string{engine.SafeguardLoadShedding},
			passing: func(t *testing.T, res chaos.Result) {
				if !mentions(res.Notes, "retries scheduled with backoff") {
					t.Errorf("the retries were not checked: %v", res.Notes)
				}
			},
		},
		{
			id: "FIT_surge_with_worker_loss", off: []string{engine.SafeguardWorkerReassignment},
			params:  map[string]float64{"intents": 600, "rate_limit_per_second": 20, "rate_limit_burst": 20},
			failing: strandedRunning,
		},
		{
			id: "FIT_surge_with_worker_loss", off: []string{engine.SafeguardRateLimit, engine.SafeguardLoadShedding},
			params: map[string]float64{"intents": 600, "rate_limit_per_second": 20, "rate_limit_burst": 20},
		},
		{id: "FIT_multi_fault", off: []string{engine.SafeguardKernelAutoRecovery}},
		{id: "FIT_multi_fault", off: []string{engine.SafeguardWorkerReassignment}, failing: strandedRunning},
		{id: "FIT_multi_fault", off: []string{engine.SafeguardMeshBackpressure}},
	}
	for _, tc := range cases {
		t.Run(tc.id+"_without_"+tc.off[0], tc.test)
	}
}

// strandedRunning checks that the tasks of the killed workers, never taken
// back without worker_reassignment, are reported lost: still running at
// the end of the run.
func strandedRunning(t *testing.T, res chaos.Result) {
	if res.Invariants.Lost == 0 || !mentions(res.Failures, "invariant no_lost_intents", "acknowledged intents never finished", "still running at the end of the run") {
		t.Errorf("the killed workers' tasks are not reported lost: lost %d, failures %v", res.Invariants.Lost, res.Failures)
	}
}
