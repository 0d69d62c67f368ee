package engine

import (
	"context"
	"errors"
	"fmt"
)

// errNoAuditor is returned by VerifyAudit when the engine was built without
// an Auditor.
var errNoAuditor = errors.New("no audit verifier configured")

// VerifyAudit verifies the audit chain through Deps.Auditor. It reads only
// and may run while the engine writes; a long chain takes a while, so
// callers run it off any loop that must stay responsive. Without an
// Auditor it returns an error.
func (e *Engine) VerifyAudit(ctx context.Context) (AuditReport, error) {
	if e.auditor == nil {
		return AuditReport{}, fmt.Errorf("verify audit chain: %w", errNoAuditor)
	}
	rep, err := e.auditor.VerifyAudit(ctx)
	if err != nil {
		return rep, fmt.Errorf("verify audit chain: %w", err)
	}
	return rep, nil
}
