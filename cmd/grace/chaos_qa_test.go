package main

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"grace/engine"
)

// A scenario that could not be carried out (here its run's data folder
// cannot be made: chaos/runs in the data folder is a file; a scenario
// whose parameters make an engine that will not start is now refused at
// load) measured nothing: its verdict says so, and shows no invariant
// counts. It printed "lost 0, duplicated 0, unauthorized executions 0,
// cancelled revived 0, audit intact false", as if the run had been
// checked and had broken the audit chain.
func TestCLIChaosRunNotCarriedOutShowsNoInvariants(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	const id = "L2_scheduler_pause_during_load"
	runs := filepath.Join(c.dir, "grace-data", "chaos", "runs")
	if err := os.MkdirAll(filepath.Dir(runs), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(runs, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	r := c.run(t, "chaos", "run", id)
	if r.code != 1 || !strings.Contains(r.stdout, "✗ FAIL  "+id) ||
		!strings.Contains(r.stdout, "invariants: not checked (the scenario could not be carried out)") ||
		!strings.Contains(r.stdout, "✗ could not be carried out: run "+id+": data folder ") ||
		!strings.Contains(r.stdout, "mkdir "+filepath.Join("grace-data", "chaos", "runs")+": not a directory") {
		t.Fatalf("chaos run of a scenario that cannot be carried out: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if strings.Contains(r.stdout, "audit intact") || strings.Contains(r.stdout, "lost 0") {
		t.Errorf("invariant counts shown for a scenario that was never run:\n%s", r.stdout)
	}
}

// scenarios writes files (name → body) into c's scenarios folder, made if
// need be, and returns the folder.
func (c *cli) scenarios(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := filepath.Join(c.dir, "scenarios")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// The server a grace chaos run follows stops mid-run: the command says
// the run's end was not seen here and where it is (the server stores it
// as halted by its shutdown). It ended on a bare "follow chaos run …:
// GET …: connection refused", which says neither.
func TestCLIChaosRunOnAServerThatStops(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	url := closedURL(t)
	c.env = []string{"GRACE_API_SERVER=" + url, "GRACE_CHAOS_SCENARIOS_DIR=" + writeStuckScenario(t, c)}
	srv := startServe(t, c, writeServeConfig(t, c.dir, url, ""), url)

	run := startGrace(t, c, "chaos", "run", "L2_stuck_cascade")
	waitFor(t, 30*time.Second, "the run to reach its watch phase", func() bool { return strings.Contains(run.stderr.String(), "watch") })
	if err := srv.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	<-srv.done
	srv.done <- nil
	code := run.exit(t)
	lines := strings.Split(strings.TrimSpace(run.stderr.String()), "\n")
	last := lines[len(lines)-1]
	if code != exitFailure || !strings.Contains(last, "lost the server before the run ended, so its outcome is not known here") ||
		!strings.Contains(last, "grace chaos history") {
		t.Fatalf("chaos run whose server stopped: exit %d\n%s%s", code, run.stdout.String(), run.stderr.String())
	}
	// What the message says: the server stored the run as halted.
	var doc chaosHistoryDoc
	c.run(t, "chaos", "history", "--json").decode(t, &doc)
	if len(doc.Runs) != 1 || doc.Runs[0].State != engine.ChaosHalted || !strings.Contains(last, doc.Runs[0].RunID) {
		t.Fatalf("history after the server stopped: %+v", doc.Runs)
	}
}

// A scenario that only the server holds (in its own chaos.scenarios_dir)
// runs there: grace chaos run refused it from the command line's library
// ("no scenario"), so a server's operator scenarios could not be run from
// a terminal whose config does not name the same folder. One that neither
// holds is still refused, by the server.
func TestCLIChaosRunsAScenarioOnlyTheServerHolds(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	url := closedURL(t)
	own := strings.Replace(quickCascade, "id: L2_event_policy_cascade", "id: L2_server_cascade", 1)
	c.env = []string{"GRACE_API_SERVER=" + url, "GRACE_CHAOS_SCENARIOS_DIR=" + c.scenarios(t, map[string]string{"own.yaml": own})}
	startServe(t, c, writeServeConfig(t, c.dir, url, ""), url)

	client := &cli{dir: c.dir, env: []string{"GRACE_API_SERVER=" + url}}
	var rep chaosReport
	r := client.run(t, "chaos", "run", "L2_server_cascade", "--json")
	r.decode(t, &rep)
	if r.code != 0 || len(rep.Scenarios) != 1 || rep.Scenarios[0].ID != "L2_server_cascade" || !rep.Scenarios[0].Passed {
		t.Fatalf("chaos run of the server's own scenario: exit %d %+v\n%s", r.code, rep, r.stderr)
	}
	client.run(t, "chaos", "run", "L2_nowhere").wantFail(t, exitUsage, `no scenario "L2_nowhere"`)
}
