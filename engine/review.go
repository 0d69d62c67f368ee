package engine

import (
	"context"
	"fmt"
	"strings"

	"grace/engine/clarity"
	"grace/engine/intent"
)

// Review marks a finished Tier 1 intent as reviewed after the fact (Tier 1
// runs at once and is listed for review: List with
// intent.Filter{Tier: 1, HasTier: true, Unreviewed: true}). It records
// tier1_reviewed, or tier1_flagged when flag is set (a flag needs a note
// saying why: ErrReasonRequired). operator is required
// (ErrOperatorRequired). An intent that is not Tier 1, not finished, or
// already reviewed gets an error wrapping ErrNotReviewable; of two
// concurrent reviews exactly one wins. Its submitter may not mark it
// reviewed (ErrSelfReview) but may flag it: the flag is on the record and
// the intent stays unreviewed, for another operator to review. It
// returns the updated intent.
func (e *Engine) Review(ctx context.Context, id, operator, note string, flag bool) (intent.Intent, error) {
	id = intent.CanonicalID(id) // typed in another case
	if err := checkDecisionText(operator, "note", note); err != nil {
		return intent.Intent{}, fmt.Errorf("review intent %s: %w", id, err)
	}
	operator, note = strings.TrimSpace(operator), strings.TrimSpace(note)
	switch {
	case operator == "":
		return intent.Intent{}, fmt.Errorf("review intent %s: %w", id, ErrOperatorRequired)
	case flag && note == "":
		return intent.Intent{}, fmt.Errorf("flag intent %s: %w", id, ErrReasonRequired)
	}
	e.decideMu.Lock()
	defer e.decideMu.Unlock()
	in, err := e.store.Get(ctx, id)
	if err != nil {
		return intent.Intent{}, fmt.Errorf("review intent %s: %w", id, err)
	}
	switch {
	case in.Tier != 1:
		return e.guard.mask.intent(in), fmt.Errorf("review intent %s: %w (it is Tier %d)", id, ErrNotReviewable, in.Tier)
	case !in.State.Terminal():
		return e.guard.mask.intent(in), fmt.Errorf("review intent %s: %w (it is still %s)", id, ErrNotReviewable, in.State)
	case in.Reviewed:
		return e.guard.mask.intent(in), fmt.Errorf("review intent %s: %w (already reviewed)", id, ErrNotReviewable)
	case !flag && sameName(operator, in.Actor):
		err := fmt.Errorf("review intent %s: %w (%s submitted it; flagging it with a note is allowed)", id, ErrSelfReview, in.Actor)
		e.refusedReview(ctx, id, operator, note, err)
		return e.guard.mask.intent(in), err
	}
	now := e.clock.Now()
	// Only a flag by its submitter gets here: it goes on the record, and
	// the intent stays on the review list for another operator, or a
	// flag would be the submitter's way of taking its own off the list.
	own := sameName(operator, in.Actor)
	in.Reviewed, in.UpdatedAt = !own, now
	r := reviewRecord(now, in, operator, note, flag)
	if own {
		r.Why = append(r.Why, "Flagged by its own submitter: it stays on the review list until another operator reviews it")
		r.Context["by_submitter"] = true
	}
	if _, err := e.apply(ctx, &intent.Change{Update: &in, Records: []clarity.Record{r}}); err != nil {
		return intent.Intent{}, fmt.Errorf("review intent %s: store review: %w", id, err)
	}
	return e.guard.mask.intent(in), nil
}
