package worker

import "time"

// HandlerConfig says how one intent type is executed.
type HandlerConfig struct {
	Kind        string        `mapstructure:"kind"`         // sim, exec, http
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
