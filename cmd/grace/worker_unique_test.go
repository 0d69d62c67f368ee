package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// On one NATS, a second "grace worker" under a live worker's name and a
// second "grace serve" are refused at start with exit 1 and a message
// naming what already runs there; the first worker and control plane run
// on.
func TestNATSRefusesASecondWorkerNameAndControlPlane(t *testing.T) {
	t.Parallel()
	c, config, apiURL, natsURL := serveNATS(t, "10ms")
	first := startRemoteWorker(t, c, config, natsURL, "d1")
	host, _ := os.Hostname()
	waitFor(t, 20*time.Second, "d1 in the worker list", func() bool {
		for _, w := range telemetryWorkers(t, c, apiURL) {
			if w.Name == "d1" && w.Healthy {
				return true
			}
		}
		return false
	})

	r := c.exec(t, nil, 20*time.Second, "worker", "--config", config, "--nats", natsURL, "--name", "d1")
	if r.code != 1 || !strings.Contains(r.stderr, `worker name "d1" is in use by a live worker on `+host) {
		t.Errorf("a second worker d1: exit %d, stderr:\n%s\nwant exit 1 naming d1 and the live one's host %s", r.code, r.stderr, host)
	}

	other := closedURL(t)
	r = c.exec(t, nil, 20*time.Second, "serve", "--config", config, "--set", "db="+filepath.Join(c.dir, "other.db"),
		"--set", "api.listen="+strings.TrimPrefix(other, "http://"), "--set", "backend.nats.url="+natsURL)
	if r.code != 1 || !strings.Contains(r.stderr, "another Grace control plane serves this NATS") ||
		!strings.Contains(r.stderr, "API "+strings.TrimPrefix(apiURL, "http://")) {
		t.Errorf("a second grace serve: exit %d, stderr:\n%s\nwant exit 1 naming the serving control plane's API %s", r.code, r.stderr, apiURL)
	}

	ids := make([]string, 3)
	for i := range ids {
		r := c.run(t, "intent", "submit", "--type", "query_knowledge", "--actor", "agent.researcher",
			"--payload", fmt.Sprintf(`{"q":%d}`, i), "--idempotency-key", fmt.Sprintf("u-%d", i))
		if r.code != 0 {
			t.Fatalf("submit: exit %d %s", r.code, r.stderr)
		}
		ids[i] = strings.TrimSpace(r.stdout)
	}
	waitFor(t, 20*time.Second, "the first worker to run every task", func() bool {
		st := listIntents(t, c)
		for _, id := range ids {
			if st[id] != "completed" {
				return false
			}
		}
		return true
	})
	if n := len(searchNarratives(t, c, "--action", "remote_worker_joined")); n != 1 {
		t.Errorf("%d remote_worker_joined records, want 1 (the second d1 never joined)", n)
	}
	select {
	case err := <-first.done:
		t.Errorf("the first d1 exited: %v\n%s", err, first.logs.String())
		first.done <- nil
	default:
	}
}
