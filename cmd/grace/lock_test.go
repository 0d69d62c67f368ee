package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestOneEngineADatabase: while grace serve runs on a database, a second
// grace serve on it is refused, naming the first (its pid and API), and
// so is a command writing the database directly because its --server is
// wrong: two engines would each requeue the other's running intents as a
// crash's leftovers and run them twice, and a change written beside a
// running engine sits unseen by it. Reading the database directly still
// works, and nothing refused is stored.
func TestOneEngineADatabase(t *testing.T) {
	t.Parallel()
	c, url := newServerCLI(t)
	first := startServe(t, c, writeServeConfig(t, c.dir, url, ""), url)
	if r := c.run(t, "intent", "submit", "--type", "query_knowledge", "--actor", "agent.a"); r.code != 0 {
		t.Fatalf("submit to the server: exit %d: %s", r.code, r.stderr)
	}

	other := closedURL(t)
	second := filepath.Join(c.dir, "second.yaml")
	body := "api:\n  listen: " + strings.TrimPrefix(other, "http://") + "\ncortex:\n  enabled: false\n"
	if err := os.WriteFile(second, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	holder := fmt.Sprintf("pid %d, grace serve, API %s", first.cmd.Process.Pid, url)
	c.runFor(t, nil, "serve", "--config", second).wantFail(t, exitFailure, "in use by another Grace process: "+holder)
	c.run(t, "intent", "submit", "--type", "query_knowledge", "--actor", "agent.a", "--server", other).
		wantFail(t, exitFailure, "no server answers at "+other+", but a running engine has the database ("+holder)

	if n := len(listIntents(t, c)); n != 1 {
		t.Fatalf("%d intents stored, want 1: the refused submission stored one", n)
	}
	if r := c.run(t, "audit", "verify"); r.code != 0 {
		t.Fatalf("audit verify beside a running engine: exit %d: %s", r.code, r.stderr)
	}
}
