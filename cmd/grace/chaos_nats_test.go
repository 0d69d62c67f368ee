package main

import (
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// chaosNATSReport is chaos run --json with the records and notes these
// tests read.
type chaosNATSReport struct {
	Scenarios []struct {
		ID         string `json:"id"`
		Passed     bool   `json:"passed"`
		DurationMS int64  `json:"duration_ms"`
		Safeguards []struct {
			Name     string `json:"name"`
			Expected bool   `json:"expected"`
			Fired    bool   `json:"fired"`
		} `json:"safeguards"`
		Invariants struct {
			Lost                   int  `json:"lost"`
			Duplicated             int  `json:"duplicated"`
			UnauthorizedExecutions int  `json:"unauthorized_executions"`
			CancelledRevived       int  `json:"cancelled_revived"`
			AuditIntact            bool `json:"audit_intact"`
		} `json:"invariants"`
		Records  map[string]int `json:"records"`
		Notes    []string       `json:"notes"`
		Failures []string       `json:"failures"`
	} `json:"scenarios"`
}

var natsChaosArgs = []string{"--set", "backend.kind=nats", "--set", "backend.nats.url=embedded"}

// TestChaosScenariosOnNATS runs the worker, mesh, runaway and Jepsen
// scenarios with the isolated engine on the nats backend: each passes with
// its safeguard fired and every invariant held, and the record shows the
// work went through NATS (remote claims; the dead workers' tasks moved by
// redelivery, not by the in-process reroute; the storm came in through
// the bridge; the remote runaways abandoned).
func TestChaosScenariosOnNATS(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	ids := []string{"L2_worker_dropout_chaos", "L2_cancel_during_dropout", "L2_trigger_mesh_storm", "L2_runaway_handler",
		"JEPSEN_crash_restart", "JEPSEN_store_stall", "JEPSEN_paused_approvals"}
	r := c.run(t, append(append(append([]string{}, natsChaosArgs...), "chaos", "run"), append(ids, "--json")...)...)
	var rep chaosNATSReport
	r.decode(t, &rep)
	if r.code != 0 || len(rep.Scenarios) != len(ids) {
		t.Fatalf("chaos run on nats: exit %d, %d scenarios\n%s\n%s", r.code, len(rep.Scenarios), r.stdout, r.stderr)
	}
	for _, s := range rep.Scenarios {
		t.Logf("%s on nats: passed %v in %dms", s.ID, s.Passed, s.DurationMS)
		inv := s.Invariants
		if !s.Passed || len(s.Failures) > 0 || inv.Lost != 0 || inv.Duplicated != 0 || inv.UnauthorizedExecutions != 0 ||
			inv.CancelledRevived != 0 || !inv.AuditIntact {
			t.Errorf("%s: passed %v, invariants %+v, failures %v", s.ID, s.Passed, inv, s.Failures)
		}
		for _, g := range s.Safeguards {
			if g.Expected && !g.Fired {
				t.Errorf("%s: expected safeguard %s did not fire", s.ID, g.Name)
			}
		}
		rec := s.Records
		switch s.ID {
		case "L2_worker_dropout_chaos":
			if rec["remote_task_claimed"] < 40 || rec["remote_worker_lost"] < 1 || rec["remote_task_redelivered"] < 1 || rec["intent_rerouted"] != 0 {
				t.Errorf("%s: the dead remote workers' tasks did not move by redelivery: records %v", s.ID, rec)
			}
			checkRemoteRefill(t, s.ID, s.Notes, rec)
		case "L2_trigger_mesh_storm":
			m := regexp.MustCompile(`(\d+) received by the engine's bridge`).FindStringSubmatch(strings.Join(s.Notes, "\n"))
			if m == nil || rec["mesh_shedding_episode"] < 1 {
				t.Errorf("%s: no storm through the bridge with a shedding episode: notes %q, records %v", s.ID, s.Notes, rec)
			} else if n, _ := strconv.Atoi(m[1]); n < 1 {
				t.Errorf("%s: the engine's bridge received no event: %q", s.ID, s.Notes)
			}
		case "L2_cancel_during_dropout":
			// Running intents were cancelled on remote workers: their
			// handlers were stopped there and the results discarded.
			if rec["intent_cancelled"] < 1 || rec["remote_task_claimed"] < 1 || rec["stale_result_discarded"] < 1 {
				t.Errorf("%s: no cancel of a remotely running intent on the record: %v", s.ID, rec)
			}
		case "L2_runaway_handler":
			// The remote handlers ignored their cancel: both ends gave up
			// on them, and the other type's tasks ran on the freed remote
			// workers.
			if rec["handler_abandoned"] < 1 || rec["intent_failed"] < 1 || rec["remote_task_claimed"] < 300 {
				t.Errorf("%s: no remote runaway abandoned with the flowing tasks run remotely: records %v", s.ID, rec)
			}
		case "JEPSEN_crash_restart":
			if rec["remote_task_claimed"] < 1 || rec["intent_requeued_after_restart"] < 1 {
				t.Errorf("%s: records %v", s.ID, rec)
			}
		default:
			if rec["remote_task_claimed"] < 1 {
				t.Errorf("%s: no task ran on a remote worker: records %v", s.ID, rec)
			}
		}
	}
}

// checkRemoteRefill checks the dropout scenario's pool refill on nats:
// the killed remote workers (named by the fault's note) were replaced by
// new workers that joined the control plane (remote_worker_joined, beyond
// the first eight), and workers_full after the faults counted eight
// healthy remote workers, the replacements among them and no killed one.
func checkRemoteRefill(t *testing.T, id string, notes []string, rec map[string]int) {
	t.Helper()
	all := strings.Join(notes, "\n")
	km := regexp.MustCompile(`killed (\d+) of 8 remote workers on nats: \[([^\]]*)\]`).FindStringSubmatch(all)
	am := regexp.MustCompile(`workers_full after the faults on nats: (\d+) healthy remote workers of 8 wanted: ([^\n]*)`).FindStringSubmatch(all)
	if km == nil || am == nil {
		t.Errorf("%s: no kill note or no workers_full-after note counting remote workers: %q", id, notes)
		return
	}
	killed := strings.Fields(km[2])
	if n, _ := strconv.Atoi(km[1]); n != len(killed) || n < 1 {
		t.Errorf("%s: kill note %q", id, km[0])
	}
	if rec["remote_worker_joined"] < 8+len(killed) {
		t.Errorf("%s: %d remote_worker_joined for 8 workers and %d replacements: records %v", id, rec["remote_worker_joined"], len(killed), rec)
	}
	counted := strings.Split(am[2], ", ")
	if n, _ := strconv.Atoi(am[1]); n < 8 || n != len(counted) {
		t.Errorf("%s: workers_full after counted %q", id, am[0])
	}
	for _, k := range killed {
		if slices.Contains(counted, k) {
			t.Errorf("%s: killed worker %s counted as healthy after: %q", id, k, am[0])
		}
		if !slices.Contains(counted, k+"-r1") {
			t.Errorf("%s: killed worker %s has no replacement %s-r1 among the healthy remote workers after: %q", id, k, k, am[0])
		}
	}
}

// TestChaosDropoutOnNATSWithoutReassignment switches worker_reassignment
// off: on nats the lost workers keep their claims (remote_task_held), so
// the dropout scenario fails and names the safeguard. The scenario's
// deadline is cut to 4 s (four ack waits) so that the run ends quickly.
func TestChaosDropoutOnNATSWithoutReassignment(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	body := `id: L2_worker_dropout_chaos
category: layer2_orchestration
description: the embedded dropout scenario with a 4s deadline
parameters:
  workers: {base: 8}
  kill_share: {base: 0.5}
  tasks: {base: 40}
  handler_latency_ms: {base: 200}
faults: [{kind: kill_workers}]
safeguards: {expected: [worker_reassignment]}
invariants: [no_lost_intents, no_duplicate_execution, audit_chain_intact]
steady_state: [engine_ready, scheduler_running, workers_full, queue_drained]
deadline: 4s
`
	c.env = append(c.env, "GRACE_CHAOS_SCENARIOS_DIR="+c.scenarios(t, map[string]string{"dropout.yaml": body}))
	r := c.run(t, append(append([]string{}, natsChaosArgs...), "--set", "safeguards.worker_reassignment.enabled=false",
		"chaos", "run", "L2_worker_dropout_chaos", "--json")...)
	var rep chaosNATSReport
	r.decode(t, &rep)
	if r.code != 1 || len(rep.Scenarios) != 1 {
		t.Fatalf("chaos run without worker_reassignment: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	s := rep.Scenarios[0]
	if s.Passed || !strings.Contains(strings.Join(s.Failures, "\n"), "safeguard worker_reassignment did not fire (it is switched off)") {
		t.Fatalf("passed %v, failures %v", s.Passed, s.Failures)
	}
	if s.Records["remote_task_held"] < 1 || s.Records["remote_task_redelivered"] != 0 || s.Records["remote_worker_lost"] < 1 {
		t.Fatalf("the lost workers' claims were not held: records %v", s.Records)
	}
}
