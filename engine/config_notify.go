package engine

import (
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode"
)

// The notification events a webhook may ask for (notify.webhooks[].events).
const (
	// NotifyAlert is an alert raised, escalated, de-escalated or resolved.
	NotifyAlert = "alert"
	// NotifyApproval is a Tier 0 intent that waits for an operator.
	NotifyApproval = "approval"
)

// NotifyEvents lists the events a webhook may ask for.
var NotifyEvents = []string{NotifyAlert, NotifyApproval}

// The defaults of a webhook's optional keys.
const (
	DefaultWebhookTimeout     = 5 * time.Second
	DefaultWebhookMinSeverity = "warn"
	// MaxWebhookTimeout bounds notify.webhooks[].timeout: a webhook's
	// notifications are sent one at a time, in order, so one request that
	// hangs holds up the rest.
	MaxWebhookTimeout = time.Minute
)

// NotifyConfig is Grace's outgoing notifications (package engine/notify):
// the webhooks that learn of alerts and of intents waiting for approval.
type NotifyConfig struct {
	// Webhooks are the receivers, each sent its notifications in order.
	Webhooks []WebhookConfig `mapstructure:"webhooks"`
}

// WebhookConfig is one receiver of notifications: an HTTP(S) endpoint that
// is POSTed one JSON document per notification. Optional keys left out
// (their zero value) take their defaults: WithDefaults fills them.
type WebhookConfig struct {
	// Name names the webhook in logs and metrics; required and unique
	// (compared without case).
	Name string `mapstructure:"name"`
	// URL is the http:// or https:// endpoint.
	URL string `mapstructure:"url"`
	// Events are the notifications it wants: alert, approval (empty: both).
	Events []string `mapstructure:"events"`
	// MinSeverity is the least severity of an alert that is sent, warn or
	// critical in any case ("Warn", "CRITICAL"; empty: warn); WithDefaults
	// makes it lower case. An alert that reached it is also sent when it
	// de-escalates or resolves.
	MinSeverity string `mapstructure:"min_severity"`
	// SecretEnv names the environment variable holding the key each
	// notification is signed with (HMAC-SHA256); empty: not signed. Grace
	// refuses to start when the variable is named but unset or empty.
	SecretEnv string `mapstructure:"secret_env"`
	// Timeout bounds one attempt of one request (0: 5s; at most 1m).
	Timeout time.Duration `mapstructure:"timeout"`
}

// WithDefaults returns w with its optional keys that are left out set to
// their defaults (both events, min_severity warn, timeout 5s) and
// min_severity in its canonical lower case.
func (w WebhookConfig) WithDefaults() WebhookConfig {
	if len(w.Events) == 0 {
		w.Events = slices.Clone(NotifyEvents)
	} else {
		w.Events = canonicalEvents(w.Events)
	}
	w.MinSeverity = strings.ToLower(strings.TrimSpace(w.MinSeverity))
	if w.MinSeverity == "" {
		w.MinSeverity = DefaultWebhookMinSeverity
	}
	if w.Timeout == 0 {
		w.Timeout = DefaultWebhookTimeout
	}
	return w
}

// Wants reports whether w asks for the event (NotifyAlert, NotifyApproval),
// its events written in any case.
func (w WebhookConfig) Wants(event string) bool {
	return len(w.Events) == 0 || slices.Contains(canonicalEvents(w.Events), event)
}

// canonicalEvents is events in lower case without surrounding spaces, as
// min_severity is read: "Alert" is alert.
func canonicalEvents(events []string) []string {
	out := make([]string, len(events))
	for i, ev := range events {
		out[i] = strings.ToLower(strings.TrimSpace(ev))
	}
	return out
}

// defaultNotify is the notify part of Default: no webhooks.
func defaultNotify() NotifyConfig { return NotifyConfig{Webhooks: []WebhookConfig{}} }

// webhookName is what a webhook may be called: it is a metric label and
// appears in logs.
var webhookName = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_.-]{0,63}$`)

// envVarName is what an environment variable may be called.
var envVarName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// validateNotify checks the notify.webhooks keys, each problem naming its
// key ("notify.webhooks[1].url"). Whether a secret_env variable is set is
// checked when the notifier starts, not here: commands that only read the
// config need not hold the key.
func (c Config) validateNotify(v *problems) {
	names := map[string]int{}
	for i, w := range c.Notify.Webhooks {
		key := fmt.Sprintf("notify.webhooks[%d]", i)
		switch {
		case w.Name == "":
			v.add("%s.name is required: it names the webhook in logs and metrics", key)
		case !webhookName.MatchString(w.Name):
			v.add("%s.name (%q) must be 1 to 64 characters: a letter, then letters, digits, '_', '.' or '-'", key, w.Name)
		default:
			if j, dup := names[strings.ToLower(w.Name)]; dup {
				v.add("%s.name (%q) is also the name of notify.webhooks[%d]; names are compared without case", key, w.Name, j)
			} else {
				names[strings.ToLower(w.Name)] = i
			}
		}
		if u, err := url.Parse(w.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" {
			v.add("%s.url (%q) must be an http:// or https:// URL with a host", key, MaskURL(w.URL))
		}
		for i, ev := range canonicalEvents(w.Events) {
			v.check(slices.Contains(NotifyEvents, ev), "%s.events: %q is not an event (known: %s, in any case)", key, w.Events[i], strings.Join(NotifyEvents, ", "))
		}
		v.check(ValidMinSeverity(w.MinSeverity),
			"%s.min_severity (%q) of webhook %q must be warn or critical (in any case), or left out for warn", key, w.MinSeverity, w.Name)
		v.check(w.SecretEnv == "" || envVarName.MatchString(w.SecretEnv),
			"%s.secret_env (%q) must be the name of an environment variable (letters, digits, '_'), or empty", key, w.SecretEnv)
		v.check(w.Timeout >= 0, "%s.timeout (%v) must be positive (leave it out for %v)", key, w.Timeout, DefaultWebhookTimeout)
		v.check(w.Timeout <= MaxWebhookTimeout, "%s.timeout (%v) must be at most %v: a webhook's notifications wait for each other", key, w.Timeout, MaxWebhookTimeout)
	}
}

// ValidMinSeverity reports whether s is a min_severity a webhook may
// have: warn or critical in any case, or empty (warn).
func ValidMinSeverity(s string) bool {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "warn", "critical":
		return true
	}
	return false
}

// MaskURL is raw as the operator wrote it (nothing escaped or re-encoded),
// for messages, with the password of any userinfo replaced by "xxxxx":
// "https://bot:hunter2@hooks.example.com/a b" is
// "https://bot:xxxxx@hooks.example.com/a b". A user name without a
// password is masked whole, since it is often a token
// ("https://TOKEN@host/x" is "https://xxxxx@host/x"). The userinfo is what
// precedes the last '@' of the authority (after "scheme://" or "//", up to
// the first '/', '?' or '#'); without a "//" the whole text up to such a
// character is taken as the authority, so that "bot:pw@host/x" is masked
// too. The query and the fragment are masked whole
// ("https://host/x?token=T" is "https://host/x?xxxxx"), and so is each
// segment of the path that looks like a key or an ID (keyLike), as chat
// services put the webhook's secret in its path:
// "https://hooks.example.com/services/T0ABC123/B0DEF456/Xy9kq2LmN8pQ"
// is "https://hooks.example.com/services/xxxxx/xxxxx/xxxxx".
func MaskURL(raw string) string {
	return maskQuery(maskPath(maskUserinfo(raw)))
}

// maskPath replaces the path segments of raw that look like a key or an
// ID with "xxxxx".
func maskPath(raw string) string {
	start := 0
	if i := strings.Index(raw, "//"); i >= 0 {
		start = i + 2
	}
	slash := strings.IndexAny(raw[start:], "/?#")
	if slash < 0 || raw[start+slash] != '/' {
		return raw // no path
	}
	from := start + slash
	to := len(raw)
	if i := strings.IndexAny(raw[from:], "?#"); i >= 0 {
		to = from + i
	}
	segs := strings.Split(raw[from:to], "/")
	for i, seg := range segs {
		if keyLike(seg) {
			segs[i] = "xxxxx"
		}
	}
	return raw[:from] + strings.Join(segs, "/") + raw[to:]
}

// keyLike tells a path segment that may be a secret: 16 characters or
// more, or 8 or more mixing letters and digits ("T0ABC123"). Words
// ("services", "webhooks", "alerts") and short IDs ("v1") are not.
func keyLike(seg string) bool {
	if len(seg) >= 16 {
		return true
	}
	if len(seg) < 8 {
		return false
	}
	letter := strings.ContainsFunc(seg, func(r rune) bool { return unicode.IsLetter(r) })
	digit := strings.ContainsFunc(seg, func(r rune) bool { return unicode.IsDigit(r) })
	return letter && digit
}

// maskQuery replaces the query and the fragment of raw, which often carry
// a token ("?token=…"), with "xxxxx".
func maskQuery(raw string) string {
	for _, sep := range []byte{'?', '#'} {
		if i := strings.IndexByte(raw, sep); i >= 0 && i+1 < len(raw) {
			rest := raw[i+1:]
			tail := ""
			if sep == '?' {
				if j := strings.IndexByte(rest, '#'); j >= 0 {
					tail = rest[j:]
				}
			}
			raw = raw[:i+1] + "xxxxx" + tail
		}
	}
	return raw
}

// maskUserinfo is MaskURL's masking of the userinfo.
func maskUserinfo(raw string) string {
	start := 0
	if i := strings.Index(raw, "//"); i >= 0 {
		start = i + 2
	}
	end := len(raw)
	if i := strings.IndexAny(raw[start:], "/?#"); i >= 0 {
		end = start + i
	}
	at := strings.LastIndex(raw[start:end], "@")
	if at < 0 {
		return raw
	}
	userinfo := raw[start : start+at]
	if c := strings.Index(userinfo, ":"); c >= 0 {
		userinfo = userinfo[:c+1] + "xxxxx"
	} else if userinfo != "" {
		userinfo = "xxxxx"
	}
	return raw[:start] + userinfo + raw[start+at:]
}
