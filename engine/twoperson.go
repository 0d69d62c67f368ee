package engine

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"grace/engine/clarity"
	"grace/engine/intent"
)

// Errors of the approval rules. Wrapped errors keep them matchable with
// errors.Is.
var (
	// ErrSelfApproval: the operator approving an intent is the actor that
	// submitted it. Nobody approves their own intent.
	ErrSelfApproval = errors.New("the intent's submitter may not approve it")
	// ErrAlreadyApproved: an operator approving, a second time, an intent
	// under the two-person rule; the second approval must come from
	// another operator.
	ErrAlreadyApproved = errors.New("this operator has already approved the intent; the two-person rule needs a second, different operator")
)

// WhatApprovalRecorded is the record of the first of two approvals of an
// intent under the two-person rule: the intent stays pending.
const WhatApprovalRecorded = "intent_approval_recorded"

// twoPerson is the two-person rule: the intent types (governance.
// two_person_types) that need approvals from two different operators.
// Types are compared in normal form (normType), so that "Change-Charter"
// cannot slip past a rule on "change_charter" as an unknown Tier 0 type
// needing one approval.
type twoPerson map[string]bool

func newTwoPerson(types []string) twoPerson {
	tp := twoPerson{}
	for _, t := range types {
		if n := normType(t); n != "" {
			tp[n] = true
		}
	}
	return tp
}

// applies reports whether intents of typ need two approvals.
func (tp twoPerson) applies(typ string) bool { return tp[normType(typ)] }

// normType folds case and separators: "Change-Charter", "change.charter"
// and " change_charter " are all "change_charter".
func normType(t string) string {
	return strings.Map(func(r rune) rune {
		switch r {
		case '-', '.', ':', ' ', '\t':
			return '_'
		}
		return r
	}, strings.ToLower(strings.TrimSpace(t)))
}

// validateTwoPerson checks governance.two_person_types: each an intent type
// (not empty, listed once) that is Tier 0, because only Tier 0 intents wait
// for approval at all. A type in no tier is Tier 0 and may be listed.
func validateTwoPerson(types []string, tiers map[string][]string) []error {
	var v problems
	seen := map[string]string{}
	for i, t := range types {
		key := fmt.Sprintf("governance.two_person_types[%d]", i)
		n := normType(t)
		if n == "" {
			v.add("%s is empty; name an intent type such as change_charter", key)
			continue
		}
		if prev, dup := seen[n]; dup {
			v.add("%s (%q) is listed twice (as %q too)", key, t, prev)
			continue
		}
		seen[n] = t
		for _, tierKey := range sortedKeys(tiers) {
			if tierKey == "tier_0" {
				continue
			}
			for _, typ := range tiers[tierKey] {
				if normType(typ) == n {
					v.add("%s (%q) is in governance.tiers.%s: only Tier 0 intents wait for approval, so the two-person rule cannot apply to it", key, t, tierKey)
				}
			}
		}
	}
	return v
}

// sameName compares operator and actor names as the rules do: trimmed,
// ignoring case.
func sameName(a, b string) bool {
	return strings.EqualFold(strings.TrimSpace(a), strings.TrimSpace(b))
}

// checkApproval applies the approval rules to a pending intent before an
// approval is written; decideMu is held. Nobody approves an intent they
// submitted (ErrSelfApproval). Under the two-person rule the first
// approval is written at once as intent_approval_recorded, the intent
// stays pending with DecidedBy naming that first operator, and handled is
// true; an approval by that same operator again is ErrAlreadyApproved.
// Otherwise handled is false and first names the operator who approved
// before (empty when the rule does not apply), for the final record.
func (e *Engine) checkApproval(ctx context.Context, in intent.Intent, operator, reason string, now time.Time) (out intent.Intent, handled bool, first string, err error) {
	if sameName(operator, in.Actor) {
		return in, true, "", fmt.Errorf("approve intent %s: %w (%s submitted it)", in.ID, ErrSelfApproval, in.Actor)
	}
	if !e.guard.twoPerson.applies(in.Type) {
		return in, false, "", nil
	}
	prior := strings.TrimSpace(in.DecidedBy)
	if prior == actorHub { // a hub-routed intent sent back for approval: no operator has approved it
		prior = ""
	}
	switch {
	case prior != "" && sameName(prior, operator):
		return in, true, "", fmt.Errorf("approve intent %s: %w (%s approved it already)", in.ID, ErrAlreadyApproved, prior)
	case prior != "":
		return in, false, prior, nil
	}
	in.DecidedBy, in.DecisionReason, in.UpdatedAt = operator, reason, now
	r := approvalRecordedRecord(now, in)
	if _, err := e.apply(ctx, &intent.Change{Update: &in, Records: []clarity.Record{r}}); err != nil {
		return intent.Intent{}, true, "", fmt.Errorf("approve intent %s: store first approval: %w", in.ID, err)
	}
	return in, true, "", nil
}

// approvalRecordedRecord narrates the first of two approvals.
func approvalRecordedRecord(now time.Time, in intent.Intent) clarity.Record {
	why := []string{
		fmt.Sprintf("Operator %s approved %s (Tier %d): approval 1 of 2", in.DecidedBy, in.Type, in.Tier),
		fmt.Sprintf("%s is under the two-person rule (governance.two_person_types): it runs only once a second, different operator approves", in.Type),
	}
	if in.DecisionReason != "" {
		why = append(why, "Reason: "+in.DecisionReason)
	}
	r := rec(now, in.DecidedBy, WhatApprovalRecorded, whereApprovals, "two_person_rule", "approval_recorded", in.ID, why,
		map[string]any{"type": in.Type, "approved_by": in.DecidedBy, "reason": in.DecisionReason, "approvals": 1, "approvals_needed": 2})
	r.Risk = 0.5
	return r
}

// noteSecondApproval adds the first approver to the record of the
// approval that completes the two-person rule.
func noteSecondApproval(r *clarity.Record, first string) {
	if first == "" {
		return
	}
	r.Why = append(r.Why, fmt.Sprintf("Second of two approvals (two-person rule): %s approved first", first))
	r.Context["approvers"] = []string{first, r.Who}
}
