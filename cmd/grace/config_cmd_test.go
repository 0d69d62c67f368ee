package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestCLIConfigCheck: grace config check checks what serve checks only at
// start, writes nothing, and fails (exit 1) naming the key at fault; a
// config that loads and passes says OK.
func TestCLIConfigCheck(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	db := filepath.Join(c.dir, "data", "grace.db")
	r := c.run(t, "config", "check", "--db", db)
	if r.code != 0 || !strings.Contains(r.stdout, "configuration OK") || !strings.Contains(r.stdout, "generated into "+filepath.Join(c.dir, "data", "api.token")) ||
		!strings.Contains(r.stdout, "does not exist yet") {
		t.Fatalf("config check of the defaults: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	if _, err := os.Stat(filepath.Join(c.dir, "data")); !os.IsNotExist(err) {
		t.Fatalf("config check made the data folder (%v): it must write nothing", err)
	}

	cfg := filepath.Join(c.dir, "grace.yaml")
	if err := os.WriteFile(cfg, []byte(`api:
  listen: 0.0.0.0:7420
identities:
  - name: alice
    role: operator
    token_sha256: 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08
  - name: bot
    role: agent
    token_sha256: 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a09
    expires: 2026-01-01T00:00:00Z
notify:
  webhooks:
    - name: pager
      url: https://hooks.example/x
      secret_env: GRACE_TEST_UNSET_KEY
safeguards:
  worker_reassignment:
    enabled: false
`), 0o600); err != nil {
		t.Fatal(err)
	}
	r = c.run(t, "--config", cfg, "config", "check", "--db", db)
	lines := strings.Split(r.stdout, "\n")
	want := map[string]string{ // a line's status and check → what it says
		"fail webhooks":   "GRACE_TEST_UNSET_KEY",
		"warn api":        "expired tokens, refused: bot",
		"warn safeguards": "worker_reassignment",
		"ok api":          "2 identities: 1 operator(s), 1 agent(s)",
	}
	for key, text := range want {
		found := false
		for _, l := range lines {
			if f := strings.Fields(l); len(f) > 2 && f[0]+" "+f[1] == key && strings.Contains(l, text) {
				found = true
			}
		}
		if !found {
			t.Errorf("no %q line saying %q:\n%s", key, text, r.stdout)
		}
	}
	r.wantFail(t, exitFailure, cfg+": 1 check(s) failed")

	var rep configCheckReport
	r = c.run(t, "--config", cfg, "config", "check", "--json", "--db", db)
	r.decode(t, &rep)
	if r.code != exitFailure || rep.OK || rep.File != cfg || len(rep.Checks) < 6 {
		t.Fatalf("config check --json: exit %d %+v", r.code, rep)
	}

	r = c.run(t, "config", "check", "--set", "htm.warn_depth=-3", "--json")
	r.decode(t, &rep)
	if r.code != exitFailure || rep.OK || len(rep.Checks) != 1 || rep.Checks[0].Check != "config" || !strings.Contains(rep.Checks[0].Detail, "--set htm.warn_depth") {
		t.Fatalf("config check of a bad --set: exit %d %+v", r.code, rep)
	}
}

// TestCLIConfigShow: grace config show gives every key's value in effect
// and where it came from, hiding secrets.
func TestCLIConfigShow(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.env = append(c.env, "GRACE_HTM_WARN_DEPTH=77", "GRACE_API_TOKEN=s3cr3t-token-value-0123456789abcdef")
	cfg := filepath.Join(c.dir, "grace.yaml")
	if err := os.WriteFile(cfg, []byte(`store:
  batch_max: 64
notify:
  webhooks:
    - name: pager
      url: https://user:pass@hooks.example/x?key=abc
    - name: chat
      url: https://chat.example/services/T0ABC123/B0DEF456/Xy9kq2LmN8pQ
`), 0o600); err != nil {
		t.Fatal(err)
	}
	var rep configShowReport
	r := c.run(t, "--config", cfg, "config", "show", "--json", "--set", "htm.critical_depth=5000", "--db", filepath.Join(c.dir, "g.db"))
	r.decode(t, &rep)
	if r.code != 0 || rep.File != cfg {
		t.Fatalf("config show --json: exit %d %+v\n%s", r.code, rep, r.stderr)
	}
	got := map[string]configKey{}
	for _, k := range rep.Keys {
		got[k.Key] = k
	}
	for key, want := range map[string]configKey{
		"htm.warn_depth":             {Value: "77", Source: "GRACE_HTM_WARN_DEPTH"},
		"htm.critical_depth":         {Value: "5000", Source: "--set htm.critical_depth"},
		"store.batch_max":            {Value: "64", Source: cfg},
		"db":                         {Value: filepath.Join(c.dir, "g.db"), Source: "--db"},
		"api.listen":                 {Value: "127.0.0.1:7420", Source: "default"},
		"api.token":                  {Value: "(set)", Source: "GRACE_API_TOKEN"},
		"notify.webhooks[0].timeout": {Value: "5s", Source: cfg},
	} {
		if g := got[key]; g.Value != want.Value || g.Source != want.Source {
			t.Errorf("%s = %q from %q, want %q from %q", key, g.Value, g.Source, want.Value, want.Source)
		}
	}
	if u := got["notify.webhooks[0].url"].Value; strings.Contains(u, "pass") || strings.Contains(u, "abc") || !strings.Contains(u, "hooks.example/x") {
		t.Errorf("webhook URL shown as %q: its user and query must be hidden", u)
	}
	// A chat service's webhook holds its secret in the path.
	if u := got["notify.webhooks[1].url"].Value; u != "https://chat.example/services/xxxxx/xxxxx/xxxxx (user, query, fragment or keys in the path not shown)" {
		t.Errorf("webhook URL shown as %q: the keys in its path must be hidden", u)
	}
	if strings.Contains(r.stdout, "s3cr3t") {
		t.Errorf("config show printed api.token's value:\n%s", r.stdout)
	}
}

// TestCLIConfigShowServerURLAndSources: api.server is a URL like a
// webhook's and loses its user; a key the file leaves out of a
// section it sets others of comes from the defaults, not the file.
func TestCLIConfigShowServerURLAndSources(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.env = slices.DeleteFunc(slices.Clone(c.env), func(e string) bool { return strings.HasPrefix(e, "GRACE_API_SERVER=") })
	cfg := filepath.Join(c.dir, "grace.yaml")
	if err := os.WriteFile(cfg, []byte(`api:
  server: http://admin:srvpass0@127.0.0.1:9/
governance:
  charter:
    resilience: 0.9
`), 0o600); err != nil {
		t.Fatal(err)
	}
	var rep configShowReport
	r := c.run(t, "--config", cfg, "config", "show", "--json")
	r.decode(t, &rep)
	if r.code != 0 {
		t.Fatalf("config show --json: exit %d\n%s", r.code, r.stderr)
	}
	got := map[string]configKey{}
	for _, k := range rep.Keys {
		got[k.Key] = k
	}
	// (A query is refused: the API's paths would go after it.)
	if strings.Contains(r.stdout, "srvpass0") {
		t.Errorf("config show printed api.server's user: %q", got["api.server"].Value)
	}
	if s := got["api.server"]; !strings.Contains(s.Value, "127.0.0.1:9") || s.Source != cfg {
		t.Errorf("api.server = %q from %q", s.Value, s.Source)
	}
	for key, want := range map[string]string{
		"api.server":                    cfg,
		"api.listen":                    "default",
		"api.max_body_bytes":            "default",
		"governance.charter.resilience": cfg,
		"governance.vote.min_alignment": "default",
		"governance.tiers.tier_0":       "default",
	} {
		if g := got[key].Source; g != want {
			t.Errorf("%s from %q, want %q", key, g, want)
		}
	}
}

// TestCLIConfigCheckPlainHTTPWebhook: a webhook's plain http URL beyond
// this machine is warned of, as serve warns at start, naming its host and
// not its URL's user or query; a loopback one is not.
func TestCLIConfigCheckPlainHTTPWebhook(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	cfg := filepath.Join(c.dir, "grace.yaml")
	if err := os.WriteFile(cfg, []byte(`notify:
  webhooks:
    - {name: far, url: "http://user:hookpw0@hooks.example:8080/x?token=hookq0"}
    - {name: near, url: "http://127.0.0.1:9/x"}
`), 0o600); err != nil {
		t.Fatal(err)
	}
	var rep configCheckReport
	r := c.run(t, "--config", cfg, "config", "check", "--json", "--db", filepath.Join(c.dir, "data", "grace.db"))
	r.decode(t, &rep)
	if r.code != 0 || !rep.OK {
		t.Fatalf("config check --json: exit %d %+v\n%s", r.code, rep, r.stderr)
	}
	var warned []string
	for _, ch := range rep.Checks {
		if ch.Check == "webhooks" && ch.Status == checkWarn {
			warned = append(warned, ch.Detail)
		}
	}
	if len(warned) != 1 || !strings.Contains(warned[0], "far (hooks.example:8080)") || !strings.Contains(warned[0], "plain http") {
		t.Errorf("webhook warnings %q, want one of far's plain http", warned)
	}
	if strings.Contains(r.stdout, "hookpw0") || strings.Contains(r.stdout, "hookq0") {
		t.Errorf("config check printed the webhook URL's user or query:\n%s", r.stdout)
	}
}

// TestCLIConfigCheckDatabaseNotSQLite: a db that is a file but no SQLite
// database fails the check (serve's open refuses it), as does a device; an
// empty file, which SQLite makes a database of, passes.
func TestCLIConfigCheckDatabaseNotSQLite(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	notDB := filepath.Join(c.dir, "notes.db")
	empty := filepath.Join(c.dir, "empty.db")
	if err := os.WriteFile(notDB, []byte("db: grace.db\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	status := func(db string) (string, string) {
		var rep configCheckReport
		r := c.run(t, "config", "check", "--json", "--db", db)
		r.decode(t, &rep)
		for _, ch := range rep.Checks {
			if ch.Check == "database" {
				return ch.Status, ch.Detail
			}
		}
		t.Fatalf("config check --db %s: no database check: %+v", db, rep)
		return "", ""
	}
	if st, detail := status(notDB); st != checkFail || !strings.Contains(detail, "not a SQLite database") {
		t.Errorf("db %s: %s %q, want a failure saying not a SQLite database", notDB, st, detail)
	}
	if st, detail := status(os.DevNull); st != checkFail || !strings.Contains(detail, "not a database file") {
		t.Errorf("db %s: %s %q, want a failure", os.DevNull, st, detail)
	}
	if st, detail := status(empty); st != checkOK {
		t.Errorf("db %s (empty): %s %q, want ok", empty, st, detail)
	}
}
