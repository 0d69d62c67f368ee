package main

import (
	"regexp"
	"strings"
	"testing"
)

// chaosReport is the DESIGN.md shape of chaos run --json.
type chaosReport struct {
	RunID     string `json:"run_id"`
	Scenarios []struct {
		ID         string `json:"id"`
		Category   string `json:"category"`
		Passed     bool   `json:"passed"`
		Difficulty int    `json:"difficulty"`
		DurationMS *int64 `json:"duration_ms"`
		Safeguards []struct {
			Name     string `json:"name"`
			Expected bool   `json:"expected"`
			Fired    bool   `json:"fired"`
		} `json:"safeguards"`
		Invariants *struct {
			Lost                   int  `json:"lost"`
			Duplicated             int  `json:"duplicated"`
			UnauthorizedExecutions int  `json:"unauthorized_executions"`
			AuditIntact            bool `json:"audit_intact"`
		} `json:"invariants"`
		Failures []string `json:"failures"`
	} `json:"scenarios"`
}

func TestCLIChaosRun(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	// chaos.scenarios_dir overrides the embedded cascade with a short
	// deadline (so the run without its safeguard ends quickly) and holds
	// a broken file, which is refused while the others load.
	files := map[string]string{
		"cascade.yaml": `id: L2_event_policy_cascade
category: layer2_orchestration
description: a cascade past policy.max_depth is cut
parameters: {depth: {base: 12}}
faults: [{kind: policy_cascade}]
safeguards: {expected: [policy_cascade_limit]}
invariants: [audit_chain_intact]
steady_state: [engine_ready, queue_drained]
deadline: 1s
`,
		"broken.yaml": "id: Broken\ncategory: layer2_orchestration\ndescription: x\nfaults: [{kind: unplug_datacenter}]\nsafeguards: {expected: [bus_acl]}\n",
	}
	c.env = append(c.env, "GRACE_CHAOS_SCENARIOS_DIR="+c.scenarios(t, files))

	list := c.run(t, "chaos", "list")
	if list.code != 0 || !strings.Contains(list.stdout, "L2_worker_dropout_chaos") ||
		!strings.Contains(list.stderr, "broken.yaml: faults[0].kind: unknown fault") {
		t.Fatalf("chaos list: exit %d\n%s%s", list.code, list.stdout, list.stderr)
	}

	on := c.run(t, "chaos", "run", "L2_event_policy_cascade", "--json")
	var rep chaosReport
	on.decode(t, &rep)
	if on.code != 0 || rep.RunID == "" || len(rep.Scenarios) != 1 {
		t.Fatalf("chaos run: exit %d, %+v\n%s", on.code, rep, on.stderr)
	}
	s := rep.Scenarios[0]
	if !s.Passed || s.Category != "layer2_orchestration" || s.Difficulty != 1 || s.DurationMS == nil || s.Invariants == nil ||
		!s.Invariants.AuditIntact || len(s.Safeguards) == 0 || !s.Safeguards[0].Fired || !s.Safeguards[0].Expected {
		t.Fatalf("chaos run --json: %+v", s)
	}

	off := c.run(t, "--set", "safeguards.policy_cascade_limit.enabled=false", "chaos", "run", "L2_event_policy_cascade", "--json")
	rep = chaosReport{}
	off.decode(t, &rep)
	if off.code != 1 || len(rep.Scenarios) != 1 || rep.Scenarios[0].Passed ||
		!strings.Contains(strings.Join(rep.Scenarios[0].Failures, "\n"), "safeguard policy_cascade_limit did not fire") {
		t.Fatalf("chaos run without the safeguard: exit %d, %+v\n%s", off.code, rep, off.stderr)
	}
	if !strings.Contains(off.stderr, "1 of 1 scenarios failed") {
		t.Fatalf("stderr %q", off.stderr)
	}
	// The verdict's line for the safeguard says it was off, not only
	// that it did not fire.
	off = c.run(t, "--set", "safeguards.policy_cascade_limit.enabled=false", "chaos", "run", "L2_event_policy_cascade")
	if off.code != 1 || !regexp.MustCompile(`safeguard policy_cascade_limit +expected did not fire \(switched off\)`).MatchString(off.stdout) {
		t.Fatalf("chaos run without the safeguard: exit %d\n%s", off.code, off.stdout)
	}
}
