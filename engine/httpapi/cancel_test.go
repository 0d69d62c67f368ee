package httpapi

import (
	"net/http"
	"testing"

	"grace/engine/intent"
)

// TestCancelRoles: an agent cancels its own intents only (another's is
// answered as unknown), a viewer none,
// an operator any; a reason is required; a cancelled intent cannot be
// cancelled again; the canceller on the record is the caller.
func TestCancelRoles(t *testing.T) {
	t.Parallel()
	b := setupReal(t)
	own := b.submit(t, agentB, `{"type":"change_charter"}`)
	theirs := b.submit(t, opAlice, `{"type":"change_charter"}`)

	// Another's intent, as an unknown one: its existence is not told.
	b.do(t, agentB, "POST", "/v1/intents/"+theirs.ID+"/cancel", `{"reason":"mine now"}`).wantError(t, http.StatusNotFound, CodeNotFound)
	b.do(t, agentB, "POST", "/v1/intents/int_01NOSUCHINTENT0000000000/cancel", `{"reason":"r"}`).wantError(t, http.StatusNotFound, CodeNotFound)
	b.do(t, viewVal, "POST", "/v1/intents/"+own.ID+"/cancel", `{"reason":"r"}`).wantError(t, http.StatusForbidden, CodeForbidden)
	b.do(t, opAlice, "POST", "/v1/intents/"+theirs.ID+"/cancel", `{}`).wantError(t, http.StatusUnprocessableEntity, CodeReasonRequired)
	if st := b.state(t, theirs.ID).State; st != intent.StatePendingApproval {
		t.Fatalf("refused cancels changed the intent to %s", st)
	}

	var in intent.Intent
	a := b.do(t, agentB, "POST", "/v1/intents/"+own.ID+"/cancel", `{"reason":"submitted by mistake","operator":"someone.else"}`)
	a.decode(t, &in)
	if a.status != http.StatusOK || in.State != intent.StateCancelled || in.DecidedBy != "agent.builder" {
		t.Fatalf("the agent cancels its own: %d %s", a.status, a.body)
	}
	a = b.do(t, opAlice, "POST", "/v1/intents/"+theirs.ID+"/cancel", `{"reason":"no longer needed"}`)
	a.decode(t, &in)
	if a.status != http.StatusOK || in.State != intent.StateCancelled || in.DecidedBy != "alice" {
		t.Fatalf("alice cancels: %d %s", a.status, a.body)
	}
	b.do(t, opAlice, "POST", "/v1/intents/"+theirs.ID+"/cancel", `{"reason":"again"}`).wantError(t, http.StatusConflict, CodeNotCancellable)
	b.do(t, opAlice, "POST", "/v1/intents/"+theirs.ID+"/approve", `{}`).wantError(t, http.StatusConflict, CodeNotPending)
}
