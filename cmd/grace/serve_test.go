package main

import (
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"grace/engine/enginetest"
)

// syncBuffer is a bytes.Buffer safe to read while a process writes to it.
type syncBuffer = enginetest.Buffer

func TestCLIDirectMode(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	r := c.run(t, "intent", "submit", "--type", "query_knowledge", "--payload", `{"q":"revenue"}`, "--idempotency-key", "k-1")
	id := strings.TrimSpace(r.stdout)
	if r.code != 0 || id == "" || !strings.Contains(r.stderr, "wrote to DB directly") {
		t.Fatalf("direct submit: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	r = c.run(t, "intent", "submit", "--type", "query_knowledge", "--payload", `{"q":"revenue"}`, "--idempotency-key", "k-1")
	if r.code != 0 || strings.TrimSpace(r.stdout) != id {
		t.Fatalf("resubmit with the same key: exit %d, %q (want %s): %s", r.code, r.stdout, id, r.stderr)
	}
	r = c.run(t, "intent", "submit", "--type", "change_charter", "--json")
	var sub struct {
		ID    string `json:"id"`
		State string `json:"state"`
	}
	r.decode(t, &sub)
	if r.code != 0 || sub.State != "pending_approval" {
		t.Fatalf("tier 0 submit: exit %d %s %s", r.code, r.stdout, r.stderr)
	}
	var list struct {
		Intents []struct{ ID, State string } `json:"intents"`
	}
	r = c.run(t, "intent", "list", "--json")
	r.decode(t, &list)
	if r.code != 0 || len(list.Intents) != 2 || list.Intents[0].ID != sub.ID {
		t.Fatalf("list: exit %d %s %s", r.code, r.stdout, r.stderr)
	}
	r = c.run(t, "intent", "approve", sub.ID, "--reason", "charter review done", "--operator", "alice")
	if r.code != 0 || !strings.Contains(r.stdout, "approved "+sub.ID+" by alice") {
		t.Fatalf("approve: exit %d %s %s", r.code, r.stdout, r.stderr)
	}
	c.run(t, "intent", "deny", sub.ID, "--reason", "too late").wantFail(t, exitFailure, "not pending")
	r = c.run(t, "audit", "verify")
	if r.code != 0 || !strings.Contains(r.stdout, "intact") {
		t.Fatalf("audit verify: exit %d %s %s", r.code, r.stdout, r.stderr)
	}
	r = c.run(t, "narratives", "search", "--intent", sub.ID, "--json")
	var nr struct {
		Narratives []struct{ What string } `json:"narratives"`
	}
	r.decode(t, &nr)
	if r.code != 0 || len(nr.Narratives) < 2 {
		t.Fatalf("the approved intent's story: exit %d %s %s", r.code, r.stdout, r.stderr)
	}
}

func TestCLIServe(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	url := closedURL(t)
	c.env = []string{"GRACE_API_LISTEN=" + strings.TrimPrefix(url, "http://"), "GRACE_API_SERVER=" + url, "GRACE_CORTEX_ENABLED=false"}

	srv := exec.Command(graceBin, "serve")
	srv.Dir = c.dir
	srv.Env = append(os.Environ(), c.env...)
	var logs syncBuffer
	srv.Stdout, srv.Stderr = &logs, &logs
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Wait() }()
	t.Cleanup(func() {
		_ = srv.Process.Kill()
		<-done
	})
	// Wait for the API, for at most 20 s.
	up := false
	for i := 0; i < 200 && !up; i++ {
		if resp, err := http.Get(url + "/healthz"); err == nil {
			resp.Body.Close()
			up = resp.StatusCode == http.StatusOK
		}
		if !up {
			time.Sleep(100 * time.Millisecond)
		}
	}
	if !up {
		t.Fatalf("serve did not come up:\n%s", logs.String())
	}

	r := c.run(t, "intent", "submit", "--type", "change_charter", "--actor", "agent-1")
	id := strings.TrimSpace(r.stdout)
	if r.code != 0 || id == "" || r.stderr != "" {
		t.Fatalf("submit over HTTP: exit %d %q %q", r.code, r.stdout, r.stderr)
	}
	r = c.run(t, "intent", "list", "--state", "pending_approval")
	if r.code != 0 || !strings.Contains(r.stdout, id) {
		t.Fatalf("list over HTTP: exit %d %s %s", r.code, r.stdout, r.stderr)
	}
	r = c.run(t, "intent", "deny", id, "--reason", "not today")
	if r.code != 0 || !strings.Contains(r.stdout, "denied "+id) {
		t.Fatalf("deny over HTTP: exit %d %s %s", r.code, r.stdout, r.stderr)
	}
	r = c.run(t, "health", "--json")
	var h struct {
		Mode  string `json:"mode"`
		Ready bool   `json:"ready"`
	}
	r.decode(t, &h)
	if r.code != 0 || h.Mode != "server" || !h.Ready {
		t.Fatalf("health: exit %d %s %s", r.code, r.stdout, r.stderr)
	}
	// A wrong token is refused, not worked around.
	bad := &cli{dir: c.dir, env: append(c.env, "GRACE_API_TOKEN=wrong")}
	bad.run(t, "intent", "list").wantFail(t, exitFailure, "refused the API token")

	fi, err := os.Stat(filepath.Join(c.dir, "grace-data", tokenFileName))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("token file: %v %v", fi, err)
	}

	if err := srv.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		done <- err // for the cleanup
		if err != nil {
			t.Fatalf("serve after SIGTERM: %v\n%s", err, logs.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("serve did not stop after SIGTERM:\n%s", logs.String())
	}
	r = c.run(t, "audit", "verify", "--json")
	if r.code != 0 || !strings.Contains(r.stdout, `"ok": true`) {
		t.Fatalf("audit verify after serve: exit %d %s %s", r.code, r.stdout, r.stderr)
	}
}

// TestServeDebugLogsRequests: with log.level debug, grace serve logs every
// API request under its X-Request-Id (a zero floor once dropped debug
// lines whatever the config said).
func TestServeDebugLogsRequests(t *testing.T) {
	t.Parallel()
	c, url := newServerCLI(t)
	srv := startServe(t, c, writeServeConfig(t, c.dir, url, "log:\n  level: debug\n"), url)
	req, err := http.NewRequest("GET", url+"/v1/intents", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Request-Id", "probe-1")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized || resp.Header.Get("X-Request-Id") != "probe-1" {
		t.Fatalf("%s, X-Request-Id %q", resp.Status, resp.Header.Get("X-Request-Id"))
	}
	waitFor(t, 10*time.Second, "the request in the debug log:\n"+srv.logs.String(), func() bool {
		out := srv.logs.String()
		return strings.Contains(out, `msg="http request" method=GET path=/v1/intents status=401`) && strings.Contains(out, "request_id=probe-1")
	})
}
