package main

import (
	"database/sql"
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
