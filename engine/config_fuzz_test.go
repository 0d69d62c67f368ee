package engine

import (
	"math"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"
)

// configKeyLine is a validation problem that begins with the key at
// fault: "workers.count must…", "identities[0].name (…", "handlers: …".
var configKeyLine = regexp.MustCompile(`^[a-z0-9_]+(\[\d+\])?(\.[a-z0-9_]+(\[\d+\])?)*[ :]`)

// FuzzConfigValidate sets the keys an operator writes by hand (an
// identity, a webhook, masking.fields, api.listen and api.token,
// durations, rates, chaos settings) from the fuzzer onto the default
// config and validates it: no panic; every problem on a line of its own
// that begins with its key; a webhook URL shown in a problem never shows
// its password; and a config that validates still does with its webhook
// defaults filled in.
func FuzzConfigValidate(f *testing.F) {
	hash := strings.Repeat("ab", 32)
	f.Add("ada", "operator", hash, "2027-01-31", "pager", "https://bot:hunter2@hooks.example.com/x?token=T", "alert", "Warn", "PAGER_KEY", int64(5*time.Second),
		"password", "127.0.0.1:8080", "tok", int64(time.Second), 2.5, 1.0, 3, int64(time.Hour))
	f.Add("", "", "", "", "", "", "", "", "", int64(0), "", "", "", int64(0), 0.0, 0.0, 0, int64(0))
	f.Add("a\x00", "root", "zz", "2027-01-31T00:00:00", "Pager", "http://u:p%40ss@[::1]:x/", "ALERT ", "info", "1X", int64(-1),
		"/payload/~2", "0.0.0.0:80", "a b", int64(-time.Second), math.NaN(), math.Inf(1), -1, int64(math.MinInt64))
	f.Add(strings.Repeat("x", 100), "viewer", strings.ToUpper(hash), "9999-99-99", "w\xff", "https://u:secret@h:99999999999999999999", "approval", "CRITICAL", "_",
		int64(math.MaxInt64), "/context/a/0", ":0", "\x7f", int64(1), 1e308, math.Copysign(0, -1), math.MaxInt32, int64(1))
	f.Add("b", "agent", " "+hash+" ", " 2027-01-31 ", "w", "//u:pw@host/x", "", "", "", int64(time.Minute+1),
		"_-.:", "[::1]:1", "~", int64(time.Nanosecond), 1e-300, 0.5, 1, int64(time.Nanosecond))
	f.Fuzz(func(t *testing.T, idName, role, tokenHash, expires, hookName, hookURL, event, severity, secretEnv string, hookTimeout int64,
		maskField, listen, token string, taskTimeout int64, rate, weight float64, keepRuns int, deniedHold int64) {
		c := Default()
		c.Identities = []IdentityConfig{{Name: idName, Role: role, TokenSHA256: tokenHash, Expires: expires}}
		c.Notify.Webhooks = []WebhookConfig{{Name: hookName, URL: hookURL, Events: []string{event}, MinSeverity: severity,
			SecretEnv: secretEnv, Timeout: time.Duration(hookTimeout)}}
		c.Masking.Fields = []string{maskField}
		c.API.Listen, c.API.Token = listen, token
		c.Workers.TaskTimeout = time.Duration(taskTimeout)
		c.Cortex.Rate, c.Cortex.Mix = rate, map[string]float64{"deploy": weight}
		c.Chaos.KeepRuns, c.Chaos.Loop.DeniedHold = keepRuns, time.Duration(deniedHold)
		if u, perr := url.Parse(hookURL); perr == nil && u.User != nil {
			if pw, ok := u.User.Password(); ok && len(pw) >= 4 && !strings.Contains(u.Host+u.Path+u.Scheme+u.User.Username(), pw) &&
				strings.Contains(MaskURL(hookURL), pw) {
				t.Fatalf("MaskURL(%q) = %q shows the password %q", hookURL, MaskURL(hookURL), pw)
			}
		}
		err := c.Validate()
		if err == nil {
			d := c
			d.Notify.Webhooks = []WebhookConfig{c.Notify.Webhooks[0].WithDefaults()}
			if err := d.Validate(); err != nil {
				t.Fatalf("a config that validates does not with its webhook's defaults: %v", err)
			}
			return
		}
		for _, line := range strings.Split(err.Error(), "\n") {
			if !configKeyLine.MatchString(line) {
				t.Fatalf("problem %q does not begin with its key", line)
			}
		}
	})
}
