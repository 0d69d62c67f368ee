package chaos_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"grace/engine"
	"grace/engine/chaos"
	"grace/engine/intent"
)

// finding returns the only finding, failing unless there is exactly one
// in state.
func (b *loopBundle) onlyFinding(t *testing.T, state string) engine.ChaosFinding {
	t.Helper()
	fs := b.store.findingList(t)
	if len(fs) != 1 || fs[0].State != state {
		t.Fatalf("findings %+v, want one %s", fs, state)
	}
	return fs[0]
}

func (b *loopBundle) waitFinding(t *testing.T, id, state string) engine.ChaosFinding {
	t.Helper()
	var f engine.ChaosFinding
	loopWait(t, "finding "+id+" "+state, func() bool {
		for _, x := range b.store.findingList(t) {
			if x.ID == id {
				f = x
				return x.State == state
			}
		}
		return false
	})
	return f
}

func TestLoopMissingSafeguardIsFixedThroughGovernanceAndVerified(t *testing.T) {
	t.Parallel()
	const id, g = "L2_HTM_queue_flood_stress", engine.SafeguardRateLimit
	b := setupLoop(t, loopLibrary(id), loopTime(2026, 3, 10, 7, 0))
	b.runner.verdict = loopNeeds(g, true) // fails while htm_rate_limit is off
	b.start(t)

	run1 := b.nextRun(t) // 08:00
	if len(run1.overlay) != 0 {
		t.Fatalf("first run had overlay %v, want none", run1.overlay)
	}
	f := b.onlyFinding(t, engine.FindingProposed)
	if f.Scenario != id || f.Safeguard != g || f.RunID != "run_1" || !strings.Contains(f.Summary, "did not fire (it is switched off)") {
		t.Fatalf("finding %+v", f)
	}

	// The playbook: a YAML file in <data>/chaos/playbooks, the same text
	// as the finding's, saying what, why and how to verify.
	want := filepath.Join(b.dir, "chaos", "playbooks", f.ID+".yaml")
	text, err := os.ReadFile(want)
	if err != nil || f.Playbook != want || string(text) != f.PlaybookYAML {
		t.Fatalf("playbook %s (finding says %s): %v", want, f.Playbook, err)
	}
	p, err := chaos.ParsePlaybook(text)
	if err != nil {
		t.Fatal(err)
	}
	if p.Finding != f.ID || p.Scenario != id || p.Safeguard != g || p.What.Action != chaos.PlaybookEnable ||
		!p.What.Set["safeguards.htm_rate_limit.enabled"] || len(p.What.Set) != 1 || p.What.Remediation != chaos.IntentModifyConfig {
		t.Fatalf("playbook what: %+v", p)
	}
	if p.Why.RunID != "run_1" || p.Why.Failure != "safeguard htm_rate_limit did not fire (it is switched off)" ||
		!strings.Contains(p.Why.Safeguard, "rate limiting") || p.Verify.Scenario != id || !strings.Contains(p.Verify.Command, "grace chaos run "+id) {
		t.Fatalf("playbook why/verify: %+v %+v", p.Why, p.Verify)
	}

	// The remediation: a modify_config intent (Tier 1) by the loop.
	subs := b.gov.submissions()
	if len(subs) != 1 {
		t.Fatalf("%d submissions, want 1", len(subs))
	}
	sub := subs[0]
	var payload struct {
		Finding string          `json:"finding"`
		Set     map[string]bool `json:"set"`
	}
	if err := json.Unmarshal(sub.Payload, &payload); err != nil {
		t.Fatal(err)
	}
	if sub.Type != chaos.IntentModifyConfig || sub.Actor != chaos.LoopActor || payload.Finding != f.ID ||
		!payload.Set["safeguards.htm_rate_limit.enabled"] || f.RemediationIntent != "int_1" {
		t.Fatalf("submission %+v payload %+v, finding's intent %q", sub, payload, f.RemediationIntent)
	}
	if tier, _ := b.gov.router.Tier(sub.Type); tier != 1 {
		t.Fatalf("%s is Tier %d, want 1", sub.Type, tier)
	}

	// While the fix is proposed, the scenario fails again: no second
	// finding, no second intent, still no overlay.
	run2 := b.nextRun(t)
	if len(run2.overlay) != 0 || len(b.store.findingList(t)) != 1 || len(b.gov.submissions()) != 1 {
		t.Fatalf("second failing run: overlay %v, %d findings, %d submissions", run2.overlay, len(b.store.findingList(t)), len(b.gov.submissions()))
	}

	// Governance lets it through and it executes: the loop applies the
	// switch to its runs' configuration.
	b.gov.finish(t, f.RemediationIntent, intent.StateCompleted, "", "")
	f = b.waitFinding(t, f.ID, engine.FindingApplied)
	if !strings.Contains(f.Summary, "live engine cannot switch") {
		t.Errorf("applied finding does not say the live engine is unchanged: %s", f.Summary)
	}
	run3 := b.nextRun(t)
	if !run3.overlay[g].Enabled {
		t.Fatalf("the run after the fix has overlay %v, want %s on", run3.overlay, g)
	}
	f = b.onlyFinding(t, engine.FindingVerified)
	if f.VerifiedBy != "run_3" {
		t.Fatalf("verified by %q, want run_3", f.VerifiedBy)
	}
	ks, _ := b.store.Knowledge(t.Context())
	if len(ks) != 1 || ks[0].FindingID != f.ID || ks[0].VerifiedBy != "run_3" || ks[0].Safeguard != g ||
		!strings.Contains(ks[0].Fix, "safeguards.htm_rate_limit.enabled: true") {
		t.Fatalf("knowledge %+v", ks)
	}
	whats := strings.Join(b.rec.whats(), " ")
	for _, w := range []string{"chaos_finding_opened", "chaos_finding_proposed", "chaos_finding_applied", "chaos_finding_verified"} {
		if !strings.Contains(whats, w) {
			t.Errorf("the record lacks %s: %s", w, whats)
		}
	}

	// A restart keeps the fix in the runs' configuration.
	b.loop.Stop()
	b.start(t)
	if run4 := b.nextRun(t); !run4.overlay[g].Enabled {
		t.Fatalf("after a restart the overlay is %v, want %s on", run4.overlay, g)
	}
}

func TestLoopGovernanceFixDeniedIsRejected(t *testing.T) {
	t.Parallel()
	// bus_acl is a permission boundary: its fix is modify_governance,
	// Tier 0, and waits for a human.
	const id, g = "DIRT_acl_flood", "bus_acl"
	b := setupLoop(t, loopLibrary(id), loopTime(2026, 3, 10, 7, 0))
	b.runner.verdict = loopNeeds(g, true)
	b.start(t)

	b.nextRun(t)
	f := b.onlyFinding(t, engine.FindingProposed)
	subs := b.gov.submissions()
	if len(subs) != 1 || subs[0].Type != chaos.IntentModifyGovernance {
		t.Fatalf("submissions %+v, want one modify_governance", subs)
	}
	if in, _ := b.gov.Get(t.Context(), f.RemediationIntent); in.Tier != 0 || in.State != intent.StatePendingApproval {
		t.Fatalf("remediation intent %+v, want Tier 0 pending approval", in)
	}
	b.gov.finish(t, f.RemediationIntent, intent.StateDenied, "alice", "the ACL stays off during the migration")
	f = b.waitFinding(t, f.ID, engine.FindingRejected)
	if !strings.Contains(f.Summary, "denied by alice: the ACL stays off during the migration") {
		t.Fatalf("rejected finding does not say why: %s", f.Summary)
	}
	if c := b.nextRun(t); len(c.overlay) != 0 {
		t.Fatalf("a denied fix reached the runs: overlay %v", c.overlay)
	}
}

// TestLoopDoesNotAskAgainWithinTheDeniedHold denies the loop's fix: the
// failing runs that follow open no finding and submit nothing (a held
// record says why) until chaos.loop.denied_hold has passed; then the loop
// proposes again.
func TestLoopDoesNotAskAgainWithinTheDeniedHold(t *testing.T) {
	t.Parallel()
	const id, g = "DIRT_acl_flood", "bus_acl"
	b := setupLoop(t, loopLibrary(id), loopTime(2026, 3, 10, 7, 0))
	b.cfg.DeniedHold = 30 * time.Hour
	b.runner.verdict = loopNeeds(g, true)
	b.start(t)

	b.nextRun(t)
	f := b.onlyFinding(t, engine.FindingProposed)
	b.gov.finish(t, f.RemediationIntent, intent.StateDenied, "alice", "not during the migration")
	f = b.waitFinding(t, f.ID, engine.FindingRejected)
	deniedAt := b.clk.Now()

	held := 0
	for b.clk.Now().Sub(deniedAt) < b.cfg.DeniedHold-6*time.Hour {
		b.nextRun(t)
		held++
		if subs := b.gov.submissions(); len(subs) != 1 {
			t.Fatalf("run %d after the denial: %d submissions, want still 1", held, len(subs))
		}
		if fs, err := b.store.Findings(t.Context()); err != nil || len(fs) != 1 {
			t.Fatalf("run %d after the denial: findings %+v, %v; want only the rejected one", held, fs, err)
		}
	}
	if got := strings.Count(loopJoined(b.rec.whats()), chaos.WhatChaosFindingHeld); got != held {
		t.Fatalf("%d held records for %d held runs: %v", got, held, b.rec.whats())
	}

	for len(b.gov.submissions()) == 1 {
		if b.clk.Now().Sub(deniedAt) > b.cfg.DeniedHold+24*time.Hour {
			t.Fatalf("no new proposal a day after the hold ended")
		}
		b.nextRun(t)
	}
	if b.clk.Now().Sub(f.UpdatedAt) < b.cfg.DeniedHold {
		t.Fatalf("asked again %v after the denial, before the hold of %v", b.clk.Now().Sub(f.UpdatedAt), b.cfg.DeniedHold)
	}
	if subs := b.gov.submissions(); subs[1].Type != chaos.IntentModifyGovernance {
		t.Fatalf("second submission %+v, want modify_governance", subs[1])
	}
}

func TestLoopFixThatDoesNotWorkIsRejectedAndBecomesATask(t *testing.T) {
	t.Parallel()
	const id, g = "L2_worker_dropout_chaos", engine.SafeguardWorkerReassignment
	b := setupLoop(t, loopLibrary(id), loopTime(2026, 3, 10, 17, 0))
	b.runner.verdict = loopNeeds(g, false) // does not fire even when on
	b.start(t)

	b.nextRun(t)
	f := b.onlyFinding(t, engine.FindingProposed)
	b.gov.finish(t, f.RemediationIntent, intent.StateCompleted, "", "")
	b.waitFinding(t, f.ID, engine.FindingApplied)

	c := b.nextRun(t) // the verifying run: on, and still no reassignment
	if !c.overlay[g].Enabled {
		t.Fatalf("verifying run overlay %v", c.overlay)
	}
	fs := b.store.findingList(t)
	if len(fs) != 2 {
		t.Fatalf("findings %+v, want the rejected one and a new one", fs)
	}
	var rejected, task engine.ChaosFinding
	for _, x := range fs {
		if x.ID == f.ID {
			rejected = x
		} else {
			task = x
		}
	}
	if rejected.State != engine.FindingRejected || !strings.Contains(rejected.Summary, "verifying run run_2 failed: safeguard worker_reassignment did not fire (it is on)") {
		t.Fatalf("the fix that did not work: %+v", rejected)
	}
	// The new finding: the safeguard was on, so no switch to propose; the
	// playbook lists the keys that tune it and the evidence.
	p, err := chaos.ParsePlaybook([]byte(task.PlaybookYAML))
	if err != nil {
		t.Fatal(err)
	}
	if task.State != engine.FindingOpen || task.RemediationIntent != "" || p.What.Action != chaos.PlaybookTune ||
		len(p.What.Set) != 0 || !strings.Contains(strings.Join(p.What.Review, ","), "workers.heartbeat_misses") ||
		!strings.Contains(strings.Join(p.What.Evidence, "\n"), "5000 rejected") {
		t.Fatalf("tuning finding %+v playbook %+v", task, p)
	}
	if n := len(b.gov.submissions()); n != 1 {
		t.Fatalf("%d submissions, want only the first fix's", n)
	}
	// The approved switch stays in the runs' configuration.
	if c := b.nextRun(t); !c.overlay[g].Enabled {
		t.Fatalf("overlay after the rejection %v, want %s still on", c.overlay, g)
	}
}

func TestLoopRetriesARemediationItCouldNotSubmit(t *testing.T) {
	t.Parallel()
	const id, g = "L2_trigger_mesh_storm", engine.SafeguardMeshBackpressure
	b := setupLoop(t, loopLibrary(id), loopTime(2026, 3, 10, 11, 0))
	b.runner.verdict = loopNeeds(g, true)
	b.gov.refuse = engine.ErrQueueFull
	b.start(t)

	b.nextRun(t)
	f := b.onlyFinding(t, engine.FindingOpen)
	if !strings.Contains(f.Summary, "not submitted") {
		t.Fatalf("finding does not say the remediation was not submitted: %s", f.Summary)
	}
	b.gov.mu.Lock()
	b.gov.refuse = nil
	b.gov.mu.Unlock()
	b.clk.Advance(chaos.LoopPollEvery)
	f = b.waitFinding(t, f.ID, engine.FindingProposed)
	if f.RemediationIntent == "" || len(b.gov.submissions()) != 1 {
		t.Fatalf("after the retry: finding %+v, %d submissions", f, len(b.gov.submissions()))
	}
}
