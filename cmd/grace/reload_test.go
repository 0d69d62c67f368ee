package main

import (
	"bufio"
	"net/http"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestServeReloadsIdentitiesOnSIGHUP: SIGHUP gives a running server the
// config's identities without a restart: an added token works, a removed
// one is refused at once and its open event stream ends, the change is on
// the record; a config that does not load changes nothing, and the server
// keeps running throughout.
func TestServeReloadsIdentitiesOnSIGHUP(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	url := closedURL(t)
	c.env = []string{"GRACE_API_SERVER=" + url, "GRACE_CORTEX_ENABLED=false"}
	cfg := writeServeConfig(t, c.dir, url, identitiesYAML(idAlice, idAgent))
	s := startServe(t, c, cfg, url)
	alice, agent, bob := c.as(idAlice.token), c.as(idAgent.token), c.as(idBob.token)
	whoami := func(cl *cli) result { return cl.run(t, "token", "whoami") }
	if r := whoami(agent); r.code != 0 {
		t.Fatalf("the agent before the reload: exit %d %s", r.code, r.stderr)
	}
	whoami(bob).wantFail(t, exitFailure, "no identity has it")

	// The agent holds an event stream open.
	req, _ := http.NewRequestWithContext(t.Context(), "GET", url+"/v1/events", nil)
	req.Header.Set("Authorization", "Bearer "+idAgent.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("the agent's event stream: %v %v", err, resp)
	}
	streamEnded := make(chan struct{})
	go func() {
		defer close(streamEnded)
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
		}
		resp.Body.Close()
	}()

	writeServeConfig(t, c.dir, url, identitiesYAML(idAlice, idBob))
	if err := s.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 20*time.Second, "bob's token to work after SIGHUP:\n"+s.logs.String(), func() bool { return whoami(bob).code == 0 })
	whoami(agent).wantFail(t, exitFailure, "no identity has it")
	select {
	case <-streamEnded:
	case <-time.After(10 * time.Second):
		t.Fatal("the removed agent's event stream is still open 10 s after the reload")
	}

	r := alice.run(t, "narratives", "search", "--action", "access_changed", "--json")
	var nr struct {
		Narratives []struct {
			Who string
			Why []string
		} `json:"narratives"`
	}
	r.decode(t, &nr)
	if len(nr.Narratives) != 1 || nr.Narratives[0].Who != "grace serve (SIGHUP)" ||
		!strings.Contains(strings.Join(nr.Narratives[0].Why, "\n"), "Added: bob (operator)") ||
		!strings.Contains(strings.Join(nr.Narratives[0].Why, "\n"), "Removed: agent.architect (agent)") {
		t.Fatalf("access_changed on the record: %s", r.stdout)
	}

	// A config that does not load is refused; bob keeps working.
	if err := os.WriteFile(cfg, []byte("identities: [\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := s.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 20*time.Second, "the refused reload in the log", func() bool {
		return strings.Contains(s.logs.String(), "reload refused; the identities in use are unchanged")
	})
	if r := whoami(bob); r.code != 0 {
		t.Fatalf("bob after a refused reload: exit %d %s", r.code, r.stderr)
	}
	select {
	case err := <-s.done:
		s.done <- err
		t.Fatalf("serve exited after SIGHUP: %v\n%s", err, s.logs.String())
	default:
	}
}
