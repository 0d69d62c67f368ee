package main

import (
	"database/sql"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	_ "modernc.org/sqlite" // to tamper with the database as an attacker would
)

func TestCLIAuditVerifyNamesTheBrokenEntry(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	for _, typ := range []string{"query_knowledge", "change_charter"} {
		if r := c.run(t, "intent", "submit", "--type", typ); r.code != 0 {
			t.Fatalf("submit: %s", r.stderr)
		}
	}
	if r := c.run(t, "audit", "verify"); r.code != 0 {
		t.Fatalf("verify before tampering: exit %d %s", r.code, r.stderr)
	}

	db, err := sql.Open("sqlite", filepath.Join(c.dir, "grace-data", "grace.db"))
	if err != nil {
		t.Fatal(err)
	}
	var seq int64
	if err := db.QueryRow(`SELECT min(seq) FROM audit WHERE entry LIKE '%"result":"pending_approval"%'`).Scan(&seq); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`UPDATE audit SET entry = replace(entry, '"result":"pending_approval"', '"result":"approved"') WHERE seq = ?`, seq); err != nil {
		t.Fatal(err)
	}
	db.Close()

	r := c.run(t, "audit", "verify")
	r.wantFail(t, exitFailure, "audit chain broken at entry #"+strconv.FormatInt(seq, 10)+":")
	r = c.run(t, "audit", "verify", "--json")
	var rep auditReport
	r.decode(t, &rep)
	if r.code != exitFailure || rep.OK || rep.FirstBroken != seq {
		t.Fatalf("verify --json: exit %d %s", r.code, r.stdout)
	}
	r = c.run(t, "health")
	lines := r.stderrLines()
	if r.code != exitFailure || len(lines) == 0 || !strings.HasPrefix(lines[len(lines)-1], "grace: not ready: audit chain broken") {
		t.Fatalf("health on a broken chain: exit %d %s", r.code, r.stderr)
	}
}

// TestCLIAuditVerifyDamagedCheckpointsNameNoEntry damages a line of
// audit.checkpoints: no entry is at fault, and verify, health and the
// error said "broken at entry #0", an entry that does not exist (health's
// last line did not even say what was wrong). They say the chain was not
// verified and why, naming the file and its line.
func TestCLIAuditVerifyDamagedCheckpointsNameNoEntry(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	if r := c.run(t, "intent", "submit", "--type", "query_knowledge"); r.code != 0 {
		t.Fatalf("submit: %s", r.stderr)
	}
	path := filepath.Join(c.dir, "grace-data", "audit.checkpoints")
	raw, err := os.ReadFile(path)
	if err != nil || len(raw) == 0 {
		t.Fatalf("no checkpoint after a submission: %v", err)
	}
	if err := os.WriteFile(path, append([]byte("x"), raw...), 0o600); err != nil {
		t.Fatal(err)
	}
	want := "audit chain not verified: audit checkpoint " + path + " line 1: bad seq"
	r := c.run(t, "audit", "verify")
	r.wantFail(t, exitFailure, want)
	if strings.Contains(r.stderr, "#0") {
		t.Errorf("verify names entry #0: %s", r.stderr)
	}
	var rep auditReport
	r = c.run(t, "audit", "verify", "--json")
	r.decode(t, &rep)
	if r.code != exitFailure || rep.OK || rep.FirstBroken != 0 || !strings.Contains(rep.Problem, "line 1: bad seq") {
		t.Fatalf("verify --json: exit %d %s", r.code, r.stdout)
	}
	r = c.run(t, "health")
	lines := r.stderrLines()
	if r.code != exitFailure || len(lines) == 0 || !strings.HasPrefix(lines[len(lines)-1], "grace: not ready: "+want) ||
		!strings.Contains(r.stdout, "NOT VERIFIED ✗: audit checkpoint") || strings.Contains(r.stdout+r.stderr, "#0") {
		t.Fatalf("health on damaged checkpoints: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}
