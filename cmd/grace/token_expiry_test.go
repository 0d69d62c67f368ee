package main

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"grace/engine/httpapi"
)

func TestTokenNewExpires(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	before := time.Now().UTC().Truncate(time.Second)
	r := c.run(t, "token", "new", "--name", "agent.builder", "--role", "agent", "--expires", "720h", "--json")
	after := time.Now().UTC()
	var id tokenIdentity
	r.decode(t, &id)
	at, err := time.Parse(time.RFC3339, id.Expires)
	if r.code != 0 || err != nil || !strings.HasSuffix(id.Expires, "Z") ||
		at.Before(before.Add(720*time.Hour)) || at.After(after.Add(720*time.Hour)) {
		t.Fatalf("--expires 720h: exit %d, expires %q (%v), want now+720h in UTC; %s", r.code, id.Expires, err, r.stderr)
	}

	r = c.run(t, "token", "new", "--name", "alice", "--role", "operator", "--expires", "2099-01-31T00:00:00Z")
	if r.code != 0 || !strings.Contains(r.stdout, `role: operator, token_sha256: `) || !strings.Contains(r.stdout, `, expires: "2099-01-31T00:00:00Z"}`) {
		t.Fatalf("--expires as a time: exit %d %q %q", r.code, r.stdout, r.stderr)
	}
	r = c.run(t, "token", "new", "--name", "alice", "--role", "operator", "--json")
	if r.code != 0 || strings.Contains(r.stdout, "expires") {
		t.Fatalf("without --expires the entry has no expiry: exit %d %q", r.code, r.stdout)
	}

	for _, bad := range []struct{ value, want string }{
		{"2020-01-01T00:00:00Z", `--expires "2020-01-01T00:00:00Z" is not in the future`},
		{"2020-01-01", `--expires "2020-01-01" is not in the future`},
		{"31/01/2027", `--expires "31/01/2027": want a duration from now such as 720h, an RFC 3339 time`},
		{"30d", `--expires "30d": want a duration`},
		{"-1h", `--expires "-1h": a duration must be positive`},
		{"0s", `--expires "0s": a duration must be positive`},
	} {
		c.run(t, "token", "new", "--name", "x", "--role", "agent", "--expires", bad.value).wantFail(t, exitUsage, bad.want)
	}
}

// TestServeRefusesAnExpiredToken runs grace serve with an identity expired
// before the start (as YAML writes it, unquoted) and one expiring later
// (a date): the server starts and warns naming the expired one, which is
// refused 401 token_expired with nothing stored and the attempt on the
// record; the others work.
func TestServeRefusesAnExpiredToken(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	url := closedURL(t)
	c.env = []string{"GRACE_API_SERVER=" + url, "GRACE_CORTEX_ENABLED=false"}
	const builderToken = "tok-cli-builder"
	cfg := writeServeConfig(t, c.dir, url, "identities:\n"+
		"  - {name: alice, role: operator, token_sha256: "+httpapi.TokenHash(idAlice.token)+"}\n"+
		"  - {name: agent.builder, role: agent, token_sha256: "+httpapi.TokenHash(builderToken)+", expires: 2026-01-01T00:00:00Z}\n"+
		"  - {name: val, role: viewer, token_sha256: "+httpapi.TokenHash(idVal.token)+", expires: 2099-12-31}\n")
	s := startServe(t, c, cfg, url)
	// The log reaches the test through a pipe, maybe after /healthz answers.
	waitFor(t, 10*time.Second, "a warning naming the expired identity at start", func() bool {
		logs := s.logs.String()
		return strings.Contains(logs, "identity's token has expired") && strings.Contains(logs, "agent.builder")
	})

	builder, alice, val := c.as(builderToken), c.as(idAlice.token), c.as(idVal.token)
	builder.run(t, "intent", "submit", "--type", "query_knowledge").
		wantFail(t, exitFailure, "token of agent.builder expired at 2026-01-01T00:00:00Z; issue a new one with grace token new")

	req, _ := http.NewRequestWithContext(t.Context(), "POST", url+"/v1/intents", strings.NewReader(`{"type":"query_knowledge"}`))
	req.Header.Set("Authorization", "Bearer "+builderToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var body httpapi.ErrorResponse
	err = json.NewDecoder(resp.Body).Decode(&body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusUnauthorized || body.Error.Code != httpapi.CodeTokenExpired ||
		!strings.Contains(resp.Header.Get("WWW-Authenticate"), `error="invalid_token"`) {
		t.Fatalf("submit with the expired token: %d %+v %v, WWW-Authenticate %q", resp.StatusCode, body, err, resp.Header.Get("WWW-Authenticate"))
	}

	if got := listIntents(t, alice); len(got) != 0 {
		t.Fatalf("the expired token's submissions stored intents: %v", got)
	}
	if r := val.run(t, "token", "whoami"); r.code != 0 || !strings.HasPrefix(r.stdout, "val (viewer), token expires 2099-12-31T00:00:00Z (in ") {
		t.Fatalf("val, expiring in 2099: exit %d %q %q", r.code, r.stdout, r.stderr)
	}

	r := c.run(t, "narratives", "search", "--action", "request_refused", "--json")
	var nr struct {
		Narratives []struct {
			Who, What string
			Context   map[string]any
		} `json:"narratives"`
	}
	r.decode(t, &nr)
	refused := 0
	for _, n := range nr.Narratives {
		if n.What == "request_refused" && n.Who == "agent.builder" && n.Context["code"] == httpapi.CodeTokenExpired &&
			n.Context["expired_at"] == "2026-01-01T00:00:00Z" {
			refused++
		}
	}
	if refused != 2 {
		t.Fatalf("%d request_refused records by agent.builder, want 2 (the CLI's and the raw submission):\n%s", refused, r.stdout)
	}
}

// TestTokenList: token list shows each configured identity's name, role,
// token hash prefix and whether its token is valid, expiring within a week
// or expired, from the config alone; with none it says what the API then
// accepts.
func TestTokenList(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	if r := c.run(t, "token", "list"); r.code != 0 || !strings.Contains(r.stdout, "no identities configured") {
		t.Fatalf("without identities: exit %d %q %q", r.code, r.stdout, r.stderr)
	}
	soon := time.Now().Add(3 * 24 * time.Hour).UTC().Format(time.RFC3339)
	cfg := writeConfig(t, "identities:\n"+
		"  - {name: alice, role: operator, token_sha256: "+httpapi.TokenHash("a")+"}\n"+
		"  - {name: agent.soon, role: agent, token_sha256: "+httpapi.TokenHash("b")+", expires: \""+soon+"\"}\n"+
		"  - {name: agent.old, role: agent, token_sha256: "+httpapi.TokenHash("c")+", expires: 2020-01-01}\n")
	r := c.run(t, "token", "list", "--config", cfg, "--json")
	var out struct{ Identities []tokenListEntry }
	r.decode(t, &out)
	want := []tokenListEntry{
		{Name: "alice", Role: "operator", TokenSHA256Prefix: httpapi.TokenHash("a")[:12], State: "valid"},
		{Name: "agent.soon", Role: "agent", TokenSHA256Prefix: httpapi.TokenHash("b")[:12], Expires: soon, State: "expiring"},
		{Name: "agent.old", Role: "agent", TokenSHA256Prefix: httpapi.TokenHash("c")[:12], Expires: "2020-01-01T00:00:00Z", State: "expired"}, // YAML reads the bare date as a time,
	}
	if r.code != 0 || len(out.Identities) != len(want) {
		t.Fatalf("token list --json: exit %d %+v %s", r.code, out, r.stderr)
	}
	for i, w := range want {
		if out.Identities[i] != w {
			t.Errorf("identity %d = %+v, want %+v", i, out.Identities[i], w)
		}
	}
	r = c.run(t, "token", "list", "--config", cfg)
	if r.code != 0 || !strings.Contains(r.stdout, "(in 2d23h)") || !strings.Contains(r.stdout, "never") || strings.Contains(r.stdout, httpapi.TokenHash("a")) {
		t.Fatalf("token list: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}
