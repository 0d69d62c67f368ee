package httpapi

import (
	"context"
	"fmt"

	"grace/engine"
	"grace/engine/intent"
)

var _ engine.OperatorAPI = (*fakeAPI)(nil)

// Review marks an intent reviewed, recording who did it.
func (f *fakeAPI) Review(_ context.Context, id, operator, note string, flag bool) (intent.Intent, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	in, ok := f.intents[id]
	if !ok {
		return intent.Intent{}, fmt.Errorf("review %s: %w", id, engine.ErrNotFound)
	}
	if in.Reviewed {
		return intent.Intent{}, fmt.Errorf("review %s: %w", id, engine.ErrNotReviewable)
	}
	in.Reviewed, in.DecisionReason = true, note
	f.lastOp = operator
	f.intents[id] = in
	return in, nil
}

// VerifyAudit reports an intact chain of as many entries as intents.
func (f *fakeAPI) VerifyAudit(context.Context) (engine.AuditReport, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return engine.AuditReport{OK: true, Entries: int64(len(f.intents)), HeadSeq: int64(len(f.intents))}, nil
}
