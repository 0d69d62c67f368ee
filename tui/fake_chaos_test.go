package tui

import (
	"context"
	"fmt"
	"sync"
	"time"

	"grace/engine"
	"grace/engine/watchdog"
)

// fakeChaos is an engine.ChaosAPI for tests: a scenario library, a
// status and a history to report, and a record of every start and halt.
// Embedded in chaosFake it makes the fake engine's API implement both
// interfaces, as the console's real API value does.
type fakeChaos struct {
	mu        sync.Mutex
	scenarios []engine.ChaosScenario
	status    engine.ChaosStatus
	history   []engine.ChaosRun
	starts    []engine.ChaosRequest
	halts     []string
	startErr  error
	nextRun   int
}

// chaosFake is the fake engine with a chaos service.
type chaosFake struct {
	*fakeAPI
	*fakeChaos
}

var (
	_ engine.OperatorAPI = chaosFake{}
	_ engine.ChaosAPI    = chaosFake{}
)

func (f *fakeChaos) ChaosScenarios(context.Context) ([]engine.ChaosScenario, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]engine.ChaosScenario(nil), f.scenarios...), nil
}

// StartChaos records req and answers a running run, or startErr.
func (f *fakeChaos) StartChaos(_ context.Context, req engine.ChaosRequest) (engine.ChaosRun, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.starts = append(f.starts, req)
	if f.startErr != nil {
		return engine.ChaosRun{}, f.startErr
	}
	f.nextRun++
	ids := req.Scenarios
	if req.All {
		for _, s := range f.scenarios {
			ids = append(ids, s.ID)
		}
	}
	run := engine.ChaosRun{RunID: fmt.Sprintf("chr_test%04d", f.nextRun), State: engine.ChaosRunning, Trigger: req.Trigger,
		Operator: req.Operator, StartedAt: fixedNow, Requested: ids}
	f.status.Running = &run
	return run, nil
}

func (f *fakeChaos) ChaosRun(_ context.Context, id string) (engine.ChaosRun, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, r := range f.history {
		if r.RunID == id {
			return r, nil
		}
	}
	return engine.ChaosRun{}, fmt.Errorf("run %s: %w", id, engine.ErrChaosRunNotFound)
}

func (f *fakeChaos) ChaosHistory(context.Context, int) ([]engine.ChaosRun, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]engine.ChaosRun(nil), f.history...), nil
}

// HaltChaos records the operator and halts the run in the status.
func (f *fakeChaos) HaltChaos(_ context.Context, operator, _ string) (engine.ChaosHaltResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.halts = append(f.halts, operator)
	if r := f.status.Running; r != nil {
		f.status.Running = nil
		return engine.ChaosHaltResult{Halted: 1, RunIDs: []string{r.RunID}}, nil
	}
	return engine.ChaosHaltResult{}, nil
}

func (f *fakeChaos) ChaosStatus(context.Context) (engine.ChaosStatus, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.status, nil
}

func (f *fakeChaos) calls() (starts []engine.ChaosRequest, halts []string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]engine.ChaosRequest(nil), f.starts...), append([]string(nil), f.halts...)
}

func (f *fakeChaos) setStatus(s engine.ChaosStatus) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.status = s
}

// healthFake is the fake engine with the watchdog's API: its alert
// history is alerts.
type healthFake struct {
	*fakeAPI
	alerts []watchdog.Alert
}

var _ engine.HealthAPI = healthFake{}

func (h healthFake) Health() engine.HealthReport { return h.Snapshot().Health }

func (h healthFake) Alerts(_ context.Context, firing bool) ([]watchdog.Alert, error) {
	var out []watchdog.Alert
	for _, a := range h.alerts {
		if !firing || a.Firing() {
			out = append(out, a)
		}
	}
	return out, nil
}

func (h healthFake) TelemetryHistory(context.Context, watchdog.TelemetryQuery) ([]watchdog.Telemetry, error) {
	return nil, nil
}

// Chaos fixtures.

// fixtureScenarios is a library of the four categories with varied
// standing.
func fixtureScenarios() []engine.ChaosScenario {
	mk := func(id, cat, desc string, diff, streak, runs int, verdict string, ago time.Duration, faults, sgs []string) engine.ChaosScenario {
		s := engine.ChaosScenario{ID: id, Category: cat, Description: desc, Difficulty: diff, Streak: streak, Runs: runs,
			LastVerdict: verdict, Faults: faults, Safeguards: sgs,
			Invariants: []string{"no accepted intent lost", "none executed twice", "no Tier 0 intent without approval", "audit chain intact"},
			Source:     "scenarios/" + id + ".yaml"}
		if verdict != "" {
			s.LastRunAt = fixedNow.Add(-ago)
		}
		return s
	}
	return []engine.ChaosScenario{
		mk("DIRT_critical_kernel_loss", "dirt", "Kill a critical Layer 1 kernel and expect the emergency recovery playbook to bring it back as a Tier 4 intent.", 2, 1, 7, engine.ChaosPassed, 3*time.Hour, []string{"kernel_kill"}, []string{"kernel_auto_recovery"}),
		mk("DIRT_bus_partition", "dirt", "Cut the Layer 1 message bus between two kernel groups.", 1, 0, 2, engine.ChaosFailed, 3*time.Hour, []string{"bus_partition"}, []string{"bus_acl"}),
		mk("FIT_handler_latency", "fit", "Add 2s of latency to every simulated handler and expect the scheduler to keep dispatching.", 1, 0, 0, "", 0, []string{"handler_latency"}, nil),
		mk("JEPSEN_queue_linearizable", "jepsen", "Concurrent submits and dispatches under worker crashes; the history must be linearizable.", 1, 3, 3, engine.ChaosPassed, 27*time.Hour, []string{"worker_crash"}, []string{"worker_reassignment"}),
		mk("L2_htm_queue_flood", "layer2_orchestration", "Flood intake at ten times its rate limit; the HTM must rate-limit, then shed low-priority work past critical depth, and lose nothing it accepted.", 3, 6, 14, engine.ChaosPassed, 3*time.Hour, []string{"intake_flood"}, []string{"htm_rate_limit", "htm_load_shedding"}),
		mk("L2_policy_cascade", "layer2_orchestration", "A policy rule that re-emits its own topic; the cascade limit must cut it at depth 10.", 2, 2, 5, engine.ChaosPassed, 3*time.Hour, []string{"policy_loop"}, []string{"policy_cascade_limit"}),
	}
}

// fixtureFinding is a finding of the loop with its playbook.
func fixtureFinding() engine.ChaosFinding {
	return engine.ChaosFinding{ID: "fnd_01JPB9BUSACL", Scenario: "DIRT_bus_partition", Safeguard: "bus_acl", RunID: "chr_01JPB9A0LOOP",
		Summary: "bus_acl did not fire: a kernel outside its group published on the partitioned bus", State: engine.FindingProposed,
		CreatedAt: fixedNow.Add(-3 * time.Hour), UpdatedAt: fixedNow.Add(-2 * time.Hour),
		Playbook: "scenarios/playbooks/bus_acl_DIRT_bus_partition.yaml", RemediationIntent: "int_01JPB9REMEDY0000000000AA",
		PlaybookYAML: "id: bus_acl_DIRT_bus_partition\ntrigger: safeguard bus_acl missing in DIRT_bus_partition\nsteps:\n" +
			"  - enable: safeguards.bus_acl.enabled\n  - verify: rerun DIRT_bus_partition at difficulty 1\n" +
			"  - record: knowledge base entry on pass\nrollback:\n  - disable: safeguards.bus_acl.enabled\n"}
}

// fixtureChaosStatus is a scored library with the loop on and one
// finding and one verified fix.
func fixtureChaosStatus() engine.ChaosStatus {
	return engine.ChaosStatus{
		Score: engine.ResilienceScore{Overall: 86, Runs: 31, ByCategory: map[string]float64{
			"dirt": 71, "fit": 100, "jepsen": 100, "layer2_orchestration": 94}},
		Loop: engine.ChaosLoopState{Enabled: true, NextRunAt: fixedNow.Add(10*time.Hour + 50*time.Minute), NextSlot: "02:00",
			NextScenarios: []string{"L2_htm_queue_flood", "L2_policy_cascade", "DIRT_bus_partition"},
			LastRunAt:     fixedNow.Add(-3 * time.Hour), LastRunID: "chr_01JPB9A0LOOP"},
		Findings: []engine.ChaosFinding{fixtureFinding()},
		Knowledge: []engine.ChaosKnowledge{{FindingID: "fnd_01JPB5SHED", Scenario: "L2_htm_queue_flood", Safeguard: "htm_load_shedding",
			Fix: "enable htm_load_shedding with priority<5 and age>10m", VerifiedAt: fixedNow.Add(-49 * time.Hour), VerifiedBy: "chr_01JPB5VERIFY"}},
	}
}

// fixtureChaosRuns are stored runs, newest first: a failed loop run and
// a passed operator run.
func fixtureChaosRuns() []engine.ChaosRun {
	yes := true
	return []engine.ChaosRun{
		{RunID: "chr_01JPB9A0LOOP", State: engine.ChaosFailed, Trigger: engine.ChaosTriggerLoop, StartedAt: fixedNow.Add(-3 * time.Hour),
			FinishedAt: fixedNow.Add(-3*time.Hour + 95*time.Second), Requested: []string{"L2_htm_queue_flood", "DIRT_bus_partition"},
			Scenarios: []engine.ChaosResult{
				{ID: "L2_htm_queue_flood", Category: "layer2_orchestration", Passed: true, Difficulty: 3, DurationMS: 41200,
					Safeguards: []engine.ChaosSafeguardResult{{Name: "htm_rate_limit", Expected: true, Fired: true, Enabled: true},
						{Name: "htm_load_shedding", Expected: true, Fired: true, Enabled: true}},
					Invariants: engine.ChaosInvariantResult{AuditIntact: true}},
				{ID: "DIRT_bus_partition", Category: "dirt", Passed: false, Difficulty: 1, DurationMS: 53800,
					Safeguards: []engine.ChaosSafeguardResult{{Name: "bus_acl", Expected: true, Fired: false, Enabled: false}},
					Invariants: engine.ChaosInvariantResult{AuditIntact: true, Linearizable: &yes},
					Failures:   []string{"safeguard bus_acl did not fire"}},
			}},
		{RunID: "chr_01JPB8OPS0001", State: engine.ChaosPassed, Trigger: engine.ChaosTriggerOperator, Operator: "ops",
			StartedAt: fixedNow.Add(-26 * time.Hour), FinishedAt: fixedNow.Add(-26*time.Hour + 40*time.Second),
			Requested: []string{"JEPSEN_queue_linearizable"},
			Scenarios: []engine.ChaosResult{{ID: "JEPSEN_queue_linearizable", Category: "jepsen", Passed: true, Difficulty: 1, DurationMS: 39900,
				Safeguards: []engine.ChaosSafeguardResult{{Name: "worker_reassignment", Expected: true, Fired: true, Enabled: true}},
				Invariants: engine.ChaosInvariantResult{AuditIntact: true, Linearizable: &yes}}}},
	}
}

// newChaosFake is the fixture engine with the fixture chaos service.
func newChaosFake(api *fakeAPI) chaosFake {
	return chaosFake{fakeAPI: api, fakeChaos: &fakeChaos{scenarios: fixtureScenarios(), status: fixtureChaosStatus(), history: fixtureChaosRuns()}}
}

// progressEvent is a chaos event of run id at phase of scenario i of n.
func progressEvent(id, scenario string, i, n int, phase string, faults, fired []string) engine.Event {
	return engine.Event{Kind: engine.EventChaos, Chaos: &engine.ChaosProgress{RunID: id, Scenario: scenario, Index: i, Total: n,
		Phase: phase, At: fixedNow, FaultsActive: faults, SafeguardsFired: fired}}
}
