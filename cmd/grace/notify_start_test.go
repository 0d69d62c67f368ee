package main

import (
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"grace/engine"
)

// A webhook's secret_env that names an unset variable stops the start,
// naming the config file (as a config error does), the key and the
// webhook; every line of a joined error is named.
func TestNotifierSecretErrorNamesTheFile(t *testing.T) {
	t.Parallel()
	cfg := engine.Default()
	cfg.Notify.Webhooks = []engine.WebhookConfig{
		{Name: "oncall", URL: "https://hooks.example.com/a", SecretEnv: "GRACE_NT_UNSET_KEY_A"},
		{Name: "chat", URL: "https://hooks.example.com/b", SecretEnv: "GRACE_NT_UNSET_KEY_B"},
	}
	s := &system{cfg: cfg, log: slog.New(slog.DiscardHandler)}
	err := newNotifier(s, "/etc/grace/serve.yaml")
	if err == nil {
		t.Fatal("started without the keys")
	}
	lines := strings.Split(err.Error(), "\n")
	want := []string{
		`/etc/grace/serve.yaml: notify.webhooks[0].secret_env (webhook "oncall"): the environment variable GRACE_NT_UNSET_KEY_A holds no signing key`,
		`/etc/grace/serve.yaml: notify.webhooks[1].secret_env (webhook "chat"): the environment variable GRACE_NT_UNSET_KEY_B holds no signing key`,
	}
	if len(lines) != len(want) {
		t.Fatalf("error: %v", err)
	}
	for i, w := range want {
		if !strings.HasPrefix(lines[i], w) {
			t.Errorf("line %d: %q, want it to start %q", i, lines[i], w)
		}
	}
	if s.notifier != nil {
		t.Fatal("a notifier was made")
	}
}

// TestServeReannouncesPendingApprovalAfterSIGKILL: a Tier 0 intent is
// submitted to "grace serve" while its webhook refuses (503: retried, so
// the notification has not gone out), and that serve is killed with
// SIGKILL (its queue of notifications is lost with it). The next serve on
// the same database announces the intent, still pending, once, marked
// reannounced with its submission time.
func TestServeReannouncesPendingApprovalAfterSIGKILL(t *testing.T) {
	t.Parallel()
	rc := newHookReceiver(t)
	rc.refuse(true)
	c, url := newServerCLI(t)
	config := writeServeConfig(t, c.dir, url, "notify:\n  webhooks:\n    - {name: oncall, url: \""+rc.srv.URL+"/hook\", events: [approval]}\n")
	first := startServe(t, c, config, url)
	r := c.run(t, "intent", "submit", "--type", "change_charter", "--actor", "agent.e2e", "--json")
	if r.code != 0 {
		t.Fatalf("submit: exit %d: %s", r.code, r.stderr)
	}
	var sub struct {
		ID, State string
	}
	r.decode(t, &sub)
	if sub.State != "pending_approval" {
		t.Fatalf("submitted: %s", r.stdout)
	}
	waitFor(t, 20*time.Second, "the first serve's attempt, refused:\n"+first.logs.String(), func() bool {
		return rc.refusedCount() > 0
	})
	if err := first.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-first.done
	first.done <- nil
	if accepted := len(rc.requests()); accepted != 0 {
		t.Fatalf("the first serve's notification went out (%d accepted)", accepted)
	}

	rc.refuse(false)
	second := startServe(t, c, config, url)
	const series = `grace_notifications_total{kind="approval_requested",result="delivered",webhook="oncall"} 1`
	waitFor(t, 20*time.Second, "the re-announcement, delivered:\n"+second.logs.String(), metricsShow(url, series))
	accepted := rc.requests()
	if len(accepted) != 1 {
		t.Fatalf("%d notifications accepted, want 1", len(accepted))
	}
	var msg struct {
		Kind        string
		Reannounced bool
		SubmittedAt time.Time `json:"submitted_at"`
		Intent      struct {
			ID, State string
			CreatedAt time.Time `json:"created_at"`
		}
	}
	if err := json.Unmarshal(accepted[0].body, &msg); err != nil {
		t.Fatal(err)
	}
	if msg.Kind != "approval_requested" || !msg.Reannounced || msg.Intent.ID != sub.ID || msg.Intent.State != "pending_approval" ||
		msg.SubmittedAt.IsZero() || !msg.SubmittedAt.Equal(msg.Intent.CreatedAt) || accepted[0].header.Get("X-Grace-Event") != "approval_requested" {
		t.Fatalf("re-announcement: %s", accepted[0].body)
	}
	if !strings.Contains(second.logs.String(), "announcing again") {
		t.Fatalf("serve's log: %s", second.logs.String())
	}
}

// grace serve with a webhook whose secret_env variable is unset refuses to
// start, naming the config file it read (./config.yaml found by itself, or
// --config's), the key and the webhook, and writes nothing.
func TestServeSecretErrorNamesTheConfigFile(t *testing.T) {
	t.Parallel()
	body := "api:\n  listen: 127.0.0.1:0\nnotify:\n  webhooks:\n    - name: oncall\n      url: https://hooks.example.com/a\n      secret_env: GRACE_NT_NEVER_SET\n"
	for _, name := range []string{"config.yaml", "serve.yaml"} {
		c, _ := newServerCLI(t)
		if err := os.WriteFile(filepath.Join(c.dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		args := []string{"serve"}
		if name != "config.yaml" {
			args = append(args, "--config", name)
		}
		r := c.exec(t, nil, time.Minute, args...)
		want := name + `: notify.webhooks[0].secret_env (webhook "oncall"): the environment variable GRACE_NT_NEVER_SET holds no signing key`
		if r.code == 0 || !strings.Contains(r.stderr, want) {
			t.Errorf("serve with %s: exit %d, stderr:\n%s\nwant a line with %q", name, r.code, r.stderr, want)
		}
		if _, err := os.Stat(filepath.Join(c.dir, "grace-data", "grace.db")); err == nil {
			t.Errorf("serve with %s refused to start but made a database", name)
		}
	}
}
