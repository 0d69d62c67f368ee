package httpapi

import (
	"bufio"
	"context"
	"crypto/sha256"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"grace/engine"
	"grace/engine/clock"
)

// The identities of the expiry tests and the instant the agent's and
// bob's tokens expire.
const (
	builderToken = "tok-agent-builder"
	bobToken     = "tok-bob-operator"
)

var expiryInstant = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)

// expiryBundle is a handler over the fake with identities, some expiring,
// and a fake clock.
type expiryBundle struct {
	*idBundle
	clock *clock.Fake
}

// setupExpiry starts the clock at start. alice never expires; agent.builder
// and bob expire at expiryInstant; val an hour later.
func setupExpiry(t *testing.T, start time.Time) *expiryBundle {
	t.Helper()
	ids := []Identity{
		{Name: "alice", Role: engine.RoleOperator, TokenSHA256: sha256.Sum256([]byte(aliceToken))},
		{Name: "agent.builder", Role: engine.RoleAgent, TokenSHA256: sha256.Sum256([]byte(builderToken)), Expires: expiryInstant},
		{Name: "bob", Role: engine.RoleOperator, TokenSHA256: sha256.Sum256([]byte(bobToken)), Expires: expiryInstant},
		{Name: "val", Role: engine.RoleViewer, TokenSHA256: sha256.Sum256([]byte(viewerToken)), Expires: expiryInstant.Add(time.Hour)},
	}
	api := newFake()
	refusals := &refusalLog{}
	clk := clock.NewFake(start)
	h := NewHandler(api, Options{Identities: ids, Refusals: refusals, Clock: clk})
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	t.Cleanup(h.Close)
	return &expiryBundle{idBundle: &idBundle{testBundle: &testBundle{api: api, srv: srv}, refusals: refusals}, clock: clk}
}

// wantExpired checks a token_expired answer for name and its refusal
// record, and that the fake saw no call that could change it.
func (b *expiryBundle) wantExpired(t *testing.T, token, name, role, method, path, body, action string) {
	t.Helper()
	before, calls := b.api.state(), b.api.calls
	_, n := b.refusals.last()
	er := b.as(t, token, method, path, body).wantError(t, http.StatusUnauthorized, CodeTokenExpired)
	want := "token of " + name + " expired at 2026-11-01T00:00:00Z; issue a new one with grace token new"
	if er.Error.Message != want || er.Error.Field != "" {
		t.Errorf("%s %s: error %+v, want message %q", method, path, er.Error, want)
	}
	if after := b.api.state(); after != before || b.api.calls != calls {
		t.Errorf("%s %s with an expired token changed the engine:\n%s\n%s", method, path, before, after)
	}
	rf, m := b.refusals.last()
	wantID := ""
	if strings.Contains(action, "{id}") {
		wantID = strings.Split(path, "/")[3] // /v1/intents/ID/…
	}
	if m != n+1 || rf.Who != name || rf.Role != role || rf.Code != CodeTokenExpired || rf.Status != http.StatusUnauthorized ||
		rf.Action != action || rf.Details["expired_at"] != "2026-11-01T00:00:00Z" || rf.IntentID != wantID {
		t.Errorf("%s %s: refusal record %+v (%d records, want %d)", method, path, rf, m, n+1)
	}
}

func TestTokenExpiresAtItsInstant(t *testing.T) {
	t.Parallel()
	b := setupExpiry(t, expiryInstant.Add(-time.Minute))
	var pending SubmitResponse
	b.as(t, builderToken, "POST", "/v1/intents", `{"type":"change_charter"}`).decode(t, &pending)
	if pending.ID == "" || pending.State != "pending_approval" {
		t.Fatalf("before the expiry, agent.builder's submission: %+v", pending)
	}
	if a := b.as(t, bobToken, "GET", "/v1/intents/"+pending.ID, ""); a.status != http.StatusOK {
		t.Fatalf("before the expiry, bob's read: %d %s", a.status, a.body)
	}

	b.clock.Advance(time.Minute) // exactly the instant: refused from here on
	b.wantExpired(t, builderToken, "agent.builder", engine.RoleAgent, "POST", "/v1/intents", `{"type":"query_knowledge"}`, "POST /v1/intents")
	b.wantExpired(t, bobToken, "bob", engine.RoleOperator, "POST", "/v1/intents/"+pending.ID+"/approve", `{"reason":"late"}`,
		"POST /v1/intents/{id}/approve")
	b.wantExpired(t, builderToken, "agent.builder", engine.RoleAgent, "GET", "/v1/intents", "", "GET /v1/intents")
	b.wantExpired(t, builderToken, "agent.builder", engine.RoleAgent, "GET", "/v1/no-such-route", "", "GET /v1/no-such-route")
	b.wantExpired(t, builderToken, "agent.builder", engine.RoleAgent, "GET", "/v1/events", "", "GET /v1/events")
	b.wantExpired(t, builderToken, "agent.builder", engine.RoleAgent, "GET", "/./healthz", "", "GET /./healthz")

	a := b.as(t, builderToken, "GET", "/v1/whoami", "")
	if got := a.header.Get("WWW-Authenticate"); !strings.Contains(got, `error="invalid_token"`) ||
		!strings.Contains(got, "agent.builder expired at 2026-11-01T00:00:00Z") {
		t.Errorf("WWW-Authenticate = %q, want an invalid_token error naming the identity and the instant", got)
	}
	if a := b.as(t, builderToken, "GET", "/healthz", ""); a.status != http.StatusOK {
		t.Errorf("healthz needs no token, expired or not: %d %s", a.status, a.body)
	}
	if a := b.as(t, builderToken, "POST", "/healthz", ""); a.status != http.StatusMethodNotAllowed {
		t.Errorf("POST /healthz is a 405 whatever the token: %d %s", a.status, a.body)
	}

	// Others are unaffected: alice never expires, val an hour later.
	if got, _ := b.api.Get(t.Context(), pending.ID); got.State != "pending_approval" {
		t.Fatalf("bob's expired approval reached the intent: %s", got.State)
	}
	if a := b.as(t, aliceToken, "POST", "/v1/intents/"+pending.ID+"/approve", `{"reason":"ok"}`); a.status != http.StatusOK {
		t.Fatalf("alice's approval: %d %s", a.status, a.body)
	}
	if a := b.as(t, viewerToken, "GET", "/v1/intents", ""); a.status != http.StatusOK {
		t.Fatalf("val before its own expiry: %d %s", a.status, a.body)
	}

	b.clock.Advance(time.Hour) // and after it
	b.wantExpired(t, builderToken, "agent.builder", engine.RoleAgent, "POST", "/v1/intents", `{"type":"query_knowledge"}`, "POST /v1/intents")
	if a := b.as(t, viewerToken, "GET", "/v1/intents", ""); a.status != http.StatusUnauthorized {
		t.Fatalf("val after its expiry: %d %s", a.status, a.body)
	}
	if a := b.as(t, aliceToken, "GET", "/v1/intents", ""); a.status != http.StatusOK {
		t.Fatalf("alice an hour on: %d %s", a.status, a.body)
	}
}

// TestEventStreamEndsAtExpiry: a stream opened before the expiry ends
// when the clock reaches it, and cannot be opened again; a stream of an
// identity that does not expire goes on.
func TestEventStreamEndsAtExpiry(t *testing.T) {
	t.Parallel()
	b := setupExpiry(t, expiryInstant.Add(-time.Minute))
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	agent := openStream(t, ctx, b.srv.URL, builderToken)
	alice := openStream(t, ctx, b.srv.URL, aliceToken)
	for _, sc := range []*bufio.Scanner{agent, alice} {
		if !sc.Scan() { // "retry: …": the handler is past its expiry check
			t.Fatal("a stream ended before its first line")
		}
	}

	b.clock.Advance(time.Minute)
	for agent.Scan() {
		if strings.HasPrefix(agent.Text(), "event:") {
			t.Fatalf("the expired stream sent an event: %q", agent.Text())
		}
	}
	if ctx.Err() != nil {
		t.Fatal("agent.builder's stream did not end at its expiry")
	}
	b.wantExpired(t, builderToken, "agent.builder", engine.RoleAgent, "GET", "/v1/events", "", "GET /v1/events")

	b.api.publish(engine.Event{Kind: engine.EventAlert})
	if kind, _ := nextEvent(t, alice); kind != engine.EventAlert {
		t.Fatalf("alice's stream after the expiry: event %q", kind)
	}
}

// TestExpiriesAreWarnedAtStart: NewHandler logs a warning naming each
// identity that has expired or expires within a week, and no other.
func TestExpiriesAreWarnedAtStart(t *testing.T) {
	t.Parallel()
	now := expiryInstant
	id := func(name string, exp time.Time) Identity {
		return Identity{Name: name, Role: engine.RoleAgent, TokenSHA256: sha256.Sum256([]byte(name)), Expires: exp}
	}
	logged := &logBuffer{}
	h := NewHandler(newFake(), Options{Logger: slog.New(slog.NewTextHandler(logged, nil)), Clock: clock.NewFake(now), Identities: []Identity{
		id("gone", now.Add(-time.Hour)), id("at.the.instant", now), id("soon", now.Add(3*24*time.Hour)),
		id("later", now.Add(30*24*time.Hour)), id("never", time.Time{}),
	}})
	h.Close()
	out := logged.String()
	for _, want := range []string{"identity=gone", "identity=at.the.instant", "identity=soon expires_at=2026-11-04T00:00:00Z"} {
		if !strings.Contains(out, want) {
			t.Errorf("no warning with %q in:\n%s", want, out)
		}
	}
	for _, quiet := range []string{"identity=later", "identity=never"} {
		if strings.Contains(out, quiet) {
			t.Errorf("warned of %q:\n%s", quiet, out)
		}
	}
	if n := strings.Count(out, "level=WARN"); n != 3 {
		t.Errorf("%d warnings, want 3:\n%s", n, out)
	}
}

func TestIdentitiesFromConfigReadExpires(t *testing.T) {
	t.Parallel()
	hash := strings.Repeat("ab", 32)
	ids, err := IdentitiesFromConfig([]engine.IdentityConfig{
		{Name: "a", Role: engine.RoleAgent, TokenSHA256: hash, Expires: "2026-11-01T01:00:00+01:00"},
		{Name: "b", Role: engine.RoleAgent, TokenSHA256: strings.Repeat("cd", 32), Expires: "2026-11-01"},
		{Name: "c", Role: engine.RoleAgent, TokenSHA256: strings.Repeat("ef", 32)},
	})
	if err != nil {
		t.Fatal(err)
	}
	if !ids[0].Expires.Equal(expiryInstant) || !ids[1].Expires.Equal(expiryInstant) || !ids[2].Expires.IsZero() {
		t.Fatalf("expiries = %v, %v, %v", ids[0].Expires, ids[1].Expires, ids[2].Expires)
	}
	_, err = IdentitiesFromConfig([]engine.IdentityConfig{{Name: "a", Role: engine.RoleAgent, TokenSHA256: hash, Expires: "soon"}})
	if err == nil || !strings.Contains(err.Error(), "identities[0] (a): expires \"soon\"") {
		t.Fatalf("a bad expiry: %v", err)
	}
}

// BenchmarkExpiryCheck measures an authenticated GET /v1/whoami served in
// process, by an identity without an expiry and by one with an expiry
// (checked before routing and pinned on the request):
//
//	go test -run '^$' -bench ExpiryCheck ./engine/httpapi/
func BenchmarkExpiryCheck(b *testing.B) {
	for _, tc := range []struct {
		name    string
		expires time.Time
	}{{"never", time.Time{}}, {"expiring", time.Now().Add(24 * time.Hour)}} {
		b.Run(tc.name, func(b *testing.B) {
			const token = "bench-token"
			h := NewHandler(newFake(), Options{Identities: []Identity{
				{Name: "agent.bench", Role: engine.RoleAgent, TokenSHA256: sha256.Sum256([]byte(token)), Expires: tc.expires},
			}})
			defer h.Close()
			req := httptest.NewRequest(http.MethodGet, "/v1/whoami", nil)
			req.Header.Set("Authorization", "Bearer "+token)
			b.ReportAllocs()
			for b.Loop() {
				w := httptest.NewRecorder()
				h.ServeHTTP(w, req)
				if w.Code != http.StatusOK {
					b.Fatalf("whoami: %d %s", w.Code, w.Body)
				}
			}
		})
	}
}

// TestReadyzSumsUpExpiries: /readyz's checks say how many tokens have
// expired and how many expire within ExpiryWarning, and when the next
// does, naming no identity (the route needs no token); an expiry never
// makes the server unready.
func TestReadyzSumsUpExpiries(t *testing.T) {
	t.Parallel()
	b := setupExpiry(t, expiryInstant.Add(-30*24*time.Hour))
	check := func() string {
		t.Helper()
		var rr ReadyResponse
		a := b.as(t, "", "GET", "/readyz", "")
		a.decode(t, &rr)
		if a.status != http.StatusOK || !rr.Ready {
			t.Fatalf("readyz: %d %s", a.status, a.body)
		}
		for _, name := range []string{"alice", "agent.builder", "bob", "val"} {
			if strings.Contains(rr.Checks["tokens"], name) {
				t.Fatalf("readyz names %s: %q", name, rr.Checks["tokens"])
			}
		}
		return rr.Checks["tokens"]
	}
	if got, want := check(), "ok; 3 of 4 identities have an expiry, the next in 30d (2026-11-01T00:00:00Z); names in the server log"; got != want {
		t.Errorf("a month ahead: %q, want %q", got, want)
	}
	b.clock.Advance(29*24*time.Hour + 30*time.Minute)
	if got, want := check(), "warn: 3 expiring within 7d; 3 of 4 identities have an expiry, the next in 23h30m (2026-11-01T00:00:00Z); names in the server log"; got != want {
		t.Errorf("a day ahead: %q, want %q", got, want)
	}
	b.clock.Advance(24 * time.Hour)
	if got, want := check(), "warn: 2 expired (refused until given a new token), 1 expiring within 7d; 3 of 4 identities have an expiry, the next in 30m (2026-11-01T01:00:00Z); names in the server log"; got != want {
		t.Errorf("past the first expiry: %q, want %q", got, want)
	}
	b.clock.Advance(time.Hour)
	if got, want := check(), "warn: 3 expired (refused until given a new token); 3 of 4 identities have an expiry; names in the server log"; got != want {
		t.Errorf("past every expiry: %q, want %q", got, want)
	}
}
