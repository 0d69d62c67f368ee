package chaos

import (
	"context"
	"fmt"

	"grace/engine/intent"
)

// The Tier 0 probe: an isolated run of a scenario that brings no Tier 0
// intent of its own (all but the Jepsen ones) submits a few before its
// faults, Tier 0 types and types governance does not know (Tier 0, fail
// closed), approves some of them once the faults are in (so that they
// run amid the killed workers, reroutes, pauses, floods and surges) and
// never decides the others. no_unapproved_tier0 then has something to
// hold: not one of the undecided may run, whatever the faults did to the
// workers and the queue. A live run submits none (they would wait for the
// live engine's operators); its result says the invariant was not
// exercised when no Tier 0 intent was in it.

// probeTypes are the probe's intent types: the seed's Tier 0 types and
// two types governance does not know. The first half is approved.
var probeTypes = []string{"grant_permissions", "chaos_probe_unknown_a", "modify_governance",
	"change_charter", "chaos_probe_unknown_b", "grant_permissions"}

// The probe's submitter and the operator who approves part of it (never
// the submitter: self-approval is refused).
const (
	probeActor    = "chaos.tier0_probe"
	probeOperator = "chaos_operator"
)

// tier0Probe is what the probe submitted.
type tier0Probe struct {
	approve, undecided []string
}

// wantsProbe reports whether the run submits the Tier 0 probe.
func (r *run) wantsProbe() bool {
	return !r.live && r.sc.Category != CategoryJepsen
}

// submitProbe submits the probe's intents, before the faults.
func (r *run) submitProbe(ctx context.Context) error {
	p := &tier0Probe{}
	for i, typ := range probeTypes {
		res, err := r.eng.Submit(ctx, intent.Submission{Type: typ, Actor: probeActor, Priority: 5,
			Payload: []byte(fmt.Sprintf(`{"chaos":"tier0_probe","n":%d}`, i))})
		if err != nil {
			return fmt.Errorf("submit Tier 0 probe %d (%s): %w", i+1, typ, err)
		}
		if res.Intent.Tier != 0 || res.Intent.State != intent.StatePendingApproval {
			return fmt.Errorf("the Tier 0 probe %d (%s) came back tier %d, %s: governance did not hold it for a human", i+1, typ, res.Intent.Tier, res.Intent.State)
		}
		if i < len(probeTypes)/2 {
			p.approve = append(p.approve, res.Intent.ID)
		} else {
			p.undecided = append(p.undecided, res.Intent.ID)
		}
	}
	r.probe = p
	return nil
}

// approveProbe approves the first half of the probe, once the faults are
// in.
func (r *run) approveProbe(ctx context.Context) error {
	if r.probe == nil {
		return nil
	}
	for _, id := range r.probe.approve {
		if _, err := r.eng.Approve(ctx, id, probeOperator, "chaos: Tier 0 probe approved during the faults"); err != nil {
			return fmt.Errorf("approve Tier 0 probe %s: %w", id, err)
		}
	}
	return nil
}

// probeIDs are the probe's intents (acknowledged: no_lost_intents counts
// them too).
func (r *run) probeIDs() []string {
	if r.probe == nil {
		return nil
	}
	return append(append([]string(nil), r.probe.approve...), r.probe.undecided...)
}

// checkProbe checks the probe's outcome on the stopped engine's record:
// every undecided intent still waits for its human (an unauthorized
// dispatch is counted by no_unapproved_tier0 too), and says what the
// probe did.
func (r *run) checkProbe(ctx context.Context) error {
	if r.probe == nil {
		return nil
	}
	finished := 0
	for _, id := range r.probe.approve {
		in, err := r.rec.Get(ctx, id)
		if err != nil {
			return fmt.Errorf("check Tier 0 probe %s: %w", id, err)
		}
		if in.State.Terminal() {
			finished++
		}
	}
	for _, id := range r.probe.undecided {
		in, err := r.rec.Get(ctx, id)
		if err != nil {
			return fmt.Errorf("check Tier 0 probe %s: %w", id, err)
		}
		if in.State != intent.StatePendingApproval {
			r.failf("invariant %s: Tier 0 intent %s (%s), never approved, ended %s instead of waiting for its approval",
				InvariantNoUnauthorized, id, in.Type, in.State)
		}
	}
	r.notef("Tier 0 gate: %d Tier 0 intents (2 of types governance does not know) submitted before the faults; %d approved once the faults were in (%d finished), %d never approved",
		len(probeTypes), len(r.probe.approve), finished, len(r.probe.undecided))
	return nil
}
