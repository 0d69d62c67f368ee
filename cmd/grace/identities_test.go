package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"grace/engine/httpapi"
)

// The identities of the CLI tests.
var (
	idAlice = testIdentity{"alice", "operator", "tok-cli-alice"}
	idBob   = testIdentity{"bob", "operator", "tok-cli-bob"}
	idAgent = testIdentity{"agent.architect", "agent", "tok-cli-agent"}
	idVal   = testIdentity{"val", "viewer", "tok-cli-val"}
)

// TestCLIWithIdentities runs the intent commands against a grace serve
// with identities and the two-person rule: each token does what its role
// allows and nothing more, and the record names the identities.
func TestCLIWithIdentities(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	url := closedURL(t)
	c.env = []string{"GRACE_API_SERVER=" + url, "GRACE_CORTEX_ENABLED=false"}
	cfg := writeServeConfig(t, c.dir, url, identitiesYAML(idAlice, idBob, idAgent, idVal)+
		"governance:\n  two_person_types: [change_charter]\n")
	startServe(t, c, cfg, url)
	agent, alice, bob, val := c.as(idAgent.token), c.as(idAlice.token), c.as(idBob.token), c.as(idVal.token)

	r := agent.run(t, "intent", "submit", "--type", "change_charter", "--payload", `{"clause":"x","password":"pw-123"}`, "--json")
	var sub struct{ ID, State string }
	r.decode(t, &sub)
	if r.code != 0 || sub.State != "pending_approval" {
		t.Fatalf("agent submit: exit %d %s %s", r.code, r.stdout, r.stderr)
	}
	agent.run(t, "intent", "submit", "--type", "change_charter", "--actor", "alice").wantFail(t, exitFailure, "is not you")
	agent.run(t, "intent", "approve", sub.ID).wantFail(t, exitFailure, "may not call")
	val.run(t, "intent", "approve", sub.ID).wantFail(t, exitFailure, "may not call")
	c.as("tok-forged").run(t, "intent", "approve", sub.ID).wantFail(t, exitFailure, "refused the API token")

	r = alice.run(t, "intent", "approve", sub.ID, "--reason", "reviewed", "--operator", "bob")
	if r.code != 0 || !strings.Contains(r.stdout, "recorded for alice") || !strings.Contains(r.stdout, "second operator") {
		t.Fatalf("alice's approval: exit %d %q %q", r.code, r.stdout, r.stderr)
	}
	// Half approved, it does not read as decided.
	if r := val.run(t, "intent", "get", sub.ID); r.code != 0 || !strings.Contains(r.stdout, "alice approved, 1 of the 2 needed") || strings.Contains(r.stdout, "decided_by") {
		t.Fatalf("intent get after one approval: exit %d %q %q", r.code, r.stdout, r.stderr)
	}
	alice.run(t, "intent", "approve", sub.ID).wantFail(t, exitFailure, "already approved")
	r = bob.run(t, "intent", "approve", sub.ID, "--reason", "second pair of eyes")
	if r.code != 0 || !strings.Contains(r.stdout, "approved "+sub.ID+" by bob") {
		t.Fatalf("bob's approval: exit %d %q %q", r.code, r.stdout, r.stderr)
	}
	waitFor(t, 20*time.Second, "the approved intent to complete", func() bool { return listIntents(t, alice)[sub.ID] == "completed" })

	own := alice.run(t, "intent", "submit", "--type", "grant_permissions")
	id := strings.TrimSpace(own.stdout)
	alice.run(t, "intent", "approve", id).wantFail(t, exitFailure, "submitter may not approve")

	r = val.run(t, "token", "whoami")
	if r.code != 0 || strings.TrimSpace(r.stdout) != "val (viewer)" {
		t.Fatalf("whoami: exit %d %q %q", r.code, r.stdout, r.stderr)
	}

	// The record, read from the database: who did what, and the masked
	// password nowhere.
	r = c.run(t, "narratives", "search", "--intent", sub.ID, "--json")
	var nr struct {
		Narratives []struct {
			Who, What string
			Context   map[string]any
		} `json:"narratives"`
	}
	r.decode(t, &nr)
	got := map[string][]string{}
	for _, n := range nr.Narratives {
		got[n.What] = append(got[n.What], n.Who)
	}
	for what, who := range map[string]string{"intent_received": "agent.architect", "intent_approval_recorded": "alice", "intent_approved": "bob"} {
		if len(got[what]) != 1 || got[what][0] != who {
			t.Errorf("%s by %v, want %s", what, got[what], who)
		}
	}
	if n := len(got["request_refused"]) + len(got["approval_refused"]); n < 4 {
		t.Errorf("%d refused attempts on the record, want at least 4: %v", n, got)
	}
	if strings.Contains(r.stdout, "pw-123") {
		t.Fatal("the password reached the record")
	}
	r = alice.run(t, "intent", "list", "--json")
	if r.code != 0 || strings.Contains(r.stdout, "pw-123") || !strings.Contains(r.stdout, "[masked]") {
		t.Fatalf("intent list over HTTP shows the password or nothing masked: %s", r.stdout)
	}
	if r := c.run(t, "audit", "verify"); r.code != 0 {
		t.Fatalf("audit verify: exit %d %s %s", r.code, r.stdout, r.stderr)
	}
}

func TestServeRefusesToListenBeyondLoopbackWithoutIdentities(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	r := c.run(t, "serve", "--set", "api.listen=0.0.0.0:0")
	if r.code != exitFailure || !strings.Contains(r.stderr, "not a loopback address") || !strings.Contains(r.stderr, "api.listen") {
		t.Fatalf("serve on 0.0.0.0 without identities: exit %d %q", r.code, r.stderr)
	}
}

func TestTokenNew(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	r := c.run(t, "token", "new", "--name", "alice", "--role", "operator", "--json")
	var id tokenIdentity
	r.decode(t, &id)
	if r.code != 0 || id.Name != "alice" || len(id.Token) < 40 || id.TokenSHA256 != httpapi.TokenHash(id.Token) {
		t.Fatalf("token new: exit %d %s %s", r.code, r.stdout, r.stderr)
	}
	r = c.run(t, "token", "hash", id.Token)
	if strings.TrimSpace(r.stdout) != id.TokenSHA256 {
		t.Fatalf("token hash = %q, want %s", r.stdout, id.TokenSHA256)
	}
	r = c.run(t, "token", "new", "--name", "alice")
	if r.code != exitUsage {
		t.Fatalf("token new without --role: exit %d", r.code)
	}
	c.run(t, "token", "new", "--name", "bad name", "--role", "agent").wantFail(t, exitUsage, `--name "bad name" must be 1 to 64 characters`)
	c.run(t, "token", "new", "--name", "x", "--role", "admin").wantFail(t, exitUsage, "want one of agent, viewer, operator")
}

func TestDirectWritesNeedTheAPIWhenIdentitiesAreConfigured(t *testing.T) {
	t.Parallel()
	c := newCLI(t) // no server answers
	cfg := writeServeConfig(t, c.dir, closedURL(t), identitiesYAML(idAlice))
	c.run(t, "intent", "submit", "--config", cfg, "--type", "query_knowledge").wantFail(t, exitFailure, "changes go through the HTTP API only")
	c.run(t, "intent", "approve", "--config", cfg, "int_x").wantFail(t, exitFailure, "changes go through the HTTP API only")
	if _, err := os.Stat(filepath.Join(c.dir, "grace-data", "grace.db")); err == nil {
		t.Fatal("a refused direct write created the database")
	}
}
