package engine

import (
	"slices"
	"strings"
	"testing"
	"time"
)

// Each notify.webhooks problem names its entry and key.
func TestValidateNotifyNamesTheKey(t *testing.T) {
	t.Parallel()
	ok := WebhookConfig{Name: "oncall", URL: "https://hooks.example.com/grace"}
	for _, tc := range []struct {
		edit func(*WebhookConfig)
		want string
	}{
		{func(w *WebhookConfig) { w.Name = "" }, "notify.webhooks[1].name is required"},
		{func(w *WebhookConfig) { w.Name = "on call" }, `notify.webhooks[1].name ("on call") must be 1 to 64 characters`},
		{func(w *WebhookConfig) { w.Name = "FIRST" }, `notify.webhooks[1].name ("FIRST") is also the name of notify.webhooks[0]`},
		{func(w *WebhookConfig) { w.URL = "" }, `notify.webhooks[1].url ("") must be an http:// or https:// URL with a host`},
		{func(w *WebhookConfig) { w.URL = "ftp://x/y" }, `notify.webhooks[1].url ("ftp://x/y") must be an http:// or https:// URL`},
		{func(w *WebhookConfig) { w.URL = "https:///path" }, `notify.webhooks[1].url ("https:///path") must be an http:// or https:// URL with a host`},
		{func(w *WebhookConfig) { w.URL = "https://user:pw@/x" }, `notify.webhooks[1].url ("https://user:xxxxx@/x")`},
		{func(w *WebhookConfig) { w.Events = []string{"alert", "alerts"} }, `notify.webhooks[1].events: "alerts" is not an event (known: alert, approval, in any case)`},
		{func(w *WebhookConfig) { w.MinSeverity = "info" }, `notify.webhooks[1].min_severity ("info") of webhook "oncall" must be warn or critical (in any case)`},
		// A bad URL is echoed as written (not escaped), its password masked.
		{func(w *WebhookConfig) { w.URL = "ftp://hooks.example.com/a b/ü?x=1" }, `notify.webhooks[1].url ("ftp://hooks.example.com/a b/ü?xxxxx")`},
		{func(w *WebhookConfig) { w.URL = "ftp://bot:hunter2@hooks.example.com/a b" }, `notify.webhooks[1].url ("ftp://bot:xxxxx@hooks.example.com/a b")`},
		{func(w *WebhookConfig) { w.URL = "https://bot:hunter 2@/x y" }, `notify.webhooks[1].url ("https://bot:xxxxx@/x y")`},
		{func(w *WebhookConfig) { w.URL = "bot:hunter2@hooks.example.com/x" }, `notify.webhooks[1].url ("bot:xxxxx@hooks.example.com/x")`},
		{func(w *WebhookConfig) { w.SecretEnv = "MY-KEY" }, `notify.webhooks[1].secret_env ("MY-KEY") must be the name of an environment variable`},
		{func(w *WebhookConfig) { w.Timeout = -time.Second }, "notify.webhooks[1].timeout (-1s) must be positive"},
		{func(w *WebhookConfig) { w.Timeout = time.Hour }, "notify.webhooks[1].timeout (1h0m0s) must be at most 1m0s"},
	} {
		c := Default()
		w := ok
		tc.edit(&w)
		c.Notify.Webhooks = []WebhookConfig{{Name: "first", URL: "http://127.0.0.1:9000/hook"}, w}
		err := c.Validate()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("want %q, got %v", tc.want, err)
		}
	}
	c := Default()
	c.Notify.Webhooks = []WebhookConfig{ok, {Name: "chat", URL: "http://10.0.0.5/in", Events: []string{"approval"},
		MinSeverity: "CRITICAL", SecretEnv: "GRACE_CHAT_KEY", Timeout: 10 * time.Second}}
	if err := c.Validate(); err != nil {
		t.Fatalf("valid webhooks refused: %v", err)
	}
}

// min_severity is read in any case, and WithDefaults keeps it in lower case;
// a value that is no severity in any case is refused.
func TestMinSeverityAnyCase(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{"Warn": "warn", "CRITICAL": "critical", " critical ": "critical", "": "warn", "warn": "warn"} {
		c := Default()
		c.Notify.Webhooks = []WebhookConfig{{Name: "a", URL: "https://x/y", MinSeverity: in}}
		if err := c.Validate(); err != nil {
			t.Errorf("min_severity %q refused: %v", in, err)
		}
		if got := c.Notify.Webhooks[0].WithDefaults().MinSeverity; got != want {
			t.Errorf("min_severity %q is %q, want %q", in, got, want)
		}
	}
	for _, bad := range []string{"Info", "CRIT", "ok"} {
		if ValidMinSeverity(bad) {
			t.Errorf("min_severity %q accepted", bad)
		}
	}
}

// Events are read in any case, as min_severity is: "Alert" is alert; an
// unknown one is refused naming it as written.
func TestEventsAnyCase(t *testing.T) {
	t.Parallel()
	c := Default()
	c.Notify.Webhooks = []WebhookConfig{{Name: "a", URL: "https://x/y", Events: []string{"Alert", " APPROVAL"}}}
	if err := c.Validate(); err != nil {
		t.Fatalf("events in another case refused: %v", err)
	}
	w := c.Notify.Webhooks[0]
	if !w.Wants(NotifyAlert) || !w.Wants(NotifyApproval) {
		t.Errorf("a webhook with events %q does not want alert and approval", w.Events)
	}
	if got := w.WithDefaults().Events; !slices.Equal(got, []string{NotifyAlert, NotifyApproval}) {
		t.Errorf("events %q read as %q", w.Events, got)
	}
	only := WebhookConfig{Name: "b", URL: "https://x/y", Events: []string{"ALERT"}}
	if only.Wants(NotifyApproval) {
		t.Error("a webhook of alerts only wants approvals")
	}
	c.Notify.Webhooks = []WebhookConfig{{Name: "a", URL: "https://x/y", Events: []string{"Alerts"}}}
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), `notify.webhooks[0].events: "Alerts" is not an event`) {
		t.Errorf("an unknown event: %v", err)
	}
}

// MaskURL echoes a URL as written, its password masked wherever it sits,
// and a user name without a password (often a token) masked as a password.
func TestMaskURL(t *testing.T) {
	t.Parallel()
	for raw, want := range map[string]string{
		"https://hooks.example.com/a b?k=v%20w": "https://hooks.example.com/a b?xxxxx",
		"https://host/x?token=T#frag":           "https://host/x?xxxxx#xxxxx",
		"https://host/x#token=T":                "https://host/x#xxxxx",
		"https://bot:pw@hooks.example.com/x":    "https://bot:xxxxx@hooks.example.com/x",
		"https://TOKEN@hooks.example.com/x":     "https://xxxxx@hooks.example.com/x", // a token as the user name
		"//TOKEN@host":                          "//xxxxx@host",
		"https://@host/x":                       "https://@host/x",
		"https://u:p@ss@host/x@y":               "https://u:xxxxx@host/x@y",
		"//u:p@host":                            "//u:xxxxx@host",
		"u:p@host?q":                            "u:xxxxx@host?xxxxx",
		"https://host/path/with@sign":           "https://host/path/with@sign",
		"":                                      "",
		// A chat service's secret in the path: IDs and keys are masked,
		// words are not.
		"https://hooks.example.com/services/T0ABC123/B0DEF456/Xy9kq2LmN8pQ":                        "https://hooks.example.com/services/xxxxx/xxxxx/xxxxx",
		"https://chat.example.com/api/webhooks/1234567890123456789/abc_DEF-ghiJKLmnoPQR?wait=true": "https://chat.example.com/api/webhooks/xxxxx/xxxxx?xxxxx",
		"https://host/in/s3cretpath":                   "https://host/in/xxxxx",
		"https://pager.example.com:8443/v2/enqueue":    "https://pager.example.com:8443/v2/enqueue",
		"https://bot:pw@host/hooks/abcdefghijklmnopqr": "https://bot:xxxxx@host/hooks/xxxxx",
		"https://host":     "https://host",
		"https://host?x=1": "https://host?xxxxx",
	} {
		if got := MaskURL(raw); got != want {
			t.Errorf("MaskURL(%q) = %q, want %q", raw, got, want)
		}
	}
}

func TestWebhookDefaults(t *testing.T) {
	t.Parallel()
	w := WebhookConfig{Name: "a", URL: "https://x"}.WithDefaults()
	if strings.Join(w.Events, ",") != "alert,approval" || w.MinSeverity != "warn" || w.Timeout != 5*time.Second {
		t.Fatalf("defaults: %+v", w)
	}
	if !w.Wants(NotifyAlert) || (WebhookConfig{Events: []string{NotifyApproval}}).Wants(NotifyAlert) {
		t.Fatal("Wants")
	}
}

// A bad api.server is named without its password or query: config
// errors are printed and logged.
func TestValidateAPIServerHidesItsSecrets(t *testing.T) {
	t.Parallel()
	c := Default()
	c.API.Server = "ftp://u:PW@x/?token=T"
	err := c.Validate()
	if err == nil || !strings.Contains(err.Error(), `api.server ("ftp://u:xxxxx@x/?xxxxx")`) || strings.Contains(err.Error(), "PW") || strings.Contains(err.Error(), "token=T") {
		t.Fatalf("Validate: %v", err)
	}
}
