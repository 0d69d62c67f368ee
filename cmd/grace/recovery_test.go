package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// server is one "grace serve" process of a test.
type server struct {
	cmd  *exec.Cmd
	logs *syncBuffer
	done chan error
}

// startServe starts "grace serve" with the config file and waits (at most
// 20 s) until its API answers /healthz.
func startServe(t *testing.T, c *cli, config, url string) *server {
	t.Helper()
	s := &server{cmd: exec.Command(graceBin, "serve", "--config", config), logs: &syncBuffer{}, done: make(chan error, 1)}
	s.cmd.Dir = c.dir
	s.cmd.Env = append(os.Environ(), c.env...)
	s.cmd.Stdout, s.cmd.Stderr = s.logs, s.logs
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { s.done <- s.cmd.Wait() }()
	t.Cleanup(func() {
		_ = s.cmd.Process.Kill()
		<-s.done
		s.done <- nil
	})
	waitFor(t, 20*time.Second, "serve to answer /healthz:\n"+s.logs.String(), func() bool {
		resp, err := http.Get(url + "/healthz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	return s
}

// waitFor polls cond every 50 ms until it holds, failing the test after limit.
func waitFor(t *testing.T, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// listIntents is "grace intent list --json" as a map of ID to state.
func listIntents(t *testing.T, c *cli) map[string]string {
	t.Helper()
	r := c.run(t, "intent", "list", "--limit", "1000", "--json")
	if r.code != 0 {
		t.Fatalf("intent list: exit %d: %s", r.code, r.stderr)
	}
	var out struct {
		Intents []struct{ ID, State string } `json:"intents"`
	}
	r.decode(t, &out)
	states := map[string]string{}
	for _, in := range out.Intents {
		states[in.ID] = in.State
	}
	return states
}

// TestSIGKILLRecovery kills a serving engine with SIGKILL while two intents
// run, three wait in the queue and one waits for a human, then starts it
// again: every acknowledged intent is still there, the pending approval is
// still pending, the queued and running ones run to completion (the running
// ones again: at-least-once, and on the record), and the audit chain holds.
func TestSIGKILLRecovery(t *testing.T) {
	t.Parallel()
	c, url := newServerCLI(t)
	pids := filepath.Join(c.dir, "running.pids")
	writeServeConfig := func(name, handler string) string {
		path := filepath.Join(c.dir, name)
		body := fmt.Sprintf(`api:
  listen: %s
cortex:
  enabled: false
workers:
  count: 2
handlers:
  default:
%s
`, strings.TrimPrefix(url, "http://"), handler)
		if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	// First life: every task hangs in a child that records its PID.
	hang := writeServeConfig("hang.yaml", fmt.Sprintf(`    kind: exec
    command: ["sh", "-c", "cat >/dev/null; echo $$ >> %s; exec sleep 60"]`, pids))
	srv := startServe(t, c, hang, url)
	var work []string
	for i := range 5 {
		r := c.run(t, "intent", "submit", "--type", "schedule_task", "--actor", "agent.planner",
			"--payload", fmt.Sprintf(`{"job":%d}`, i), "--idempotency-key", fmt.Sprintf("job-%d", i))
		if r.code != 0 || r.stderr != "" {
			t.Fatalf("submit: exit %d %s %s", r.code, r.stdout, r.stderr)
		}
		work = append(work, strings.TrimSpace(r.stdout))
	}
	r := c.run(t, "intent", "submit", "--type", "change_charter", "--actor", "agent.architect")
	pending := strings.TrimSpace(r.stdout)
	if r.code != 0 || pending == "" {
		t.Fatalf("submit tier 0: exit %d %s", r.code, r.stderr)
	}
	waitFor(t, 20*time.Second, "two tasks running", func() bool {
		st := listIntents(t, c)
		running := 0
		for _, id := range work {
			if st[id] == "running" {
				running++
			}
		}
		return running == 2 && len(readPIDs(t, pids)) == 2
	})
	before := listIntents(t, c)

	if err := srv.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-srv.done
	srv.done <- nil
	// The handlers' commands die with their server (the kernel's
	// parent-death signal): one left running would run beside its rerun.
	handlers := readPIDs(t, pids)
	t.Cleanup(func() {
		for _, pid := range handlers {
			_ = syscall.Kill(-pid, syscall.SIGKILL)
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	})
	waitFor(t, 10*time.Second, "the handlers' commands to die with the SIGKILLed server", func() bool {
		for _, pid := range handlers {
			if processRuns(pid) {
				return false
			}
		}
		return true
	})

	// The database as the crash left it: all six acknowledged intents.
	after := listIntents(t, c)
	for id, state := range before {
		if after[id] != state {
			t.Errorf("after SIGKILL, %s is %q; it was %q", id, after[id], state)
		}
	}

	// Second life: tasks complete at once.
	quick := writeServeConfig("quick.yaml", "    kind: noop")
	startServe(t, c, quick, url)
	waitFor(t, 20*time.Second, "every recovered task to complete", func() bool {
		st := listIntents(t, c)
		for _, id := range work {
			if st[id] != "completed" {
				return false
			}
		}
		return true
	})
	if st := listIntents(t, c)[pending]; st != "pending_approval" {
		t.Fatalf("the Tier 0 intent is %q after the restart; want pending_approval", st)
	}
	requeued := 0
	for _, id := range work {
		r := c.run(t, "narratives", "search", "--intent", id, "--json")
		var nr struct {
			Narratives []struct{ What string } `json:"narratives"`
		}
		r.decode(t, &nr)
		for _, n := range nr.Narratives {
			if n.What == "intent_requeued_after_restart" {
				requeued++
			}
		}
	}
	if requeued != 2 {
		t.Fatalf("%d intent_requeued_after_restart records; want 2 (the two that were running)", requeued)
	}
	r = c.run(t, "audit", "verify", "--json")
	var rep struct {
		OK bool `json:"ok"`
	}
	if r.code != 0 {
		t.Fatalf("audit verify after the crash: exit %d %s %s", r.code, r.stdout, r.stderr)
	}
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil || !rep.OK {
		t.Fatalf("audit verify: %v %s", err, r.stdout)
	}
}

// grandchildHandler is an exec handler, a shell script, whose first run
// starts a grandchild ("sleep 600" in the background) and waits on it: the
// kernel's parent-death signal kills the script with the grace process
// running it, not the grandchild, which would run on beside the task's
// rerun. A rerun notes whether the first run's grandchild (its environment
// names the same intent) still runs, and completes.
type grandchildHandler struct {
	pidFile, runLog string
}

func newGrandchildHandler(t *testing.T, dir string) *grandchildHandler {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skip("leftover handler processes are found in /proc")
	}
	return &grandchildHandler{pidFile: filepath.Join(dir, "grandchild.pid"), runLog: filepath.Join(dir, "runs.log")}
}

// config is the handlers section running the script for every type.
func (g *grandchildHandler) config(t *testing.T) string {
	t.Helper()
	script := `cat >/dev/null
if [ -s "$1" ]; then
  p=$(cat "$1")
  if tr '\0' '\n' < /proc/$p/environ 2>/dev/null | grep -qx "GRACE_INTENT_ID=$GRACE_INTENT_ID"; then
    echo "overlap $p" >> "$2"
  fi
  echo done >> "$2"
  exit 0
fi
echo start >> "$2"
sleep 600 &
echo $! > "$1.tmp" && mv "$1.tmp" "$1"
wait`
	command, err := json.Marshal([]string{"/bin/sh", "-c", script, "sh", g.pidFile, g.runLog})
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("handlers:\n  default:\n    kind: exec\n    timeout: 10m\n    command: %s\n", command)
}

// started waits for intent id's first run to start its grandchild and
// returns the grandchild's PID; the test's end kills it if it still runs.
func (g *grandchildHandler) started(t *testing.T, id string) int {
	t.Helper()
	var pid int
	waitFor(t, 20*time.Second, "the handler to start its grandchild", func() bool {
		if pids := readPIDs(t, g.pidFile); len(pids) == 1 {
			pid = pids[0]
		}
		return pid != 0
	})
	t.Cleanup(func() {
		if runsFor(pid, id) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	})
	return pid
}

// ranOnce fails the test unless the script's runs were the first, which
// started the grandchild, and a rerun that found it no longer running.
func (g *grandchildHandler) ranOnce(t *testing.T) {
	t.Helper()
	b, err := os.ReadFile(g.runLog)
	if err != nil {
		t.Fatal(err)
	}
	if got := string(b); got != "start\ndone\n" {
		t.Errorf("the handler's runs:\n%s\nwant a start (the first run) and a done (the rerun), nothing running beside it", got)
	}
}

// runsFor reports whether pid runs with GRACE_INTENT_ID=id in its
// environment: a process of that intent's handler, not another that got
// its PID.
func runsFor(pid int, id string) bool {
	env, err := os.ReadFile(fmt.Sprintf("/proc/%d/environ", pid))
	if err != nil {
		return false
	}
	return slices.Contains(strings.Split(string(env), "\x00"), "GRACE_INTENT_ID="+id) && processRuns(pid)
}

// TestSIGKILLRecoveryKillsHandlerGrandchildren kills a serving engine with
// SIGKILL while its exec handler's grandchild runs (grandchildHandler).
// Started again on the same data folder and config, grace kills the
// grandchild before recovery queues the task again
// (leftover_handlers_killed on the record): the rerun finds nothing of the
// first run still running, and the intent completes once.
func TestSIGKILLRecoveryKillsHandlerGrandchildren(t *testing.T) {
	t.Parallel()
	c, url := newServerCLI(t)
	g := newGrandchildHandler(t, c.dir)
	config := filepath.Join(c.dir, "grace.yaml")
	body := fmt.Sprintf("api:\n  listen: %s\ncortex:\n  enabled: false\nworkers:\n  count: 1\n%s",
		strings.TrimPrefix(url, "http://"), g.config(t))
	if err := os.WriteFile(config, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}

	srv := startServe(t, c, config, url)
	r := c.run(t, "intent", "submit", "--type", "schedule_task", "--actor", "agent.planner", "--payload", `{"job":1}`)
	id := strings.TrimSpace(r.stdout)
	if r.code != 0 || id == "" {
		t.Fatalf("submit: exit %d %s %s", r.code, r.stdout, r.stderr)
	}
	grandchild := g.started(t, id)
	if err := srv.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-srv.done
	srv.done <- nil
	if !runsFor(grandchild, id) {
		t.Fatalf("the grandchild %d died with the server: this test shows nothing any more", grandchild)
	}

	startServe(t, c, config, url)
	waitFor(t, 20*time.Second, "the rerun to complete", func() bool { return listIntents(t, c)[id] == "completed" })
	g.ranOnce(t)
	waitFor(t, 10*time.Second, "the restarted server to kill the first run's grandchild", func() bool {
		return !processRuns(grandchild)
	})
	if got := searchNarratives(t, c, "--action", "leftover_handlers_killed"); len(got) != 1 {
		t.Errorf("%d leftover_handlers_killed records; want 1", len(got))
	}
}

// TestNATSWorkerStartKillsHandlerGrandchildren kills a "grace worker" with
// SIGKILL while its exec handler's grandchild runs (grandchildHandler), and
// starts another worker, under another name, on the same host: it kills
// the grandchild before it takes any task, so the rerun of the task, which
// it gets once the control plane has given up on the dead worker, finds
// nothing of the first run still running.
func TestNATSWorkerStartKillsHandlerGrandchildren(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	g := newGrandchildHandler(t, c.dir)
	apiURL := closedURL(t)
	c.env = []string{"GRACE_API_SERVER=" + apiURL}
	natsPort := freePort(t)
	natsURL := fmt.Sprintf("nats://127.0.0.1:%d", natsPort)
	config := filepath.Join(c.dir, "nats.yaml")
	body := fmt.Sprintf(`api:
  listen: %s
cortex:
  enabled: false
backend:
  kind: nats
  nats:
    url: embedded
    listen: 127.0.0.1:%d
    ack_wait: 2s
    heartbeat_interval: 200ms
%s`, strings.TrimPrefix(apiURL, "http://"), natsPort, g.config(t))
	if err := os.WriteFile(config, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	startServe(t, c, config, apiURL)
	first := startRemoteWorker(t, c, config, natsURL, "first")

	r := c.run(t, "intent", "submit", "--type", "schedule_task", "--actor", "agent.planner", "--payload", `{"job":1}`)
	id := strings.TrimSpace(r.stdout)
	if r.code != 0 || id == "" {
		t.Fatalf("submit: exit %d %s %s", r.code, r.stdout, r.stderr)
	}
	grandchild := g.started(t, id)
	if err := first.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-first.done
	first.done <- nil
	if !runsFor(grandchild, id) {
		t.Fatalf("the grandchild %d died with the worker: this test shows nothing any more", grandchild)
	}

	second := startRemoteWorker(t, c, config, natsURL, "second")
	waitFor(t, 30*time.Second, "the rerun to complete on the second worker", func() bool { return listIntents(t, c)[id] == "completed" })
	g.ranOnce(t)
	waitFor(t, 10*time.Second, "the second worker to kill the first one's grandchild", func() bool {
		return !processRuns(grandchild)
	})
	if logs := second.logs.String(); !strings.Contains(logs, "killed processes left running") {
		t.Errorf("the second worker's log does not say it killed the leftovers:\n%s", logs)
	}
}

// readPIDs reads the PIDs the hanging handler wrote, one per line.
func readPIDs(t *testing.T, path string) []int {
	t.Helper()
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	var pids []int
	for _, f := range strings.Fields(string(b)) {
		if n, err := strconv.Atoi(f); err == nil {
			pids = append(pids, n)
		}
	}
	return pids
}

// processRuns reports whether pid is a live process (not gone, not a
// zombie waiting to be reaped).
func processRuns(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	// The state follows the parenthesised command name: "pid (comm) S …".
	if i := bytes.LastIndexByte(b, ')'); i >= 0 && i+2 < len(b) {
		return b[i+2] != 'Z' && b[i+2] != 'X'
	}
	return true
}
