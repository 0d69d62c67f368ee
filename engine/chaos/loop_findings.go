package chaos

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"grace/engine"
	"grace/engine/intent"
)

// unresolved reports whether a finding still stands (no second one is
// opened for the same scenario and safeguard meanwhile).
func unresolved(state string) bool {
	return state == engine.FindingOpen || state == engine.FindingProposed || state == engine.FindingApplied
}

// missingSafeguards returns the expected safeguards that res names as
// missing ("safeguard X did not fire"), with the failure naming each. A
// safeguard that did not fire where the scenario asks for any one of
// several is not missing.
func missingSafeguards(res engine.ChaosResult) (gs []engine.ChaosSafeguardResult, failures []string) {
	for _, g := range res.Safeguards {
		if !g.Expected || g.Fired {
			continue
		}
		for _, f := range res.Failures {
			if strings.HasPrefix(f, "safeguard "+g.Name+" did not fire") {
				gs, failures = append(gs, g), append(failures, f)
				break
			}
		}
	}
	return gs, failures
}

// judgeFindings acts on run's results: an applied fix whose scenario ran
// is verified (passed: the finding goes verified and into the knowledge
// base) or rejected (failed, with the run's failures as the reason); an
// open finding the loop had no fix for is verified when its scenario
// passes (the change was made outside the loop); a missing safeguard with
// no finding standing opens one, with its playbook and remediation.
func (l *Loop) judgeFindings(ctx context.Context, run engine.ChaosRun) error {
	findings, err := l.store.Findings(ctx)
	if err != nil {
		return fmt.Errorf("read findings: %w", err)
	}
	var errs []error
	for _, res := range run.Scenarios {
		for i := range findings {
			f := &findings[i]
			if f.Scenario != res.ID {
				continue
			}
			switch {
			case f.State == engine.FindingApplied && res.Passed:
				errs = append(errs, l.verify(ctx, f, run, fmt.Sprintf("safeguards.%s.enabled: true, proposed as intent %s and applied to the chaos runs' configuration by the loop", f.Safeguard, f.RemediationIntent)))
			case f.State == engine.FindingApplied:
				errs = append(errs, l.update(ctx, f, engine.FindingRejected,
					fmt.Sprintf("verifying run %s failed: %s", run.RunID, strings.Join(res.Failures, "; "))))
			case f.State == engine.FindingOpen && f.RemediationIntent == "" && res.Passed:
				errs = append(errs, l.verify(ctx, f, run, "changed outside the loop (the loop proposed no intent); the playbook "+f.Playbook+" said what to change"))
			}
		}
		gs, failures := missingSafeguards(res)
		for i, g := range gs {
			if standing := findingFor(findings, res.ID, g.Name); standing != nil {
				l.log.Info("chaos loop: safeguard still missing; finding stands", "scenario", res.ID, "safeguard", g.Name, "finding", standing.ID, "state", standing.State)
				continue
			}
			if denied, in := l.deniedWithinHold(ctx, findings, res.ID, g.Name); denied != nil {
				until := denied.UpdatedAt.Add(l.cfg.DeniedHold)
				l.log.Info("chaos loop: safeguard still missing; its remediation was denied, not asking again yet",
					"scenario", res.ID, "safeguard", g.Name, "finding", denied.ID, "intent", in.ID, "until", until)
				l.record(ctx, WhatChaosFindingHeld, run.RunID, res.ID, "held",
					[]string{fmt.Sprintf("%s in %s; remediation %s of finding %s was denied by %s at %s, so the loop does not ask again before %s (chaos.loop.denied_hold %v).",
						failures[i], res.ID, in.ID, denied.ID, orUnknown(in.DecidedBy), denied.UpdatedAt.UTC().Format(time.RFC3339), until.UTC().Format(time.RFC3339), l.cfg.DeniedHold)},
					map[string]any{"finding": denied.ID, "safeguard": g.Name, "intent": in.ID, "until": until.UTC().Format(time.RFC3339)})
				continue
			}
			f, err := l.openFinding(ctx, run, res, g, failures[i])
			if err != nil {
				errs = append(errs, err)
				continue
			}
			findings = append(findings, f)
		}
	}
	return errors.Join(errs...)
}

// deniedWithinHold returns the newest finding for scenario and safeguard
// whose remediation was denied (by governance or an operator) less than
// chaos.loop.denied_hold ago, with its intent; nil when there is none.
// Only a denial holds: a remediation that expired unanswered, failed or
// was shed was never refused, so the loop asks again.
func (l *Loop) deniedWithinHold(ctx context.Context, findings []engine.ChaosFinding, scenario, safeguard string) (*engine.ChaosFinding, intent.Intent) {
	if l.cfg.DeniedHold <= 0 {
		return nil, intent.Intent{}
	}
	now := l.clk.Now()
	var newest *engine.ChaosFinding
	for i := range findings {
		f := &findings[i]
		if f.Scenario != scenario || f.Safeguard != safeguard || f.State != engine.FindingRejected ||
			f.RemediationIntent == "" || now.Sub(f.UpdatedAt) >= l.cfg.DeniedHold {
			continue
		}
		if newest == nil || f.UpdatedAt.After(newest.UpdatedAt) {
			newest = f
		}
	}
	if newest == nil {
		return nil, intent.Intent{}
	}
	in, err := l.gov.Get(ctx, newest.RemediationIntent)
	if err != nil {
		l.log.Error("chaos loop: remediation intent", "finding", newest.ID, "intent", newest.RemediationIntent, "err", err)
		return nil, intent.Intent{}
	}
	if in.State != intent.StateDenied {
		return nil, intent.Intent{}
	}
	return newest, in
}

// findingFor returns the unresolved finding for scenario and safeguard, or nil.
func findingFor(findings []engine.ChaosFinding, scenario, safeguard string) *engine.ChaosFinding {
	for i := range findings {
		if f := &findings[i]; f.Scenario == scenario && f.Safeguard == safeguard && unresolved(f.State) {
			return f
		}
	}
	return nil
}

// newFindingID returns "cf_" and the UTC time and four random bytes in hex.
func newFindingID(now time.Time) string {
	var b [4]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails since Go 1.24
	return "cf_" + now.UTC().Format("20060102T150405") + "_" + hex.EncodeToString(b[:])
}

// openFinding writes the playbook for safeguard g missing from res, saves
// an open finding and, when the playbook has a change to propose, submits
// it through governance.
func (l *Loop) openFinding(ctx context.Context, run engine.ChaosRun, res engine.ChaosResult, g engine.ChaosSafeguardResult, failure string) (engine.ChaosFinding, error) {
	now := l.clk.Now()
	id := newFindingID(now)
	p := newPlaybook(id, now, run.RunID, res, g, failure)
	path, text, err := writePlaybook(l.playbookDir, p)
	if err != nil {
		return engine.ChaosFinding{}, fmt.Errorf("finding for %s in %s: %w", g.Name, res.ID, err)
	}
	f := engine.ChaosFinding{ID: id, Scenario: res.ID, Safeguard: g.Name, RunID: run.RunID, State: engine.FindingOpen,
		CreatedAt: now, UpdatedAt: now, Playbook: path, PlaybookYAML: text,
		Summary: fmt.Sprintf("%s in %s at difficulty %d (run %s)", failure, res.ID, res.Difficulty, run.RunID)}
	if p.What.Action == PlaybookTune {
		f.Summary += "; no switch to flip: the playbook asks an engineer to review " + strings.Join(p.What.Review, ", ")
	}
	if err := l.store.SaveFinding(ctx, f); err != nil {
		return f, fmt.Errorf("save finding %s: %w", id, err)
	}
	l.log.Warn("chaos loop: finding opened", "finding", id, "scenario", res.ID, "safeguard", g.Name, "playbook", path)
	l.record(ctx, WhatChaosFindingOpened, run.RunID, res.ID, engine.FindingOpen,
		[]string{f.Summary, "Playbook " + path + ": " + p.What.Action + "."},
		map[string]any{"finding": id, "safeguard": g.Name, "playbook": path, "action": p.What.Action, "difficulty": res.Difficulty})
	if p.What.Remediation != "" {
		if err := l.remediate(ctx, &f, p); err != nil {
			return f, err
		}
	}
	return f, nil
}

// remediate submits the playbook's change as an intent (modify_config or
// modify_governance) and moves the finding to proposed. A submission that
// fails leaves the finding open with the reason; the loop retries it on
// its next poll (the idempotency key keeps it one intent).
func (l *Loop) remediate(ctx context.Context, f *engine.ChaosFinding, p Playbook) error {
	sub := remediationSubmission(f, p)
	got, err := l.gov.Submit(ctx, sub)
	if err != nil {
		l.log.Error("chaos loop: remediation not submitted", "finding", f.ID, "type", sub.Type, "err", err)
		if strings.Contains(f.Summary, "not submitted") {
			return nil // said once; the loop keeps retrying
		}
		return l.update(ctx, f, engine.FindingOpen, fmt.Sprintf("remediation %s not submitted (the loop retries): %v", sub.Type, err))
	}
	f.RemediationIntent = got.Intent.ID
	l.watching[got.Intent.ID] = f.ID
	l.log.Info("chaos loop: remediation proposed", "finding", f.ID, "intent", got.Intent.ID, "type", sub.Type,
		"tier", got.Intent.Tier, "routed_to", got.Intent.Decision.RoutedTo)
	note := fmt.Sprintf("remediation proposed as %s intent %s (Tier %d, %s)", sub.Type, got.Intent.ID, got.Intent.Tier, got.Intent.Decision.RoutedTo)
	if err := l.update(ctx, f, engine.FindingProposed, note); err != nil {
		return err
	}
	if got.Intent.State.Terminal() {
		return l.settle(ctx, f, got.Intent)
	}
	return nil
}

// update moves f to state, adds note to its summary and saves it.
func (l *Loop) update(ctx context.Context, f *engine.ChaosFinding, state, note string) error {
	f.State = state
	f.UpdatedAt = l.clk.Now()
	if note != "" {
		f.Summary += "; " + note
	}
	if err := l.store.SaveFinding(ctx, *f); err != nil {
		return fmt.Errorf("save finding %s (%s): %w", f.ID, state, err)
	}
	if note != "" {
		l.record(ctx, WhatChaosFinding+state, f.RunID, f.Scenario, state, []string{note},
			map[string]any{"finding": f.ID, "safeguard": f.Safeguard, "remediation_intent": f.RemediationIntent})
	}
	return nil
}

// verify marks f verified by run and adds the fix to the knowledge base.
func (l *Loop) verify(ctx context.Context, f *engine.ChaosFinding, run engine.ChaosRun, fix string) error {
	f.VerifiedBy = run.RunID
	if err := l.update(ctx, f, engine.FindingVerified, fmt.Sprintf("verified: %s passed in run %s", f.Scenario, run.RunID)); err != nil {
		return err
	}
	k := engine.ChaosKnowledge{FindingID: f.ID, Scenario: f.Scenario, Safeguard: f.Safeguard, Fix: fix,
		VerifiedAt: f.UpdatedAt, VerifiedBy: run.RunID}
	if err := l.store.SaveKnowledge(ctx, k); err != nil {
		return fmt.Errorf("save knowledge for finding %s: %w", f.ID, err)
	}
	l.log.Info("chaos loop: fix verified", "finding", f.ID, "scenario", f.Scenario, "safeguard", f.Safeguard, "run", run.RunID)
	return nil
}
