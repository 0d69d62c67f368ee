package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// chaos history of a path where there is no database (a folder that does
// not exist, a file not made yet) says so, naming the path, and exits 1,
// as narratives search and audit verify do: it said "no chaos runs yet"
// and exited 0, so a slip in --db read as a clean record.
func TestChaosHistoryNamesAMissingDatabase(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	for _, db := range []string{
		filepath.Join(c.dir, "nosuchfolder", "grace.db"),
		filepath.Join(c.dir, "grace.db"),
	} {
		want := "open store " + db + ": no database there"
		c.run(t, "chaos", "history", "--db", db).wantFail(t, exitFailure, want)
		if r := c.run(t, "chaos", "history", "--json", "--db", db); r.code != exitFailure || !strings.Contains(r.stdout, want) {
			t.Fatalf("chaos history --json --db %s: exit %d\n%s%s", db, r.code, r.stdout, r.stderr)
		}
		c.run(t, "narratives", "search", "--db", db, "x").wantFail(t, exitFailure, want)
	}
}
