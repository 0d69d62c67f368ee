package chaos_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"grace/engine"
	"grace/engine/chaos"
)

// safeguardCase is one scenario of the DiRT or FIT library: it must pass
// on a healthy engine with every expected safeguard fired and every
// invariant held, and fail naming off[0] when the safeguards in off are
// switched off.
type safeguardCase struct {
	id string
	// off are switched off for the failing run; the first is the one the
	// failure must name.
	off []string
	// params scale the scenario for -race on 2 cores.
	params map[string]float64
	// passing and failing check what else the runs must show.
	passing func(t *testing.T, res chaos.Result)
	failing func(t *testing.T, res chaos.Result)
}

func (tc safeguardCase) test(t *testing.T) {
	on := setup(t).run(t, tc.id, tc.params)
	if !on.Passed {
		t.Fatalf("with every safeguard on, %s failed: %v", tc.id, on.Failures)
	}
	for _, s := range on.Safeguards {
		if s.Expected && !s.Fired {
			t.Errorf("%s passed but expected safeguard %s is not reported fired", tc.id, s.Name)
		}
	}
	if !fired(on, tc.off[0]) {
		t.Errorf("%s passed but %s is not reported fired: %+v", tc.id, tc.off[0], on.Safeguards)
	}
	inv := on.Invariants
	if inv.Lost != 0 || inv.Duplicated != 0 || inv.UnauthorizedExecutions != 0 || !inv.AuditIntact {
		t.Errorf("invariants broken on a passing run: %+v", inv)
	}
	if tc.passing != nil {
		tc.passing(t, on)
	}
	off := setup(t, tc.off...).run(t, tc.id, tc.params)
	if off.Passed {
		t.Fatalf("with %v off, %s passed", tc.off, tc.id)
	}
	if !strings.Contains(strings.Join(off.Failures, "\n"), "safeguard "+tc.off[0]+" did not fire (it is switched off)") {
		t.Errorf("failures do not name the missing safeguard %s: %v", tc.off[0], off.Failures)
	}
	if tc.failing != nil {
		tc.failing(t, off)
	}
}

// mentions reports whether one of lines contains every part.
func mentions(lines []string, parts ...string) bool {
	for _, l := range lines {
		all := true
		for _, p := range parts {
			all = all && strings.Contains(l, p)
		}
		if all {
			return true
		}
	}
	return false
}

func TestDiRTScenarios(t *testing.T) {
	cases := []safeguardCase{
		{
			id: "DIRT_kernel_kill", off: []string{engine.SafeguardKernelAutoRecovery},
			params: map[string]float64{"load": 100},
			passing: func(t *testing.T, res chaos.Result) {
				if !mentions(res.Notes, "the recovery playbook brought back critical kernels") {
					t.Errorf("no critical kernel recovered by the playbook in the notes: %v", res.Notes)
				}
				if mentions(res.Notes, "rollback: restored kernel") {
					t.Errorf("the rollback had to restore a kernel although kernel_auto_recovery is on: %v", res.Notes)
				}
			},
			failing: func(t *testing.T, res chaos.Result) {
				// Nothing brought the kernels back but the rollback, which
				// must leave the engine whole.
				if !mentions(res.Notes, "rollback: restored kernel") {
					t.Errorf("the rollback restored no kernel: %v", res.Notes)
				}
				if mentions(res.Failures, "rollback:") {
					t.Errorf("the rollback failed: %v", res.Failures)
				}
			},
		},
		{
			id: "DIRT_acl_flood", off: []string{engine.SafeguardBusACL},
			passing: func(t *testing.T, res chaos.Result) {
				if !mentions(res.Notes, "0 delivered") || !mentions(res.Notes, "legitimate traffic") {
					t.Errorf("the notes do not show every forbidden message refused and the legitimate traffic: %v", res.Notes)
				}
			},
			failing: func(t *testing.T, res chaos.Result) {
				if !mentions(res.Failures, "forbidden stop commands", "were delivered") {
					t.Errorf("without the ACL, the delivered forbidden commands are not a failure: %v", res.Failures)
				}
			},
		},
		{
			id: "DIRT_resource_siege", off: []string{engine.SafeguardKernelAutoRecovery},
			params: map[string]float64{"intents": 600, "rate_limit_per_second": 25, "rate_limit_burst": 25},
		},
		{
			id: "DIRT_resource_siege", off: []string{engine.SafeguardRateLimit, engine.SafeguardLoadShedding},
			params: map[string]float64{"intents": 600, "rate_limit_per_second": 25, "rate_limit_burst": 25},
		},
	}
	for _, tc := range cases {
		t.Run(tc.id+"_without_"+tc.off[0], tc.test)
	}
}

// The Layer 1 and FIT fault kinds are known to the loader, which refuses a
// scenario that leaves out one of their parameters, naming it.
func TestLoaderKnowsTheDiRTAndFITFaults(t *testing.T) {
	t.Parallel()
	const body = `id: Bus
category: dirt
description: proves the loader knows flood_bus
parameters:
  messages: {base: 10}
faults: [{kind: flood_bus}]
safeguards: {expected: [bus_acl]}
`
	_, err := chaos.Parse("bus.yaml", []byte(body))
	var fe *chaos.FileError
	if !errors.As(err, &fe) || fe.File != "bus.yaml" || fe.Field != "parameters.legit_messages" {
		t.Fatalf("Parse without legit_messages = %v, want a FileError naming bus.yaml and parameters.legit_messages", err)
	}
	kinds := chaos.FaultKinds()
	for _, k := range []string{chaos.FaultKillKernels, chaos.FaultFloodBus, chaos.FaultSiegeKernels, chaos.FaultDegradeHandlers, chaos.FaultSurgeKillWorkers} {
		if !slices.Contains(kinds, k) {
			t.Errorf("fault kind %s is not registered (known: %v)", k, kinds)
		}
	}
	for _, g := range []string{engine.SafeguardKernelAutoRecovery, engine.SafeguardBusACL} {
		if !slices.Contains(chaos.KnownSafeguards(), g) {
			t.Errorf("safeguard %s has no detector (known: %v)", g, chaos.KnownSafeguards())
		}
	}
}
