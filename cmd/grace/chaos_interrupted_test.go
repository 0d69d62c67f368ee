package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"grace/engine/chaos"
)

// TestCLIChaosRunKilledIsShownInterrupted kills a local grace chaos run
// outright (SIGKILL: no rollback, no final save), as a crash would, in its
// second scenario. Its run, stored as running, must not stay running for
// ever: chaos history shows it as an error, interrupted, with the verdict
// of the scenario it finished before the kill.
func TestCLIChaosRunKilledIsShownInterrupted(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	cmd := exec.Command(graceBin, "--set", "safeguards.scheduler_auto_resume.enabled=false",
		"chaos", "run", "L2_event_policy_cascade", "L2_scheduler_pause_during_load")
	cmd.Dir = c.dir
	cmd.Env = append(os.Environ(), c.env...)
	var out, errb syncBuffer
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
		if b, err := os.ReadFile(filepath.Join(running, itoa(cmd.Process.Pid))); err == nil && strings.Contains(errb.String(), "[2/2] L2_scheduler_pause_during_load  watch") {
			runID = strings.TrimSpace(string(b))
		} else {
			time.Sleep(20 * time.Millisecond) // polling for the file, bounded by the deadline
		}
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()

	var doc struct {
		Runs []struct {
			RunID     string `json:"run_id"`
			State     string `json:"state"`
			Error     string `json:"error"`
			Scenarios []struct {
				ID     string `json:"id"`
				Passed bool   `json:"passed"`
			} `json:"scenarios"`
		} `json:"runs"`
	}
	hj := c.run(t, "chaos", "history", "--json")
	hj.decode(t, &doc)
	if hj.code != 0 || len(doc.Runs) != 1 || doc.Runs[0].RunID != runID || doc.Runs[0].State != "error" ||
		doc.Runs[0].Error != chaos.InterruptedError || len(doc.Runs[0].Scenarios) != 1 ||
		doc.Runs[0].Scenarios[0].ID != "L2_event_policy_cascade" || !doc.Runs[0].Scenarios[0].Passed {
		t.Fatalf("history after the kill: exit %d, %+v\n%s", hj.code, doc, hj.stderr)
	}
}
