package main

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// hookReceiver is a webhook receiver on loopback that records what it is
// sent. While refusing is set it answers 503 (which Grace retries) and
// records the request as refused instead.
type hookReceiver struct {
	srv      *httptest.Server
	mu       sync.Mutex
	reqs     []hookRequest
	refusing bool
	refused  []hookRequest
}

type hookRequest struct {
	header http.Header
	body   []byte
}

func newHookReceiver(t *testing.T) *hookReceiver {
	t.Helper()
	h := &hookReceiver{}
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		h.mu.Lock()
		defer h.mu.Unlock()
		req := hookRequest{header: r.Header.Clone(), body: body}
		if h.refusing {
			h.refused = append(h.refused, req)
			http.Error(w, "down for maintenance", http.StatusServiceUnavailable)
			return
		}
		h.reqs = append(h.reqs, req)
	}))
	t.Cleanup(h.srv.Close)
	return h
}

// metricsShow is a condition: the /metrics of the server at url holds line.
func metricsShow(url, line string) func() bool {
	return func() bool {
		resp, err := http.Get(url + "/metrics")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return strings.Contains(string(b), line)
	}
}

// refuse sets whether the receiver refuses what it is sent.
func (h *hookReceiver) refuse(on bool) {
	h.mu.Lock()
	h.refusing = on
	h.mu.Unlock()
}

// refusedCount is how many requests it refused.
func (h *hookReceiver) refusedCount() int { return len(h.refusedRequests()) }

// requests is what it accepted, refusedRequests what it refused.
func (h *hookReceiver) requests() []hookRequest        { return h.copyOf(&h.reqs) }
func (h *hookReceiver) refusedRequests() []hookRequest { return h.copyOf(&h.refused) }

func (h *hookReceiver) copyOf(list *[]hookRequest) []hookRequest {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]hookRequest(nil), *list...)
}

// TestServeNotifiesWebhookOfTier0 runs the real "grace serve" with a
// webhook and submits a Tier 0 intent over the CLI: the receiver is sent
// one approval_requested notification naming the intent, its payload
// masked, signed with the key from the environment; /metrics counts it
// delivered.
func TestServeNotifiesWebhookOfTier0(t *testing.T) {
	t.Parallel()
	const key = "e2e-signing-key"
	rc := newHookReceiver(t)
	c, url := newServerCLI(t)
	c.env = append(c.env, "GRACE_E2E_HOOK_KEY="+key)
	config := writeServeConfig(t, c.dir, url, "notify:\n  webhooks:\n    - {name: e2e, url: \""+rc.srv.URL+"/hook\", secret_env: GRACE_E2E_HOOK_KEY, events: [approval]}\n")
	s := startServe(t, c, config, url)

	r := c.run(t, "intent", "submit", "--type", "change_charter", "--actor", "agent.e2e",
		"--payload", `{"doc":"charter v2","password":"hunter2"}`, "--json")
	if r.code != 0 {
		t.Fatalf("submit: exit %d: %s", r.code, r.stderr)
	}
	var sub struct{ ID, State string }
	r.decode(t, &sub)
	if sub.State != "pending_approval" {
		t.Fatalf("submitted: %s", r.stdout)
	}
	waitFor(t, 20*time.Second, "the webhook to be notified:\n"+s.logs.String(), func() bool { return len(rc.requests()) > 0 })
	got := rc.requests()[0]
	var msg struct {
		Kind, ID string
		Intent   struct {
			ID, Type, Actor, State string
			Tier                   int
			Payload                json.RawMessage
		}
	}
	if err := json.Unmarshal(got.body, &msg); err != nil {
		t.Fatal(err)
	}
	if msg.Kind != "approval_requested" || msg.Intent.ID != sub.ID || msg.Intent.Type != "change_charter" ||
		msg.Intent.Actor != "agent.e2e" || msg.Intent.State != "pending_approval" || got.header.Get("X-Grace-Delivery") != msg.ID {
		t.Fatalf("notification: %v %s", got.header, got.body)
	}
	if strings.Contains(string(got.body), "hunter2") || !strings.Contains(string(msg.Intent.Payload), `"password":"[masked]"`) {
		t.Fatalf("payload not masked: %s", msg.Intent.Payload)
	}
	mac := hmac.New(sha256.New, []byte(key))
	mac.Write([]byte(got.header.Get("X-Grace-Timestamp") + "." + string(got.body)))
	if want := "sha256=" + hex.EncodeToString(mac.Sum(nil)); got.header.Get("X-Grace-Signature") != want {
		t.Fatalf("signature %q, want %q", got.header.Get("X-Grace-Signature"), want)
	}
	const series = `grace_notifications_total{kind="approval_requested",result="delivered",webhook="e2e"} 1`
	waitFor(t, 20*time.Second, "the delivery on /metrics", metricsShow(url, series))
	if n := len(rc.requests()); n != 1 {
		t.Fatalf("%d notifications, want 1", n)
	}
	if logs := s.logs.String(); strings.Contains(logs, key) || !strings.Contains(logs, "notifying webhooks") {
		t.Fatalf("serve's log: %s", logs)
	}
}

// A webhook whose secret_env names an unset variable stops "grace serve"
// at start, naming the key, before anything is written.
func TestServeRefusesUnsetWebhookSecret(t *testing.T) {
	t.Parallel()
	c, url := newServerCLI(t)
	config := writeServeConfig(t, c.dir, url, "notify:\n  webhooks:\n    - {name: e2e, url: \"https://hooks.example.com/x\", secret_env: GRACE_E2E_UNSET_KEY}\n")
	r := c.runFor(t, nil, "serve", "--config", config)
	if r.code == 0 || !strings.Contains(r.stderr, `notify.webhooks[0].secret_env (webhook "e2e"): the environment variable GRACE_E2E_UNSET_KEY holds no signing key`) {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	wantNothingIn(t, c.dir, "serve.yaml")
}

// A bad webhook in the config file is refused at load, naming the file and
// the key.
func TestConfigNotifyErrorsNameTheKey(t *testing.T) {
	t.Parallel()
	path := writeConfig(t, "notify:\n  webhooks:\n    - {name: a, url: \"https://x/a\"}\n    - {name: b, url: \"ftp://x/b\", events: [alerts], timeout: -1s}\n")
	_, err := loadConfig(configInput{File: path})
	if err == nil {
		t.Fatal("loaded")
	}
	for _, want := range []string{
		path + `: notify.webhooks[1].url ("ftp://x/b") must be an http:// or https:// URL with a host`,
		path + `: notify.webhooks[1].events: "alerts" is not an event (known: alert, approval, in any case)`,
		path + `: notify.webhooks[1].timeout (-1s) must be positive`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("want %q in:\n%v", want, err)
		}
	}
	path = writeConfig(t, "notify:\n  webhooks:\n    - {name: a, url: \"https://x/a\", secret: abc}\n")
	if _, err := loadConfig(configInput{File: path}); err == nil || !strings.Contains(err.Error(), "notify.webhooks[0].secret") {
		t.Fatalf("unknown key: %v", err)
	}
}

// TestRefusedWebhookShowsInHealth runs the real "grace serve" with a
// webhook whose receiver refuses every notification (403): after a Tier 0
// submission, grace health reports the notifications component at warn,
// naming the webhook and the refusal, and the watchdog's alert for it, so
// that a broken webhook is seen where operators look, not only in the log.
func TestRefusedWebhookShowsInHealth(t *testing.T) {
	t.Parallel()
	refusing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "who are you", http.StatusForbidden)
	}))
	t.Cleanup(refusing.Close)
	c, url := newServerCLI(t)
	config := writeServeConfig(t, c.dir, url, "watchdog:\n  interval: 200ms\nnotify:\n  webhooks:\n    - {name: pager, url: \""+refusing.URL+"/hook\"}\n")
	s := startServe(t, c, config, url)
	r := c.run(t, "intent", "submit", "--type", "change_charter", "--actor", "agent.e2e", "--json")
	if r.code != 0 {
		t.Fatalf("submit: exit %d: %s", r.code, r.stderr)
	}
	var sub struct{ ID string }
	r.decode(t, &sub)
	var rep struct {
		Components []struct {
			Name     string
			Status   string
			Findings []struct{ Condition, Status, Reason string }
		}
		Alerts []struct{ Key, Summary string }
	}
	waitFor(t, 20*time.Second, "grace health to report the refused webhook:\n"+s.logs.String(), func() bool {
		r := c.run(t, "health", "--json")
		rep.Components, rep.Alerts = nil, nil
		r.decode(t, &rep)
		for _, a := range rep.Alerts {
			if a.Key == "notifications/webhook:pager" && strings.Contains(a.Summary, "403") {
				return true
			}
		}
		return false
	})
	found := false
	for _, comp := range rep.Components {
		if comp.Name == "notifications" {
			for _, f := range comp.Findings {
				if f.Condition == "webhook:pager" && f.Status == "warn" && comp.Status == "warn" && strings.Contains(f.Reason, "403 Forbidden") {
					found = true
				}
			}
			if !found {
				t.Fatalf("notifications component: %+v", comp)
			}
		}
	}
	if !found {
		t.Fatalf("grace health has no notifications component: %+v", rep.Components)
	}
	// And the refusal is on the 5W1H record (the store's narratives and
	// audit chain), on the intent's history, without the URL's path.
	var recs struct {
		Narratives []struct {
			Who, What, Where, How, Result string
			IntentID                      string `json:"intent_id"`
			Why                           []string
			Context                       map[string]any
		}
	}
	waitFor(t, 20*time.Second, "the failure on the record", func() bool {
		r := c.run(t, "narratives", "search", "--action", "notification_failed", "--json")
		recs.Narratives = nil
		r.decode(t, &recs)
		return len(recs.Narratives) > 0
	})
	n := recs.Narratives[0]
	host := strings.TrimPrefix(refusing.URL, "http://")
	if n.Who != "notifier:pager" || n.Where != "webhook:pager ("+host+")" || n.Result != "failed" || n.IntentID != sub.ID ||
		!strings.Contains(strings.Join(n.Why, " "), "403 Forbidden") || n.Context["status"] != float64(403) || strings.Contains(fmt.Sprint(n), "/hook") {
		t.Fatalf("record: %+v", n)
	}
}
