package worker

import (
	"fmt"
	"math"
	"net/url"
	"strings"
	"time"
)

// The handler kinds a HandlerConfig may name.
const (
	KindSim  = "sim"  // simulated latency and failures
	KindNoop = "noop" // returns nil at once
	KindExec = "exec" // runs a command, payload on stdin
	KindHTTP = "http" // POSTs the intent to a webhook
)

// HandlerConfig says how one intent type is executed.
type HandlerConfig struct {
	Kind        string        `mapstructure:"kind"`         // sim, noop, exec, http
	Latency     time.Duration `mapstructure:"latency"`      // sim: mean simulated work
	FailureRate float64       `mapstructure:"failure_rate"` // sim: 0..1
	Command     []string      `mapstructure:"command"`      // exec: argv; payload on stdin
	URL         string        `mapstructure:"url"`          // http: webhook POSTed the intent
	Timeout     time.Duration `mapstructure:"timeout"`      // overrides workers.task_timeout when set
}

// DefaultHandlers returns the simulated handlers of the default config.
func DefaultHandlers() map[string]HandlerConfig {
	return map[string]HandlerConfig{
		"default":          {Kind: "sim", Latency: 50 * time.Millisecond, FailureRate: 0.02},
		"query_knowledge":  {Kind: "sim", Latency: 30 * time.Millisecond, FailureRate: 0.01},
		"generate_summary": {Kind: "sim", Latency: 120 * time.Millisecond, FailureRate: 0.02},
		"deploy_model":     {Kind: "sim", Latency: 400 * time.Millisecond, FailureRate: 0.05},
	}
}

// ConfigError is a handler setting that cannot be used. Key is the full
// config key at fault, "handlers.<type>.<field>".
type ConfigError struct {
	Key    string
	Reason string
}

// Error returns "<key>: <reason>".
func (e *ConfigError) Error() string { return e.Key + ": " + e.Reason }

// Validate checks the settings of the handler for intentType and returns a
// *ConfigError naming "handlers.<intentType>.<field>" for the first problem:
// an unknown or missing kind, a negative latency or timeout, a failure rate
// outside 0..1, an exec handler without a command, an http handler without
// an absolute http(s) URL. Fields that the kind does not use are ignored.
func (c HandlerConfig) Validate(intentType string) error {
	key := func(field string) string { return "handlers." + intentType + "." + field }
	if strings.TrimSpace(intentType) == "" {
		return &ConfigError{Key: "handlers", Reason: "an entry has an empty intent type"}
	}
	if c.Timeout < 0 {
		return &ConfigError{Key: key("timeout"), Reason: fmt.Sprintf("%v is negative", c.Timeout)}
	}
	switch c.Kind {
	case KindSim:
		if c.Latency < 0 {
			return &ConfigError{Key: key("latency"), Reason: fmt.Sprintf("%v is negative", c.Latency)}
		}
		if math.IsNaN(c.FailureRate) || c.FailureRate < 0 || c.FailureRate > 1 {
			return &ConfigError{Key: key("failure_rate"), Reason: fmt.Sprintf("%v is outside 0..1", c.FailureRate)}
		}
	case KindNoop:
	case KindExec:
		if len(c.Command) == 0 || strings.TrimSpace(c.Command[0]) == "" {
			return &ConfigError{Key: key("command"), Reason: "kind exec needs a command (a list: program, then arguments)"}
		}
	case KindHTTP:
		u, err := url.Parse(c.URL)
		switch {
		case c.URL == "":
			return &ConfigError{Key: key("url"), Reason: "kind http needs a url"}
		case err != nil:
			return &ConfigError{Key: key("url"), Reason: fmt.Sprintf("cannot parse %q: %v", c.URL, err)}
		case u.Scheme != "http" && u.Scheme != "https":
			return &ConfigError{Key: key("url"), Reason: fmt.Sprintf("%q is not an http or https URL", u.Redacted())}
		case u.Host == "":
			return &ConfigError{Key: key("url"), Reason: fmt.Sprintf("%q has no host", u.Redacted())}
		}
	case "":
		return &ConfigError{Key: key("kind"), Reason: "missing (want sim, noop, exec or http)"}
	default:
		return &ConfigError{Key: key("kind"), Reason: fmt.Sprintf("unknown kind %q (want sim, noop, exec or http)", c.Kind)}
	}
	return nil
}
