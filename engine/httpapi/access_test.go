package httpapi

import (
	"context"
	"crypto/sha256"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"grace/engine"
	"grace/engine/intent"
)

// Tokens of the identities the access tests configure.
const (
	aliceToken  = "tok-alice-operator"
	agentToken  = "tok-agent-x"
	viewerToken = "tok-viewer-val"
)

func testIdentities() []Identity {
	return []Identity{
		{Name: "alice", Role: engine.RoleOperator, TokenSHA256: sha256.Sum256([]byte(aliceToken))},
		{Name: "agent.x", Role: engine.RoleAgent, TokenSHA256: sha256.Sum256([]byte(agentToken))},
		{Name: "val", Role: engine.RoleViewer, TokenSHA256: sha256.Sum256([]byte(viewerToken))},
	}
}

// refusalLog is a RefusalRecorder that keeps what it is given.
type refusalLog struct {
	mu   sync.Mutex
	list []engine.Refusal
}

func (l *refusalLog) RecordRefusal(_ context.Context, r engine.Refusal) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.list = append(l.list, r)
	return nil
}

func (l *refusalLog) last() (engine.Refusal, int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.list) == 0 {
		return engine.Refusal{}, 0
	}
	return l.list[len(l.list)-1], len(l.list)
}

// idBundle is a handler with identities over the fake.
type idBundle struct {
	*testBundle
	refusals *refusalLog
}

func setupIdentities(t *testing.T) *idBundle {
	t.Helper()
	api := newFake()
	refusals := &refusalLog{}
	h := NewHandler(api, Options{Identities: testIdentities(), Token: testToken, Refusals: refusals, MaxBodyBytes: 1024})
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	t.Cleanup(h.Close)
	return &idBundle{testBundle: &testBundle{api: api, srv: srv}, refusals: refusals}
}

// as calls with token.
func (b *idBundle) as(t *testing.T, token, method, path, body string, header ...string) answer {
	t.Helper()
	return b.call(t, method, path, body, append([]string{"Authorization", "Bearer " + token}, header...)...)
}

func TestEachRoleIsAllowedOnlyItsCalls(t *testing.T) {
	t.Parallel()
	b := setupIdentities(t)
	var mine, theirs SubmitResponse
	b.as(t, agentToken, "POST", "/v1/intents", `{"type":"change_charter"}`).decode(t, &mine)
	b.as(t, aliceToken, "POST", "/v1/intents", `{"type":"change_charter"}`).decode(t, &theirs)
	if mine.ID == "" || theirs.ID == "" {
		t.Fatal("setup submissions failed")
	}
	type call struct{ method, path, body string }
	calls := map[string]call{
		"submit":     {"POST", "/v1/intents", `{"type":"query_knowledge"}`},
		"route":      {"POST", "/v1/intents/route", `{"type":"query_knowledge"}`},
		"list":       {"GET", "/v1/intents", ""},
		"get own":    {"GET", "/v1/intents/" + mine.ID, ""},
		"get other":  {"GET", "/v1/intents/" + theirs.ID, ""},
		"approve":    {"POST", "/v1/intents/" + theirs.ID + "/approve", `{"reason":"ok"}`},
		"deny":       {"POST", "/v1/intents/" + theirs.ID + "/deny", `{"reason":"no"}`},
		"retry":      {"POST", "/v1/intents/" + theirs.ID + "/retry", `{"reason":"again"}`},
		"review":     {"POST", "/v1/intents/" + mine.ID + "/review", `{}`},
		"narratives": {"GET", "/v1/narratives", ""},
		"story own":  {"GET", "/v1/narratives?intent=" + mine.ID, ""},
		"telemetry":  {"GET", "/v1/telemetry", ""},
		"audit":      {"GET", "/v1/audit/verify", ""},
		"whoami":     {"GET", "/v1/whoami", ""},
		"chaos run":  {"POST", "/v1/chaos/runs", `{}`},
		"chaos get":  {"GET", "/v1/chaos/runs/r1", ""},
		"chaos halt": {"POST", "/v1/chaos/halt", `{}`},
		"scheduler":  {"GET", "/v1/scheduler", ""},
		"pause":      {"POST", "/v1/scheduler/pause", `{"reason":"r"}`},
		"resume":     {"POST", "/v1/scheduler/resume", `{}`},
	}
	refused := map[string][]string{ // per role, the calls answered 403
		"agent":    {"approve", "deny", "retry", "review", "narratives", "telemetry", "audit", "chaos run", "chaos get", "chaos halt", "scheduler", "pause", "resume"},
		"viewer":   {"submit", "approve", "deny", "retry", "review", "chaos run", "chaos halt", "pause", "resume"},
		"operator": nil,
	}
	tokens := map[string]string{"agent": agentToken, "viewer": viewerToken, "operator": aliceToken}
	for _, role := range []string{"agent", "viewer", "operator"} {
		for name, c := range calls {
			if role == "operator" && (name == "approve" || name == "deny") {
				continue // decided below; the fake refuses a second decision
			}
			t.Run(role+" "+name, func(t *testing.T) {
				before := b.api.state()
				_, n := b.refusals.last()
				a := b.as(t, tokens[role], c.method, c.path, c.body)
				if role == "agent" && name == "get other" {
					// Answered as an unknown ID (the existence of others'
					// intents is not told), refused on the record all the same.
					a.wantError(t, http.StatusNotFound, CodeNotFound)
					r, m := b.refusals.last()
					if m != n+1 || r.Status != 404 || r.Code != CodeNotFound || !strings.Contains(r.Reason, "another actor") || r.IntentID != theirs.ID {
						t.Fatalf("hidden refusal not recorded as it should be: %+v (%d → %d)", r, n, m)
					}
					return
				}
				want := contains(refused[role], name)
				if !want {
					if a.status == http.StatusForbidden || a.status == http.StatusUnauthorized {
						t.Fatalf("%s may %s, got %d %s", role, name, a.status, a.body)
					}
					return
				}
				a.wantError(t, http.StatusForbidden, CodeForbidden)
				if after := b.api.state(); after != before {
					t.Fatalf("a refused call changed the engine")
				}
				r, m := b.refusals.last()
				if m != n+1 || r.Status != 403 || r.Code != CodeForbidden || r.Role != role {
					t.Fatalf("refusal not recorded as it should be: %+v (%d → %d)", r, n, m)
				}
			})
		}
	}
	a := b.as(t, aliceToken, "POST", "/v1/intents/"+mine.ID+"/approve", `{"reason":"ok"}`)
	if a.status != http.StatusOK || b.api.lastOp != "alice" {
		t.Fatalf("operator approve: %d %s (operator %q)", a.status, a.body, b.api.lastOp)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func TestUnauthenticatedCallsAreRefusedAndRecorded(t *testing.T) {
	t.Parallel()
	b := setupIdentities(t)
	for _, tc := range []struct{ name, auth, fingerprint string }{
		{"no header", "", ""},
		{"forged token", "Bearer tok-forged", TokenHash("tok-forged")[:12]},
		{"the local token once identities exist", "Bearer " + testToken, TokenHash(testToken)[:12]},
		{"a token's hash instead of the token", "Bearer " + TokenHash(aliceToken), TokenHash(TokenHash(aliceToken))[:12]},
		{"basic scheme", "Basic " + aliceToken, ""},
		{"empty bearer", "Bearer ", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := b.api.state()
			a := b.call(t, "POST", "/v1/intents/in-001/approve", `{}`, "Authorization", tc.auth)
			a.wantError(t, http.StatusUnauthorized, CodeUnauthorized)
			if b.api.state() != before || b.api.calls != 0 {
				t.Fatal("an unauthenticated call reached the engine")
			}
			r, _ := b.refusals.last()
			if r.Status != 401 || r.Who != "" || r.IntentID != "in-001" || r.Action != "POST /v1/intents/{id}/approve" {
				t.Fatalf("refusal = %+v", r)
			}
			if got, _ := r.Details["token_sha256_prefix"].(string); got != tc.fingerprint {
				t.Fatalf("token fingerprint = %q, want %q", got, tc.fingerprint)
			}
			if strings.Contains(strings.ToLower(r.Reason), "tok-") {
				t.Fatal("the refusal record holds the token")
			}
		})
	}
}

func TestConfiguredIdentityIsAlwaysItself(t *testing.T) {
	t.Parallel()
	b := setupIdentities(t)
	// An agent submits as itself, with or without naming itself.
	for _, body := range []string{`{"type":"change_charter"}`, `{"type":"change_charter","actor":"agent.x"}`, `{"type":"change_charter","actor":"AGENT.X"}`} {
		var r SubmitResponse
		a := b.as(t, agentToken, "POST", "/v1/intents", body)
		a.decode(t, &r)
		if a.status != http.StatusAccepted || b.api.intents[r.ID].Actor != "agent.x" {
			t.Fatalf("%s: %d, actor %q", body, a.status, b.api.intents[r.ID].Actor)
		}
	}
	// ...and never as anyone else.
	before := b.api.state()
	a := b.as(t, agentToken, "POST", "/v1/intents", `{"type":"change_charter","actor":"alice"}`)
	if er := a.wantError(t, http.StatusForbidden, CodeActorMismatch); er.Error.Field != "actor" {
		t.Fatalf("field = %q", er.Error.Field)
	}
	if b.api.state() != before {
		t.Fatal("an impersonating submission changed the engine")
	}
	if r, _ := b.refusals.last(); r.Code != CodeActorMismatch || r.Who != "agent.x" {
		t.Fatalf("refusal = %+v", r)
	}
	// An operator's claims about who it is are ignored.
	var p SubmitResponse
	b.as(t, agentToken, "POST", "/v1/intents", `{"type":"change_charter"}`).decode(t, &p)
	a = b.as(t, aliceToken, "POST", "/v1/intents/"+p.ID+"/approve", `{"reason":"r","operator":"bob"}`, OperatorHeader, "carol")
	if a.status != http.StatusOK || b.api.lastOp != "alice" {
		t.Fatalf("approve claiming to be someone else: %d, recorded as %q", a.status, b.api.lastOp)
	}
	// An agent lists only its own intents.
	var list IntentsResponse
	b.as(t, agentToken, "GET", "/v1/intents", "").decode(t, &list)
	for _, in := range list.Intents {
		if in.Actor != "agent.x" {
			t.Fatalf("an agent listed %s's intent %s", in.Actor, in.ID)
		}
	}
	var who WhoAmIResponse
	b.as(t, viewerToken, "GET", "/v1/whoami", "").decode(t, &who)
	if who.Name != "val" || who.Role != engine.RoleViewer || who.Local {
		t.Fatalf("whoami = %+v", who)
	}
}

func TestLocalTokenNamesItsOperator(t *testing.T) {
	t.Parallel()
	b := setup(t, Options{})
	var r SubmitResponse
	b.call(t, "POST", "/v1/intents", `{"type":"change_charter"}`, OperatorHeader, "opal").decode(t, &r)
	if got := b.api.intents[r.ID].Actor; got != "cli:opal" {
		t.Fatalf("actor = %q, want cli:opal", got)
	}
	b.call(t, "POST", "/v1/intents", `{"type":"change_charter"}`).decode(t, &r)
	if got := b.api.intents[r.ID].Actor; got != LocalIdentity {
		t.Fatalf("actor = %q, want %s", got, LocalIdentity)
	}
	var who WhoAmIResponse
	b.call(t, "GET", "/v1/whoami", "").decode(t, &who)
	if who.Name != LocalIdentity || who.Role != engine.RoleOperator || !who.Local {
		t.Fatalf("whoami = %+v", who)
	}
}

func TestReviewAndAuditRoutes(t *testing.T) {
	t.Parallel()
	b := setupIdentities(t)
	var r SubmitResponse
	b.as(t, aliceToken, "POST", "/v1/intents", `{"type":"deploy_model"}`).decode(t, &r)
	a := b.as(t, aliceToken, "POST", "/v1/intents/"+r.ID+"/review", `{"flag":true}`)
	a.wantError(t, http.StatusUnprocessableEntity, CodeReasonRequired)
	a = b.as(t, aliceToken, "POST", "/v1/intents/"+r.ID+"/review", `{"note":"looked at it"}`)
	var in intent.Intent
	a.decode(t, &in)
	if a.status != http.StatusOK || !in.Reviewed || b.api.lastOp != "alice" {
		t.Fatalf("review: %d %s", a.status, a.body)
	}
	b.as(t, aliceToken, "POST", "/v1/intents/"+r.ID+"/review", `{}`).wantError(t, http.StatusConflict, CodeNotReviewable)
	var rep engine.AuditReport
	a = b.as(t, viewerToken, "GET", "/v1/audit/verify", "")
	a.decode(t, &rep)
	if a.status != http.StatusOK || !rep.OK {
		t.Fatalf("audit: %d %s", a.status, a.body)
	}
}
