package main

import (
	"fmt"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"
)

// A grace serve told to stop just after the worker running its task was
// killed still watches its workers while its engine stops: the dead
// worker is found lost two heartbeats on and recorded so, and its stopped
// attempt ends then, instead of the dispatcher going deaf at the signal
// and the engine waiting out workers.abandon_after (30s here) for a
// handler it then says "ignores its cancellation".
func TestServeStoppingRecordsAWorkerLostMeanwhile(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	apiURL := closedURL(t)
	c.env = []string{"GRACE_API_SERVER=" + apiURL}
	natsPort := freePort(t)
	config := writeNATSConfig(t, c, apiURL, natsPort, "1m")
	body, err := os.ReadFile(config)
	if err != nil {
		t.Fatal(err)
	}
	// A 1s heartbeat: the worker is found lost 2s after its kill, well
	// after the signal that follows the kill at once.
	cfg := strings.Replace(string(body), "heartbeat_interval: 200ms", "heartbeat_interval: 1s", 1)
	cfg = strings.Replace(cfg, "ack_wait: 2s", "ack_wait: 5s", 1)
	cfg = strings.Replace(cfg, "count: 4\n", "count: 4\n  abandon_after: 30s\n", 1)
	if err := os.WriteFile(config, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	s := startServe(t, c, config, apiURL)
	victim := startRemoteWorker(t, c, config, fmt.Sprintf("nats://127.0.0.1:%d", natsPort), "victim")
	r := c.run(t, "intent", "submit", "--type", "query_knowledge", "--actor", "agent.researcher", "--payload", `{"q":1}`)
	if r.code != 0 {
		t.Fatalf("submit: exit %d %s", r.code, r.stderr)
	}
	id := strings.TrimSpace(r.stdout)
	waitFor(t, 20*time.Second, "the victim to claim the task", func() bool {
		return len(searchNarratives(t, c, "--action", "remote_task_claimed", "--intent", id)) == 1
	})
	if err := victim.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-victim.done
	victim.done <- nil
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-s.done:
		s.done <- nil
		if err != nil {
			t.Fatalf("grace serve exited with %v after SIGTERM, want 0:\n%s", err, s.logs.String())
		}
	case <-time.After(90 * time.Second): // a hang bound, past the 30s abandon_after
		t.Fatalf("grace serve has not exited 90s after SIGTERM:\n%s", s.logs.String())
	}
	lost := searchNarratives(t, c, "--action", "remote_worker_lost")
	if len(lost) != 1 || lost[0].Context["worker"] != "victim" {
		t.Errorf("remote_worker_lost records after the shutdown: %+v; want one, for the victim, killed as serve stopped", lost)
	}
	if logs := s.logs.String(); strings.Contains(logs, "ignore their cancellation") {
		t.Errorf("serve says its handlers ignore their cancellation; the one it waited for was on a killed worker:\n%s", logs)
	}
}
