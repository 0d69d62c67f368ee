package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestBackupOfARunningEngineRestores takes a backup while grace serve runs
// and then serves the backup in its place: the backup verifies, the
// intents acknowledged before it are there, the one waiting for approval
// still waits and runs once approved, and its record is searchable.
func TestBackupOfARunningEngineRestores(t *testing.T) {
	t.Parallel()
	c, url := newServerCLI(t)
	config := writeServeConfig(t, c.dir, url, "")
	srv := startServe(t, c, config, url)

	var done []string
	for range 5 {
		r := c.run(t, "intent", "submit", "--type", "query_knowledge", "--payload", `{"q":"before the backup"}`)
		if r.code != 0 {
			t.Fatalf("submit: exit %d: %s", r.code, r.stderr)
		}
		done = append(done, strings.TrimSpace(r.stdout))
	}
	r := c.run(t, "intent", "submit", "--type", "grant_permissions", "--payload", `{"role":"admin"}`, "--json")
	var held struct{ ID, State string }
	r.decode(t, &held)
	if r.code != 0 || held.State != "pending_approval" {
		t.Fatalf("Tier 0 submit: exit %d %s %s", r.code, r.stdout, r.stderr)
	}
	waitFor(t, 20*time.Second, "the Tier 2 intents to complete", func() bool {
		states := listIntents(t, c)
		for _, id := range done {
			if states[id] != "completed" {
				return false
			}
		}
		return true
	})

	r = c.run(t, "backup", "--config", config, "bk", "--json")
	var rep backupReport
	r.decode(t, &rep)
	if r.code != 0 || !rep.Verified || rep.Entries == 0 || rep.DB != filepath.Join(c.dir, "bk", "grace.db") || !rep.Search {
		t.Fatalf("backup: exit %d %+v %s", r.code, rep, r.stderr)
	}
	c.run(t, "backup", "--config", config, "bk").wantFail(t, exitFailure, "is not empty")
	if entries, _ := os.ReadDir(filepath.Join(c.dir, "bk")); len(entries) != 5 {
		t.Fatalf("the refused second backup changed the first: %v", entries)
	}

	// Restore: the engine stops and the backup is served in its place.
	if err := srv.cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	if err := <-srv.done; err != nil {
		t.Fatalf("serve: %v\n%s", err, srv.logs.String())
	}
	srv.done <- nil
	restored := writeServeConfig(t, c.dir, url, "db: bk/grace.db\n")
	startServe(t, c, restored, url)
	// The CLI finds the restored server's local token in its data folder.
	c = &cli{dir: c.dir, env: append(append([]string(nil), c.env...), "GRACE_DB="+filepath.Join("bk", "grace.db"))}
	states := listIntents(t, c)
	for _, id := range done {
		if states[id] != "completed" {
			t.Fatalf("intent %s is %q in the restored backup, want completed (all: %v)", id, states[id], states)
		}
	}
	if states[held.ID] != "pending_approval" {
		t.Fatalf("the held intent is %q in the restored backup", states[held.ID])
	}
	if r := c.run(t, "intent", "approve", held.ID, "--reason", "restored"); r.code != 0 {
		t.Fatalf("approve in the restored backup: exit %d: %s", r.code, r.stderr)
	}
	waitFor(t, 20*time.Second, "the approved intent to complete in the restored backup", func() bool {
		return listIntents(t, c)[held.ID] == "completed"
	})
	var found []narrative
	waitFor(t, 20*time.Second, "the backup's record to be searchable", func() bool {
		found = searchNarratives(t, c, "--db", filepath.Join("bk", "grace.db"), "--intent", done[0])
		return len(found) > 0
	})
	if v := c.run(t, "audit", "verify", "--db", filepath.Join("bk", "grace.db")); v.code != 0 {
		t.Fatalf("audit verify of the restored backup: exit %d: %s %s", v.code, v.stdout, v.stderr)
	}
}

// A backup made inside the data folder is kept, with a warning: a disk
// lost with the data folder loses it too. One made elsewhere says
// nothing of the kind.
func TestBackupInsideTheDataFolderIsWarned(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	if r := c.run(t, "intent", "submit", "--type", "query_knowledge"); r.code != 0 {
		t.Fatalf("submit: exit %d: %s", r.code, r.stderr)
	}
	r := c.run(t, "backup", filepath.Join("grace-data", "bk"))
	if r.code != 0 || !strings.Contains(r.stderr, "warning: the backup is inside the data folder") {
		t.Fatalf("backup inside the data folder: exit %d, stderr %q", r.code, r.stderr)
	}
	r = c.run(t, "backup", "elsewhere")
	if r.code != 0 || strings.Contains(r.stderr, "inside the data folder") {
		t.Fatalf("backup elsewhere: exit %d, stderr %q", r.code, r.stderr)
	}
}
