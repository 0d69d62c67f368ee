package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"grace/engine/httpapi"
)

// testIdentity is an identity with its token, for configs the tests write.
type testIdentity struct{ name, role, token string }

// identitiesYAML is the identities section for ids.
func identitiesYAML(ids ...testIdentity) string {
	var b strings.Builder
	b.WriteString("identities:\n")
	for _, id := range ids {
		b.WriteString("  - {name: " + id.name + ", role: " + id.role + ", token_sha256: " + httpapi.TokenHash(id.token) + "}\n")
	}
	return b.String()
}

// writeServeConfig writes a config for "grace serve" on url's port with a
// quiet engine and no-op handlers, plus extra, and returns its path.
func writeServeConfig(t *testing.T, dir, url, extra string) string {
	t.Helper()
	body := "api:\n  listen: " + strings.TrimPrefix(url, "http://") + "\n  server: " + url +
		"\ncortex:\n  enabled: false\nhandlers:\n  default:\n    kind: noop\n" + extra
	path := filepath.Join(dir, "serve.yaml")
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// newServerCLI is a CLI whose commands go to a server at url, on a port
// nothing listens on until the test starts "grace serve" there.
func newServerCLI(t *testing.T) (*cli, string) {
	t.Helper()
	c := newCLI(t)
	url := closedURL(t)
	c.env = []string{"GRACE_API_SERVER=" + url}
	return c, url
}

// as is c with the API token set to token.
func (c *cli) as(token string) *cli {
	env := append(append([]string(nil), c.env...), "GRACE_API_TOKEN="+token)
	return &cli{dir: c.dir, env: env}
}
