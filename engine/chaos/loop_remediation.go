package chaos

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"

	"grace/engine"
	"grace/engine/intent"
)

// remediationPriority is the priority of the loop's remediation intents:
// above the load shedding criteria's default cut (priority<5), so a
// loaded engine does not shed the fix.
const remediationPriority = 5

// remediationSubmission is the intent that carries p's change through
// governance. Its payload names the finding, scenario, safeguard, the keys
// to set and the playbook; its context claims the charter's resilience
// priority; its idempotency key makes a retried submission one intent.
func remediationSubmission(f *engine.ChaosFinding, p Playbook) intent.Submission {
	payload, _ := json.Marshal(map[string]any{ // plain maps of strings and bools always encode
		"finding": f.ID, "scenario": f.Scenario, "safeguard": f.Safeguard, "run_id": f.RunID,
		"set": p.What.Set, "playbook": f.Playbook, "reason": p.Why.Failure,
	})
	return intent.Submission{
		Type: p.What.Remediation, Actor: LoopActor, Payload: payload, Priority: remediationPriority,
		Context:        map[string]any{"resilience_impact": true, "chaos_finding": f.ID},
		IdempotencyKey: "chaos-finding-" + f.ID,
	}
}

// overlayOf returns the safeguard switches p sets (keys
// safeguards.<name>.enabled).
func overlayOf(p Playbook) map[string]engine.SafeguardConfig {
	out := map[string]engine.SafeguardConfig{}
	for key, v := range p.What.Set {
		name, ok := strings.CutPrefix(key, "safeguards.")
		if name, ok2 := strings.CutSuffix(name, ".enabled"); ok && ok2 && name != "" {
			out[name] = engine.SafeguardConfig{Enabled: v}
		}
	}
	return out
}

// reconcile looks at the findings: a proposed one whose intent has ended
// is settled; an open one with a change to propose and no intent yet has
// it submitted again. It rebuilds the set of intents the loop watches.
func (l *Loop) reconcile(ctx context.Context) {
	findings, err := l.store.Findings(ctx)
	if err != nil {
		l.log.Error("chaos loop: read findings", "err", err)
		return
	}
	clear(l.watching)
	for i := range findings {
		f := &findings[i]
		switch {
		case f.State == engine.FindingProposed:
			in, err := l.gov.Get(ctx, f.RemediationIntent)
			if err != nil {
				l.log.Error("chaos loop: remediation intent", "finding", f.ID, "intent", f.RemediationIntent, "err", err)
				l.watching[f.RemediationIntent] = f.ID
				continue
			}
			if !in.State.Terminal() {
				l.watching[f.RemediationIntent] = f.ID
				continue
			}
			if err := l.settle(ctx, f, in); err != nil {
				l.log.Error("chaos loop: settle remediation", "finding", f.ID, "err", err)
			}
		case f.State == engine.FindingOpen && f.RemediationIntent == "":
			p, err := ParsePlaybook([]byte(f.PlaybookYAML))
			if err != nil {
				l.log.Error("chaos loop: finding's playbook", "finding", f.ID, "err", err)
				continue
			}
			if p.What.Remediation == "" {
				continue
			}
			if err := l.remediate(ctx, f, p); err != nil {
				l.log.Error("chaos loop: remediation", "finding", f.ID, "err", err)
			}
		}
	}
}

// settle acts on a remediation intent that has ended: completed (let
// through by governance and executed) applies the playbook's switches to
// the configuration the loop's runs use, and to the live engine when it
// can switch safeguards at runtime (finding applied; the next run of the
// scenario verifies); denied, expired, failed or shed rejects the finding
// with the reason.
func (l *Loop) settle(ctx context.Context, f *engine.ChaosFinding, in intent.Intent) error {
	delete(l.watching, in.ID)
	if in.State != intent.StateCompleted {
		why := string(in.State)
		switch {
		case in.DecisionReason != "":
			why += " by " + orUnknown(in.DecidedBy) + ": " + in.DecisionReason
		case in.LastError != "":
			why += ": " + in.LastError
		case len(in.Decision.Reasoning) > 0:
			why += ": " + strings.Join(in.Decision.Reasoning, "; ")
		}
		l.log.Warn("chaos loop: remediation rejected", "finding", f.ID, "intent", in.ID, "state", in.State)
		return l.update(ctx, f, engine.FindingRejected, fmt.Sprintf("remediation %s %s", in.ID, why))
	}
	p, err := ParsePlaybook([]byte(f.PlaybookYAML))
	if err != nil {
		return fmt.Errorf("finding %s: %w", f.ID, err)
	}
	set := overlayOf(p)
	names := make([]string, 0, len(set))
	for name, sc := range set {
		l.overlay[name] = sc
		names = append(names, name)
	}
	sort.Strings(names)
	who := fmt.Sprintf("Tier %d via %s", in.Tier, in.Decision.RoutedTo)
	if in.DecidedBy != "" {
		who += ", approved by " + in.DecidedBy
	}
	note := fmt.Sprintf("remediation %s completed (%s): %s applied to the loop's chaos runs", in.ID, who, strings.Join(names, ", "))
	if sw, ok := l.gov.(SafeguardSwitcher); ok {
		var errs []error
		for _, name := range names {
			errs = append(errs, sw.SetSafeguard(ctx, name, set[name].Enabled, LoopActor, "chaos finding "+f.ID))
		}
		if err := errors.Join(errs...); err != nil {
			note += fmt.Sprintf(" (switching the live engine failed: %v)", err)
		} else {
			note += " and to the live engine"
		}
	} else {
		note += " (the live engine cannot switch safeguards at runtime: config.yaml still needs the change)"
	}
	l.log.Info("chaos loop: remediation applied", "finding", f.ID, "intent", in.ID, "safeguards", names)
	return l.update(ctx, f, engine.FindingApplied, note)
}

// loadOverlay rebuilds the loop's safeguard switches from the stored
// findings: those applied or verified, and those rejected after their
// remediation completed (the change was approved; only its verification
// failed, and dropping it would make the loop propose it again).
func (l *Loop) loadOverlay(ctx context.Context) error {
	findings, err := l.store.Findings(ctx)
	if err != nil {
		return fmt.Errorf("chaos loop: read findings: %w", err)
	}
	for i := len(findings) - 1; i >= 0; i-- { // oldest first: newer fixes win
		f := findings[i]
		switch f.State {
		case engine.FindingApplied, engine.FindingVerified:
		case engine.FindingRejected:
			if f.RemediationIntent == "" {
				continue
			}
			in, err := l.gov.Get(ctx, f.RemediationIntent)
			if err != nil || in.State != intent.StateCompleted {
				continue
			}
		default:
			continue
		}
		p, err := ParsePlaybook([]byte(f.PlaybookYAML))
		if err != nil {
			l.log.Error("chaos loop: finding's playbook", "finding", f.ID, "err", err)
			continue
		}
		for name, sc := range overlayOf(p) {
			l.overlay[name] = sc
		}
	}
	return nil
}

func orUnknown(s string) string {
	if s == "" {
		return "(unknown)"
	}
	return s
}
