package main

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"grace/engine"
)

// quickCascade is a short L2_event_policy_cascade for chaos.scenarios_dir.
const quickCascade = `id: L2_event_policy_cascade
category: layer2_orchestration
description: a cascade past policy.max_depth is cut
parameters: {depth: {base: 12}}
faults: [{kind: policy_cascade}]
safeguards: {expected: [policy_cascade_limit]}
invariants: [audit_chain_intact]
steady_state: [engine_ready, queue_drained]
deadline: 1s
`

// grace chaos run goes to a running server, follows the run's phases and
// prints the same report and verdict as a local run; grace chaos halt
// halts there and says when nothing was running.
func TestCLIChaosRunOnAServer(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	// The shallow cascade never reaches policy.max_depth: the safeguard it
	// expects does not fire and it fails.
	shallow := strings.NewReplacer("id: L2_event_policy_cascade", "id: L2_shallow_cascade", "base: 12", "base: 2").Replace(quickCascade)
	dir := c.scenarios(t, map[string]string{"cascade.yaml": quickCascade, "shallow.yaml": shallow})
	url := closedURL(t)
	c.env = []string{"GRACE_API_SERVER=" + url, "GRACE_CHAOS_SCENARIOS_DIR=" + dir, "USER=opal"}
	logs := startServe(t, c, writeServeConfig(t, c.dir, url, ""), url).logs

	r := c.run(t, "chaos", "run", "L2_event_policy_cascade")
	if r.code != 0 || !strings.Contains(r.stdout, "PASS  L2_event_policy_cascade") || !strings.Contains(r.stdout, ": the scenario passed") {
		t.Fatalf("chaos run on the server: exit %d\n%s%s\nserver:\n%s", r.code, r.stdout, r.stderr, logs.String())
	}
	if !strings.Contains(r.stderr, "started on "+url) || !strings.Contains(r.stderr, "[1/1] L2_event_policy_cascade") ||
		!strings.Contains(r.stderr, engine.ChaosPhaseInject) || strings.Contains(r.stderr, "running locally") {
		t.Fatalf("chaos run on the server: progress on stderr:\n%s", r.stderr)
	}

	r = c.run(t, "chaos", "run", "L2_event_policy_cascade", "--json")
	var run engine.ChaosRun
	r.decode(t, &run)
	if r.code != 0 || run.State != engine.ChaosPassed || run.Operator != "opal" || run.Trigger != engine.ChaosTriggerOperator ||
		len(run.Scenarios) != 1 || !run.Scenarios[0].Passed || r.stderr != "" {
		t.Fatalf("chaos run --json on the server: exit %d %+v\n%s", r.code, run, r.stderr)
	}

	// A scenario that fails there fails here: exit 1, as locally.
	fail := c.run(t, "chaos", "run", "L2_shallow_cascade", "--server", url)
	if fail.code != exitFailure || !strings.Contains(fail.stdout, "FAIL  L2_shallow_cascade") ||
		!strings.Contains(fail.stderr, "1 of 1 scenarios failed") || !strings.Contains(fail.stdout, "policy_cascade_limit did not fire") {
		t.Fatalf("failing run on the server: exit %d\n%s%s", fail.code, fail.stdout, fail.stderr)
	}

	// The server refuses a difficulty above chaos.loop.max_difficulty,
	// naming the limit: POST /v1/chaos/runs runs nothing.
	r = c.run(t, "chaos", "run", "L2_event_policy_cascade", "--difficulty", "11")
	if r.code == 0 || !strings.Contains(r.stderr, "11 is above the maximum, 10 (chaos.loop.max_difficulty)") || strings.Contains(r.stdout, "PASS") {
		t.Fatalf("chaos run --difficulty 11 on the server: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}

	var halt chaosHaltReport
	r = c.run(t, "chaos", "halt", "--json", "--reason", "drill")
	r.decode(t, &halt)
	if r.code != 0 || halt.Server == nil || halt.Server.URL != url || halt.Server.Halted != 0 || halt.Halted != 0 || len(halt.Local) != 0 {
		t.Fatalf("chaos halt with nothing running: exit %d %+v\n%s", r.code, halt, r.stderr)
	}
	r = c.run(t, "chaos", "halt")
	if r.code != 0 || !strings.Contains(r.stdout, "no chaos run was running") || !strings.Contains(r.stdout, "nothing was running") {
		t.Fatalf("chaos halt: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}

	c.run(t, "chaos", "run", "L2_nope").wantFail(t, exitUsage, "L2_nope")

	// A safeguard switched off on the command line would not reach the
	// server's scenarios: the run there would pass and answer another
	// question. It is refused and nothing runs; the CLI's own keys pass.
	before := c.run(t, "chaos", "history", "--json").stdout
	r = c.run(t, "--set", "safeguards.policy_cascade_limit.enabled=false", "chaos", "run", "L2_event_policy_cascade")
	if r.code != exitUsage || !strings.Contains(r.stderr, "--set safeguards.policy_cascade_limit.enabled=false would not reach the server at "+url) ||
		strings.Contains(r.stdout, "PASS") {
		t.Fatalf("chaos run with an engine --set on a server: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if after := c.run(t, "chaos", "history", "--json").stdout; after != before {
		t.Fatalf("a refused chaos run changed the history:\n%s\nthen\n%s", before, after)
	}
	r = c.run(t, "--set", "log.level=warn", "chaos", "run", "L2_event_policy_cascade")
	if r.code != 0 || !strings.Contains(r.stdout, "PASS  L2_event_policy_cascade") {
		t.Fatalf("chaos run with a CLI --set on the server: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

// With no server, grace chaos halt still halts local runs, and exits 0
// saying nothing was running when none was.
func TestCLIChaosHaltWithoutAServer(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	r := c.run(t, "chaos", "halt")
	if r.code != 0 || !strings.Contains(r.stdout, "nothing was running") || !strings.Contains(r.stdout, "no server answers") {
		t.Fatalf("chaos halt: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	var halt chaosHaltReport
	r = c.run(t, "chaos", "halt", "--json")
	r.decode(t, &halt)
	if r.code != 0 || halt.Server == nil || !strings.Contains(halt.Server.Note, "no server answers") || halt.Halted != 0 || halt.Local == nil {
		t.Fatalf("chaos halt --json: exit %d %s", r.code, r.stdout)
	}
}

// bgGrace is a grace command running in the background.
type bgGrace struct {
	cmd            *exec.Cmd
	stdout, stderr *syncBuffer
	done           chan error
}

// startGrace starts grace with args for c; the process is killed at the
// end of the test if it still runs.
func startGrace(t *testing.T, c *cli, args ...string) *bgGrace {
	t.Helper()
	g := &bgGrace{cmd: exec.Command(graceBin, args...), stdout: &syncBuffer{}, stderr: &syncBuffer{}, done: make(chan error, 1)}
	g.cmd.Dir = c.dir
	g.cmd.Env = append(os.Environ(), c.env...)
	g.cmd.Stdout, g.cmd.Stderr = g.stdout, g.stderr
	if err := g.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { g.done <- g.cmd.Wait() }()
	t.Cleanup(func() {
		_ = g.cmd.Process.Kill()
		<-g.done
		g.done <- nil
	})
	return g
}

// exit waits (at most 30 s) for g to end and returns its exit code.
func (g *bgGrace) exit(t *testing.T) int {
	t.Helper()
	select {
	case err := <-g.done:
		g.done <- err
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return ee.ExitCode()
		}
		if err != nil {
			t.Fatal(err)
		}
		return 0
	case <-time.After(30 * time.Second):
		t.Fatalf("grace %q did not end:\n%s", g.cmd.Args[1:], g.stderr.String())
		return -1
	}
}

// stuckCascade is a cascade too shallow to fire the safeguard it expects,
// watched for two minutes: it runs until it is halted.
var stuckCascade = strings.NewReplacer("id: L2_event_policy_cascade", "id: L2_stuck_cascade", "base: 12", "base: 2", "deadline: 1s", "deadline: 2m").Replace(quickCascade)

// writeStuckScenario puts stuckCascade in a scenarios folder of c's and
// returns it.
func writeStuckScenario(t *testing.T, c *cli) string {
	t.Helper()
	return c.scenarios(t, map[string]string{"stuck.yaml": stuckCascade})
}

// grace chaos halt stops a run going on the server, which the grace chaos
// run following it reports as halted (exit 130), on the record under the
// halting operator.
func TestCLIChaosHaltOnAServer(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	url := closedURL(t)
	c.env = []string{"GRACE_API_SERVER=" + url, "GRACE_CHAOS_SCENARIOS_DIR=" + writeStuckScenario(t, c), "USER=opal"}
	startServe(t, c, writeServeConfig(t, c.dir, url, ""), url)

	run := startGrace(t, c, "chaos", "run", "L2_stuck_cascade")
	waitFor(t, 30*time.Second, "the run to reach its watch phase", func() bool { return strings.Contains(run.stderr.String(), "watch") })
	c.run(t, "chaos", "run", "L2_stuck_cascade").wantFail(t, exitFailure, "already in progress")

	var halt chaosHaltReport
	r := c.run(t, "chaos", "halt", "--reason", "drill", "--json")
	r.decode(t, &halt)
	if r.code != 0 || halt.Server == nil || halt.Server.Halted != 1 || len(halt.Server.RunIDs) != 1 || halt.Halted != 1 {
		t.Fatalf("chaos halt: exit %d %+v\n%s", r.code, halt, r.stderr)
	}
	if code := run.exit(t); code != exitInterrupted || !strings.Contains(run.stderr.String(), "halted by opal") {
		t.Fatalf("the halted run: exit %d\n%s%s", code, run.stdout.String(), run.stderr.String())
	}
	var doc chaosHistoryDoc
	c.run(t, "chaos", "history", "--json").decode(t, &doc)
	if len(doc.Runs) != 1 || doc.Runs[0].RunID != halt.Server.RunIDs[0] || doc.Runs[0].State != engine.ChaosHalted || doc.Runs[0].HaltedBy != "opal" {
		t.Fatalf("history after the halt: %+v", doc)
	}

	// An interrupt of the command halts the run on the server, as it halts
	// a local run.
	run = startGrace(t, c, "chaos", "run", "L2_stuck_cascade")
	waitFor(t, 30*time.Second, "the second run to reach its watch phase", func() bool { return strings.Contains(run.stderr.String(), "watch") })
	if err := run.cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	if code := run.exit(t); code != exitInterrupted || !strings.Contains(run.stderr.String(), "interrupted: halting chaos run") {
		t.Fatalf("the interrupted run: exit %d\n%s%s", code, run.stdout.String(), run.stderr.String())
	}
	c.run(t, "chaos", "history", "--json").decode(t, &doc)
	if len(doc.Runs) != 2 || doc.Runs[0].State != engine.ChaosHalted || doc.Runs[0].HaltedBy != "opal" {
		t.Fatalf("history after the interrupt: %+v", doc.Runs[0])
	}
}

// grace chaos halt with no server interrupts a local grace chaos run
// through its announcement in the data folder.
func TestCLIChaosHaltInterruptsALocalRun(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.env = append(c.env, "GRACE_CHAOS_SCENARIOS_DIR="+writeStuckScenario(t, c))
	run := startGrace(t, c, "chaos", "run", "L2_stuck_cascade")
	announced := filepath.Join(c.dir, "grace-data", "chaos", "running", itoa(run.cmd.Process.Pid))
	waitFor(t, 30*time.Second, "the run to announce itself and reach its watch phase", func() bool {
		_, err := os.Stat(announced)
		return err == nil && strings.Contains(run.stderr.String(), "watch")
	})
	var halt chaosHaltReport
	r := (&cli{dir: c.dir, env: append(append([]string(nil), c.env...), "USER=carol")}).run(t, "chaos", "halt", "--reason", "maintenance window", "--json")
	r.decode(t, &halt)
	if r.code != 0 || halt.Server == nil || halt.Server.Halted != 0 || len(halt.Local) != 1 || halt.Local[0].PID != run.cmd.Process.Pid || halt.Local[0].RunID == "" || halt.Halted != 1 {
		t.Fatalf("chaos halt: exit %d %+v\n%s", r.code, halt, r.stderr)
	}
	// Stored as halted by whoever halted it, for their reason: not merely
	// "interrupted".
	if code := run.exit(t); code != exitInterrupted || !strings.Contains(run.stderr.String(), "halted by carol") ||
		!strings.Contains(run.stderr.String(), "maintenance window") {
		t.Fatalf("the interrupted run: exit %d\n%s%s", code, run.stdout.String(), run.stderr.String())
	}
	if left, _ := filepath.Glob(announced + "*"); len(left) != 0 {
		t.Fatalf("the announcement or its halt note is left behind: %v", left)
	}
	if _, err := os.Stat(announced); !os.IsNotExist(err) {
		t.Fatalf("the announcement is left behind: %v", err)
	}
}
