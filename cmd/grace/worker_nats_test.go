package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
)

// remoteWorker is one "grace worker" process of a test.
type remoteWorker struct {
	cmd  *exec.Cmd
	logs *syncBuffer
	done chan error
}

// startRemoteWorker starts "grace worker --nats url --name name".
func startRemoteWorker(t *testing.T, c *cli, config, url, name string) *remoteWorker {
	t.Helper()
	w := &remoteWorker{cmd: exec.Command(graceBin, "worker", "--config", config, "--nats", url, "--name", name, "--drain", "2s"),
		logs: &syncBuffer{}, done: make(chan error, 1)}
	w.cmd.Dir = c.dir
	w.cmd.Env = append(os.Environ(), c.env...)
	w.cmd.Stdout, w.cmd.Stderr = w.logs, w.logs
	if err := w.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { w.done <- w.cmd.Wait() }()
	t.Cleanup(func() {
		_ = w.cmd.Process.Kill()
		<-w.done
		w.done <- nil
	})
	return w
}

// freePort returns a loopback port nothing listens on.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// narrative is the part of a narratives search result these tests read.
type narrative struct {
	When     time.Time      `json:"when"`
	Who      string         `json:"who"`
	What     string         `json:"what"`
	Where    string         `json:"where"`
	Why      []string       `json:"why"`
	IntentID string         `json:"intent_id"`
	Context  map[string]any `json:"context"`
}

func searchNarratives(t *testing.T, c *cli, args ...string) []narrative {
	t.Helper()
	r := c.run(t, append([]string{"narratives", "search", "--limit", "1000", "--json"}, args...)...)
	if r.code != 0 {
		t.Fatalf("narratives search %v: exit %d %s", args, r.code, r.stderr)
	}
	var out struct {
		Narratives []narrative `json:"narratives"`
	}
	r.decode(t, &out)
	return out.Narratives
}

// serveNATS starts "grace serve" with the nats backend (see
// writeNATSConfig) and returns its CLI, its config, its API URL and the
// URL of its embedded nats-server.
func serveNATS(t *testing.T, latency string) (c *cli, config, apiURL, natsURL string) {
	t.Helper()
	return serveNATSWith(t, latency, "")
}

// serveNATSWith is serveNATS with extra, more top-level YAML, added to its
// config.
func serveNATSWith(t *testing.T, latency, extra string) (c *cli, config, apiURL, natsURL string) {
	t.Helper()
	c = newCLI(t)
	apiURL = closedURL(t)
	c.env = []string{"GRACE_API_SERVER=" + apiURL}
	natsPort := freePort(t)
	config = writeNATSConfig(t, c, apiURL, natsPort, latency)
	if extra != "" {
		body, err := os.ReadFile(config)
		if err == nil {
			err = os.WriteFile(config, append(body, extra...), 0o600)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	startServe(t, c, config, apiURL)
	return c, config, apiURL, fmt.Sprintf("nats://127.0.0.1:%d", natsPort)
}

// writeNATSConfig writes a config of the nats backend: the API on apiURL,
// an embedded nats-server on natsPort, four slots, a fast heartbeat, a
// short ack wait and sim handlers of latency; it returns its path.
func writeNATSConfig(t *testing.T, c *cli, apiURL string, natsPort int, latency string) string {
	t.Helper()
	config := filepath.Join(c.dir, "nats.yaml")
	body := fmt.Sprintf(`api:
  listen: %s
cortex:
  enabled: false
workers:
  count: 4
backend:
  kind: nats
  nats:
    url: embedded
    listen: 127.0.0.1:%d
    ack_wait: 2s
    heartbeat_interval: 200ms
handlers:
  default:
    kind: sim
    latency: %s
`, strings.TrimPrefix(apiURL, "http://"), natsPort, latency)
	if err := os.WriteFile(config, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return config
}

// TestNATSWorkersSIGKILL runs a control plane with the nats backend on an
// embedded nats-server and two "grace worker" processes, kills one with
// SIGKILL while it runs a task, and accounts for every task: each completes
// exactly once on the record, the killed worker's task after a redelivery
// to the other worker (on the record), and both workers were listed with
// their host.
func TestNATSWorkersSIGKILL(t *testing.T) {
	t.Parallel()
	c, config, apiURL, natsURL := serveNATS(t, "600ms")
	victim := startRemoteWorker(t, c, config, natsURL, "victim")
	survivor := startRemoteWorker(t, c, config, natsURL, "survivor")

	// The trigger mesh is on NATS too: intent.completed events arrive on
	// grace.mesh.intent.completed.
	nc, err := nats.Connect(natsURL)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	meshSub, err := nc.SubscribeSync("grace.mesh.intent.completed")
	if err != nil {
		t.Fatal(err)
	}
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	const n = 12
	var ids []string
	for i := range n {
		r := c.run(t, "intent", "submit", "--type", "query_knowledge", "--actor", "agent.researcher",
			"--payload", fmt.Sprintf(`{"q":%d}`, i), "--idempotency-key", fmt.Sprintf("q-%d", i))
		if r.code != 0 {
			t.Fatalf("submit: exit %d %s", r.code, r.stderr)
		}
		ids = append(ids, strings.TrimSpace(r.stdout))
	}
	// Both workers are listed with their host while they work.
	host, _ := os.Hostname()
	waitFor(t, 20*time.Second, "both remote workers in the telemetry's worker list", func() bool {
		seen := 0
		for _, w := range telemetryWorkers(t, c, apiURL) {
			if (w.Name == "victim" || w.Name == "survivor") && w.Host == host && w.Healthy {
				seen++
			}
		}
		return seen == 2
	})
	// Kill the victim while it holds a task that is still running.
	var held string
	waitFor(t, 20*time.Second, "the victim to hold a running task", func() bool {
		states := listIntents(t, c)
		for _, nr := range searchNarratives(t, c, "--action", "remote_task_claimed", "--actor", "victim") {
			if states[nr.IntentID] == "running" {
				held = nr.IntentID
				return true
			}
		}
		return false
	})
	if err := victim.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-victim.done
	victim.done <- nil
	killedAt := time.Now()
	waitFor(t, 30*time.Second, "the victim's task to complete elsewhere", func() bool { return listIntents(t, c)[held] == "completed" })
	t.Logf("the killed worker's task completed %v after the SIGKILL (ack_wait 2s)", time.Since(killedAt).Round(10*time.Millisecond))
	waitFor(t, 30*time.Second, "every task to complete", func() bool {
		st := listIntents(t, c)
		for _, id := range ids {
			if st[id] != "completed" {
				return false
			}
		}
		return true
	})
	meshSeen := map[string]bool{}
	for len(meshSeen) < n {
		m, err := meshSub.NextMsg(10 * time.Second)
		if err != nil {
			t.Fatalf("after %d intent.completed mesh events: %v", len(meshSeen), err)
		}
		var ev struct {
			Fields map[string]string `json:"fields"`
		}
		if err := json.Unmarshal(m.Data, &ev); err != nil {
			t.Fatal(err)
		}
		if slices.Contains(ids, ev.Fields["id"]) {
			meshSeen[ev.Fields["id"]] = true
		}
	}
	completed := map[string]int{}
	for _, nr := range searchNarratives(t, c, "--action", "intent_completed") {
		completed[nr.IntentID]++
		if nr.Who != "victim" && nr.Who != "survivor" {
			t.Errorf("%s completed by %q on the record, want the remote worker that ran it (victim or survivor)", nr.IntentID, nr.Who)
		}
	}
	for _, id := range ids {
		if completed[id] != 1 {
			t.Errorf("%s has %d intent_completed records, want exactly 1", id, completed[id])
		}
	}
	// Each intent names the remote worker that ran it, not a dispatch
	// slot of the control plane: the killed worker's task the survivor.
	for id, w := range intentWorkers(t, c) {
		if slices.Contains(ids, id) && w != "victim" && w != "survivor" {
			t.Errorf("intent %s names worker %q, want the remote worker that ran it (victim or survivor)", id, w)
		}
	}
	var got struct{ Worker string }
	c.run(t, "intent", "get", held, "--json").decode(t, &got)
	if got.Worker != "survivor" {
		t.Errorf("intent get %s --json: worker %q, want survivor, which completed it after the victim was killed", held, got.Worker)
	}
	if r := c.run(t, "intent", "get", held); !regexp.MustCompile(`(?m)^worker\s+survivor\s*$`).MatchString(r.stdout) {
		t.Errorf("intent get %s does not show worker survivor:\n%s", held, r.stdout)
	}
	// The dispatch records speak of dispatch slots for the remote workers,
	// not of choosing a "healthy worker" among the slots.
	for _, nr := range searchNarratives(t, c, "--action", "intent_dispatched") {
		why := strings.Join(nr.Why, " | ")
		if strings.Contains(why, "healthy worker") || !strings.Contains(why, "is a free dispatch slot") {
			t.Errorf("dispatch record of %s: %q; want it to say the attempt went to a dispatch slot for the remote workers", nr.IntentID, why)
			break
		}
	}
	redelivered := searchNarratives(t, c, "--action", "remote_task_redelivered")
	found := false
	for _, nr := range redelivered {
		if nr.IntentID == held && nr.Who == "survivor" && nr.Context["from_worker"] == "victim" {
			found = true
		}
	}
	if !found {
		t.Fatalf("no remote_task_redelivered record moving %s from victim to survivor: %+v", held, redelivered)
	}
	// The SIGKILL is one loss, recorded once. (On a loaded machine a
	// worker's heartbeats can come late enough that it is taken for lost
	// and then heard again before the kill: that is on the record too,
	// and not this loss.)
	lostAfterKill := 0
	for _, nr := range searchNarratives(t, c, "--action", "remote_worker_lost") {
		switch {
		case nr.Context["worker"] == "victim" && !nr.When.Before(killedAt):
			lostAfterKill++
		default:
			t.Logf("remote_worker_lost of %v at %v (the SIGKILL at %v): heartbeats late under load", nr.Context["worker"], nr.When, killedAt)
		}
	}
	if lostAfterKill != 1 {
		t.Errorf("%d remote_worker_lost records of the victim since its SIGKILL, want 1", lostAfterKill)
	}
	// SIGTERM: the survivor leaves cleanly, exit 0, on the record.
	if err := survivor.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := <-survivor.done; err != nil {
		t.Errorf("the survivor exited with %v after SIGTERM; want 0:\n%s", err, survivor.logs.String())
	}
	survivor.done <- nil
	waitFor(t, 10*time.Second, "the survivor's departure on the record", func() bool {
		left := searchNarratives(t, c, "--action", "remote_worker_left", "--actor", "survivor")
		return len(left) == 1
	})
}

// intentWorkers returns each intent's worker, by ID, as intent list
// --json shows it.
func intentWorkers(t *testing.T, c *cli) map[string]string {
	t.Helper()
	r := c.run(t, "intent", "list", "--limit", "1000", "--json")
	if r.code != 0 {
		t.Fatalf("intent list: exit %d: %s", r.code, r.stderr)
	}
	var out struct {
		Intents []struct{ ID, Worker string } `json:"intents"`
	}
	r.decode(t, &out)
	workers := map[string]string{}
	for _, in := range out.Intents {
		workers[in.ID] = in.Worker
	}
	return workers
}

// workerView is a worker as GET /v1/telemetry shows it.
type workerView struct {
	Name    string `json:"name"`
	Host    string `json:"host"`
	Healthy bool   `json:"healthy"`
}

// telemetryWorkers reads the worker list from the API with the local token.
func telemetryWorkers(t *testing.T, c *cli, apiURL string) []workerView {
	t.Helper()
	tok, err := os.ReadFile(filepath.Join(c.dir, "grace-data", tokenFileName))
	if err != nil {
		return nil
	}
	req, _ := http.NewRequest("GET", apiURL+"/v1/telemetry", nil)
	req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(string(tok)))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil
	}
	defer resp.Body.Close()
	var snap struct {
		Workers []workerView `json:"workers"`
	}
	if resp.StatusCode != http.StatusOK || json.NewDecoder(resp.Body).Decode(&snap) != nil {
		return nil
	}
	return snap.Workers
}

func TestWorkerUsageErrors(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.run(t, "worker").wantFail(t, exitUsage, `grace worker needs --nats URL (backend.nats.url is "embedded")`)
	c.run(t, "worker", "--nats", "http://127.0.0.1:1").wantFail(t, exitUsage, `--nats "http://127.0.0.1:1" must be a nats:// URL`)
	c.run(t, "worker", "--nats", "nats://127.0.0.1:1", "--slots", "0").wantFail(t, exitUsage, "--slots (0) must be 1 to 1024")
	// Nothing listens there: one line naming the URL, no trace.
	port := freePort(t)
	c.run(t, "worker", "--nats", fmt.Sprintf("nats://127.0.0.1:%d", port)).wantFail(t, exitFailure, fmt.Sprintf("connect to nats at nats://127.0.0.1:%d", port))
}

// silentNATS is a NATS server that accepts a client and answers its pings
// but no request: a control plane that never answers. It returns its URL
// and a channel closed when a client first asks JetStream something.
func silentNATS(t *testing.T) (string, <-chan struct{}) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	asked := make(chan struct{})
	var once sync.Once
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer conn.Close()
				fmt.Fprint(conn, `INFO {"server_id":"silent","version":"2.10.0","proto":1,"headers":true,"max_payload":1048576}`+"\r\n")
				lines := bufio.NewScanner(conn)
				for lines.Scan() {
					switch line := lines.Text(); {
					case line == "PING":
						fmt.Fprint(conn, "PONG\r\n")
					case strings.HasPrefix(line, "PUB $JS.API.") || strings.HasPrefix(line, "HPUB $JS.API."):
						once.Do(func() { close(asked) })
					}
				}
			}()
		}
	}()
	return "nats://" + ln.Addr().String(), asked
}

// A SIGTERM while grace worker waits for the control plane's answer is a
// clean stop (exit 0, "stopped while starting"), as for serve; it was exit
// 1 with "find consumer …: context canceled".
func TestWorkerSignalWhileStartingIsACleanStop(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	url, asked := silentNATS(t)
	logs := &syncBuffer{}
	cmd := exec.Command(graceBin, "worker", "--nats", url, "--name", "starting")
	cmd.Dir, cmd.Env, cmd.Stdout, cmd.Stderr = c.dir, append(os.Environ(), c.env...), logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-done
		done <- nil
	})
	select {
	case <-asked:
	case err := <-done:
		done <- err
		t.Fatalf("worker ended before asking for its queues: %v\n%s", err, logs.String())
	case <-time.After(20 * time.Second):
		t.Fatalf("worker never asked for its queues:\n%s", logs.String())
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		done <- err
		if err != nil || strings.Contains(logs.String(), "grace: ") {
			t.Fatalf("worker stopped while starting: %v\n%s", err, logs.String())
		}
		if !strings.Contains(logs.String(), `msg="stopped while starting" worker=starting cause=signal`) {
			t.Fatalf("the log does not say it stopped while starting:\n%s", logs.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("worker did not stop on SIGTERM while starting:\n%s", logs.String())
	}
}
