package httpapi

import (
	"crypto/sha256"
	"net/http"
	"slices"
	"testing"
	"time"

	"grace/engine"
)

// TestSetAccessSwapsTokensAndSaysWhatChanged: after SetAccess a removed
// token is refused and an added one accepted, and the change names each
// identity added, removed or changed (role, token, expiry).
func TestSetAccessSwapsTokensAndSaysWhatChanged(t *testing.T) {
	t.Parallel()
	b := setupIdentities(t)
	h := b.srv.Config.Handler.(*Handler)
	ok := func(token string) {
		t.Helper()
		if a := b.as(t, token, "GET", "/v1/intents", ""); a.status != http.StatusOK {
			t.Fatalf("GET /v1/intents: %d %s", a.status, a.body)
		}
	}
	ok(agentToken)

	exp := time.Date(2099, 1, 31, 0, 0, 0, 0, time.UTC)
	ids := []Identity{
		{Name: "alice", Role: engine.RoleViewer, TokenSHA256: sha256.Sum256([]byte(aliceToken))},              // role changed
		{Name: "val", Role: engine.RoleViewer, TokenSHA256: sha256.Sum256([]byte("tok-val-2")), Expires: exp}, // new token, expiry
		{Name: "bob", Role: engine.RoleOperator, TokenSHA256: sha256.Sum256([]byte("tok-bob"))},               // added
	} // agent.x removed
	c := h.SetAccess(ids, "")
	if !slices.Equal(c.Added, []string{"bob (operator)"}) || !slices.Equal(c.Removed, []string{"agent.x (agent)"}) ||
		!slices.Equal(c.Changed, []string{"alice: role operator → viewer", "val: new token", "val: expires never → 2099-01-31T00:00:00Z"}) ||
		c.Identities != 3 {
		t.Fatalf("change: %+v", c)
	}
	b.as(t, agentToken, "GET", "/v1/intents", "").wantError(t, http.StatusUnauthorized, CodeUnauthorized)
	b.as(t, viewerToken, "GET", "/v1/intents", "").wantError(t, http.StatusUnauthorized, CodeUnauthorized)
	ok("tok-bob")
	b.as(t, aliceToken, "POST", "/v1/intents/x/approve", `{}`).wantError(t, http.StatusForbidden, CodeForbidden)
}
