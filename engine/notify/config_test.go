package notify

import (
	"strings"
	"testing"

	"grace/engine"
	"grace/engine/watchdog"
)

// New reads min_severity in any case; a URL it cannot use is echoed as the
// operator wrote it, its password masked (url.Error's text escaped it and
// showed the password).
func TestNewReadsMinSeverityAnyCaseAndMasksURLs(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]watchdog.Status{"CRITICAL": watchdog.Critical, "Warn": watchdog.Warn, "": watchdog.Warn} {
		h := hookTo("a", "https://hooks.example.com/x")
		h.MinSeverity = in
		n, err := New([]engine.WebhookConfig{h}, Options{})
		if err != nil {
			t.Fatalf("min_severity %q: %v", in, err)
		}
		if got := n.hooks[0].minSev; got != want {
			t.Errorf("min_severity %q is %v, want %v", in, got, want)
		}
	}
	h := hookTo("a", "https://x/y")
	h.MinSeverity = "ok"
	if _, err := New([]engine.WebhookConfig{h}, Options{}); err == nil ||
		!strings.Contains(err.Error(), `notify.webhooks[0].min_severity ("ok") of webhook "a" must be warn or critical`) {
		t.Fatalf("min_severity ok: %v", err)
	}
	for raw, want := range map[string]string{
		"https://bot:hunter2@hooks.example.com:port/a b": `("https://bot:xxxxx@hooks.example.com:port/a b")`,
		"http://[::1/a b":                         `("http://[::1/a b")`,
		"https://bot:hunter2@hooks example.com/x": `("https://bot:xxxxx@hooks example.com/x")`,
		"mailto:ops@example.com":                  `("mailto:xxxxx@example.com")`,
	} {
		_, err := New([]engine.WebhookConfig{hookTo("ok", "https://x/y"), hookTo("bad", raw)}, Options{})
		if err == nil || !strings.Contains(err.Error(), `notify.webhooks[1].url `+want+` of webhook "bad" must be an http:// or https:// URL`) {
			t.Errorf("%s: %v", raw, err)
			continue
		}
		if strings.Contains(err.Error(), "hunter2") || strings.Contains(err.Error(), "%20") {
			t.Errorf("%s: the error shows the password or escapes the URL: %v", raw, err)
		}
	}
}
