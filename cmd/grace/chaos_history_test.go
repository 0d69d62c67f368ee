package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// chaosHistoryDoc is chaos history --json.
type chaosHistoryDoc struct {
	Runs []struct {
		RunID     string   `json:"run_id"`
		State     string   `json:"state"`
		Trigger   string   `json:"trigger"`
		HaltedBy  string   `json:"halted_by"`
		Requested []string `json:"requested"`
		Scenarios []struct {
			ID        string `json:"id"`
			Passed    bool   `json:"passed"`
			RecordsDB string `json:"records_db"`
		} `json:"scenarios"`
	} `json:"runs"`
	Score struct {
		Overall    float64            `json:"overall"`
		ByCategory map[string]float64 `json:"by_category"`
		Runs       int                `json:"runs"`
	} `json:"score"`
}

func TestCLIChaosRunStoredThenHistory(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	// A fresh folder has no database yet: said as the other read-only
	// commands say it, and none is made.
	c.run(t, "chaos", "history").wantFail(t, exitFailure,
		"open store "+filepath.Join("grace-data", "grace.db")+": no database there")
	if _, err := os.Stat(filepath.Join(c.dir, "grace-data", "grace.db")); err == nil {
		t.Fatal("chaos history of a fresh folder made a database")
	}

	run := c.run(t, "chaos", "run", "L2_event_policy_cascade")
	if run.code != 0 || !strings.Contains(run.stdout, "✓ PASS  L2_event_policy_cascade") {
		t.Fatalf("chaos run: exit %d\n%s%s", run.code, run.stdout, run.stderr)
	}
	for _, phase := range []string{"steady_state_before", "inject", "watch", "rollback", "invariants", "done"} {
		if !strings.Contains(run.stderr, "[1/1] L2_event_policy_cascade  "+phase) {
			t.Errorf("no progress line for %s on stderr:\n%s", phase, run.stderr)
		}
	}

	var doc chaosHistoryDoc
	hj := c.run(t, "chaos", "history", "--json")
	hj.decode(t, &doc)
	if hj.code != 0 || len(doc.Runs) != 1 || doc.Runs[0].State != "passed" || doc.Runs[0].Trigger != "operator" ||
		len(doc.Runs[0].Scenarios) != 1 || doc.Score.Runs != 1 || doc.Score.Overall != 100 || doc.Score.ByCategory["layer2_orchestration"] != 100 {
		t.Fatalf("history --json: exit %d, %+v\n%s", hj.code, doc, hj.stderr)
	}
	id := doc.Runs[0].RunID
	if db := doc.Runs[0].Scenarios[0].RecordsDB; db == "" || !strings.Contains(db, filepath.Join("chaos", "runs", id)) {
		t.Fatalf("records_db %q not in the run's folder", db)
	}
	if _, err := os.Stat(filepath.Join(c.dir, doc.Runs[0].Scenarios[0].RecordsDB)); err != nil && !filepath.IsAbs(doc.Runs[0].Scenarios[0].RecordsDB) {
		t.Fatalf("the run's records database is gone: %v", err)
	}
	text := c.run(t, "chaos", "history")
	if text.code != 0 || !strings.Contains(text.stdout, id) || !strings.Contains(text.stdout, "✓ passed") ||
		!strings.Contains(text.stdout, "1/1") || !strings.Contains(text.stdout, "resilience score: 100.0 overall") {
		t.Fatalf("history: exit %d\n%s%s", text.code, text.stdout, text.stderr)
	}
}

// TestCLIChaosRunInterruptedIsStoredHalted interrupts a local run the way
// a local grace chaos halt does: it finds the run's file in
// <data>/chaos/running and sends SIGINT to the process it names.
func TestCLIChaosRunInterruptedIsStoredHalted(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	cmd := exec.Command(graceBin, "--set", "safeguards.scheduler_auto_resume.enabled=false",
		"chaos", "run", "L2_scheduler_pause_during_load")
	cmd.Dir = c.dir
	cmd.Env = append(os.Environ(), c.env...)
	var out, errb syncBuffer // read while the process writes
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	running := filepath.Join(c.dir, "grace-data", "chaos", "running")
	var runID string
	deadline := time.Now().Add(60 * time.Second)
	for runID == "" {
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
			t.Fatalf("no file in %s within 60s\n%s", running, errb.String())
		}
		if b, err := os.ReadFile(filepath.Join(running, itoa(cmd.Process.Pid))); err == nil && strings.Contains(errb.String(), "watch") {
			runID = strings.TrimSpace(string(b))
		} else {
			time.Sleep(20 * time.Millisecond) // polling for the file, bounded by the deadline
		}
	}
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	err := cmd.Wait()
	ee, ok := err.(*exec.ExitError)
	if !ok || ee.ExitCode() != exitInterrupted || !strings.Contains(errb.String(), "halted") || !strings.Contains(errb.String(), "rolled back") {
		t.Fatalf("interrupted run: %v\n%s%s", err, out.String(), errb.String())
	}
	if _, err := os.Stat(filepath.Join(running, itoa(cmd.Process.Pid))); !os.IsNotExist(err) {
		t.Errorf("the running file is left behind: %v", err)
	}
	var doc chaosHistoryDoc
	hj := c.run(t, "chaos", "history", "--json")
	hj.decode(t, &doc)
	if len(doc.Runs) != 1 || doc.Runs[0].RunID != runID || doc.Runs[0].State != "halted" || doc.Runs[0].HaltedBy == "" {
		t.Fatalf("history after the interrupt: %+v", doc)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

// TestCLIChaosHistoryReadOnlyDatabase: chaos history reads a database this
// user may read but not write, as intent list, narratives search and
// audit verify do (an auditor's account); it used to fail with "the file
// is read-only to this user; a read-write open needs to write it".
func TestCLIChaosHistoryReadOnlyDatabase(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	attr := nobody(t, c.dir)
	if attr != nil {
		if err := os.Chown(c.dir, 65534, 65534); err != nil {
			t.Fatal(err)
		}
	}
	db := filepath.Join(c.dir, "data", "grace.db")
	if r := c.exec(t, attr, time.Minute, "chaos", "run", "L2_trigger_mesh_storm", "--db", db); r.code != 0 {
		t.Fatalf("chaos run: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if err := os.Chmod(db, 0o444); err != nil {
		t.Fatal(err)
	}
	var doc chaosHistoryDoc
	r := c.exec(t, attr, time.Minute, "chaos", "history", "--json", "--db", db)
	r.decode(t, &doc)
	if r.code != 0 || len(doc.Runs) != 1 || doc.Runs[0].State != "passed" || doc.Score.Runs != 1 {
		t.Fatalf("chaos history of a read-only database: exit %d, %+v\n%s", r.code, doc, r.stderr)
	}
	if r := c.exec(t, attr, time.Minute, "chaos", "history", "--db", db); r.code != 0 || !strings.Contains(r.stdout, doc.Runs[0].RunID) {
		t.Fatalf("chaos history of a read-only database: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}
