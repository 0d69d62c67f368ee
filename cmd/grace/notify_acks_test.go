package main

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"grace/store"
)

// toldOf lists what a receiver accepted (or refused): each intent's ID,
// with "(again)" when re-announced.
func toldOf(t *testing.T, reqs []hookRequest) string {
	t.Helper()
	var out []string
	for _, r := range reqs {
		var msg struct {
			Kind        string
			Reannounced bool
			Intent      struct{ ID string }
		}
		if err := json.Unmarshal(r.body, &msg); err != nil {
			t.Fatal(err)
		}
		s := msg.Kind
		if msg.Intent.ID != "" {
			s = msg.Intent.ID
		}
		if msg.Reannounced {
			s += "(again)"
		}
		out = append(out, s)
	}
	return strings.Join(out, " ")
}

// TestServeReannouncesOnlyWhatAWebhookDidNotAcknowledge runs "grace serve"
// three times on one database, each killed with SIGKILL. First with
// webhook oncall: it acknowledges intent A. Then with pager added and
// oncall refusing (503): pager is told A again, oncall is not; B is
// submitted, pager acknowledges it, oncall's is refused and lost with the
// process. Then with both accepting: oncall is told B again and nothing
// else, pager nothing again.
func TestServeReannouncesOnlyWhatAWebhookDidNotAcknowledge(t *testing.T) {
	t.Parallel()
	oncall, pager := newHookReceiver(t), newHookReceiver(t)
	c, url := newServerCLI(t)
	db := filepath.Join(c.dir, "grace-data", "grace.db")
	hook := func(name string, rc *hookReceiver) string {
		return "    - {name: " + name + ", url: \"" + rc.srv.URL + "/hook\", events: [approval]}\n"
	}
	submit := func() string {
		t.Helper()
		r := c.run(t, "intent", "submit", "--type", "change_charter", "--actor", "agent.e2e", "--json")
		if r.code != 0 {
			t.Fatalf("submit: exit %d: %s", r.code, r.stderr)
		}
		var sub struct{ ID, State string }
		r.decode(t, &sub)
		if sub.State != "pending_approval" {
			t.Fatalf("submitted: %s", r.stdout)
		}
		return sub.ID
	}
	// acked waits until the database says webhook acknowledged ids.
	acked := func(s *server, webhook string, ids ...string) {
		t.Helper()
		waitFor(t, 20*time.Second, webhook+"'s acknowledgements of "+strings.Join(ids, ", ")+":\n"+s.logs.String(), func() bool {
			st, err := store.Open(context.Background(), db, store.Options{ReadOnly: true})
			if err != nil {
				return false
			}
			defer st.Close()
			acks, err := st.ApprovalAcks(context.Background())
			if err != nil {
				return false
			}
			// Kept under the webhook's name and a tag of its URL.
			for key, got := range acks {
				if !strings.HasPrefix(key, webhook+"#") {
					continue
				}
				for _, id := range ids {
					if _, ok := got[id]; !ok {
						return false
					}
				}
				return true
			}
			return false
		})
	}
	kill := func(s *server) {
		t.Helper()
		if err := s.cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		<-s.done
		s.done <- nil
	}

	config := writeServeConfig(t, c.dir, url, "notify:\n  webhooks:\n"+hook("oncall", oncall))
	first := startServe(t, c, config, url)
	a := submit()
	acked(first, "oncall", a)
	kill(first)

	oncall.refuse(true)
	config = writeServeConfig(t, c.dir, url, "notify:\n  webhooks:\n"+hook("oncall", oncall)+hook("pager", pager))
	second := startServe(t, c, config, url)
	waitFor(t, 20*time.Second, "pager to be told of A:\n"+second.logs.String(), func() bool { return len(pager.requests()) == 1 })
	b := submit()
	waitFor(t, 20*time.Second, "oncall to refuse B:\n"+second.logs.String(), func() bool { return oncall.refusedCount() > 0 })
	acked(second, "pager", a, b)
	kill(second)
	if got := toldOf(t, oncall.refusedRequests()); strings.Contains(got, a) || !strings.HasPrefix(got, b) {
		t.Fatalf("oncall was sent %q by the second serve; want %s alone (it acknowledged %s)", got, b, a)
	}

	oncall.refuse(false)
	third := startServe(t, c, config, url)
	cc := submit() // sent after whatever is announced again
	waitFor(t, 20*time.Second, "both told of C:\n"+third.logs.String(), func() bool {
		return strings.HasSuffix(toldOf(t, oncall.requests()), cc) && strings.HasSuffix(toldOf(t, pager.requests()), cc)
	})
	if got, want := toldOf(t, oncall.requests()), a+" "+b+"(again) "+cc; got != want {
		t.Fatalf("oncall accepted %q, want %q", got, want)
	}
	if got, want := toldOf(t, pager.requests()), a+"(again) "+b+" "+cc; got != want {
		t.Fatalf("pager accepted %q, want %q", got, want)
	}
}
