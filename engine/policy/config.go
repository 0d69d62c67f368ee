package policy

import (
	"errors"
	"fmt"
	"time"

	"grace/engine/mesh"
)

// The actions a rule can take.
const (
	ActionEmit   = "emit"   // publish an event on another topic
	ActionSubmit = "submit" // submit an intent
	ActionAlert  = "alert"  // raise an alert (a record and an event on alert.raised)
)

// Severities an alert may have.
var Severities = []string{"info", "warning", "critical"}

// RuleConfig is one rule as config.yaml or a rules file writes it.
type RuleConfig struct {
	// Topic is the topic or pattern the rule listens to ("intent.failed",
	// "kernel.*").
	Topic string `mapstructure:"topic" yaml:"topic"`
	// Match filters events by field: every listed field must match its
	// glob (path.Match syntax); an absent field is the empty string.
	Match map[string]string `mapstructure:"match" yaml:"match"`
	// Action is emit, submit or alert.
	Action string `mapstructure:"action" yaml:"action"`
	// Emit is the topic an emit action publishes on; Fields are the new
	// event's fields ("{name}" is replaced by the triggering event's field).
	Emit   string            `mapstructure:"emit" yaml:"emit"`
	Fields map[string]string `mapstructure:"fields" yaml:"fields"`
	// Intent is the intent type a submit action submits, at Priority.
	Intent   string `mapstructure:"intent" yaml:"intent"`
	Priority int    `mapstructure:"priority" yaml:"priority"`
	// Severity (info, warning, critical) and Message belong to an alert;
	// Message is also the note a submitted intent carries.
	Severity string `mapstructure:"severity" yaml:"severity"`
	Message  string `mapstructure:"message" yaml:"message"`
}

// Config is the policy section of config.yaml.
type Config struct {
	// MaxDepth is the causation depth past which a cascade is cut (seed: 10).
	MaxDepth int `mapstructure:"max_depth"`
	// Buffer and Backpressure configure the engine's mesh subscriptions.
	Buffer       int    `mapstructure:"buffer"`
	Backpressure string `mapstructure:"backpressure"`
	// AlertInterval bounds narration: one record per rule (and per cut
	// reason) per interval; repeats are counted into a summary.
	AlertInterval time.Duration `mapstructure:"alert_interval"`
	// RulesFile names a YAML file with more rules ("rules: {name: rule}");
	// empty for none.
	RulesFile string `mapstructure:"rules_file"`
	// Rules are the rules by name.
	Rules map[string]RuleConfig `mapstructure:"rules"`
}

// DefaultConfig returns the documented defaults, rules included.
func DefaultConfig() Config {
	return Config{
		MaxDepth: 10, Buffer: 4096, Backpressure: string(mesh.Block), AlertInterval: time.Second,
		Rules: map[string]RuleConfig{
			"failed_intent_alert": {Topic: "intent.failed", Action: ActionAlert, Severity: "warning",
				Message: "{type} intent {id} failed: {error}"},
			"kernel_failure_alert": {Topic: "kernel.failed", Action: ActionAlert, Severity: "critical",
				Message: "kernel {kernel} failed: {cause}"},
			"mesh_shedding_alert": {Topic: "mesh.shedding", Action: ActionAlert, Severity: "warning",
				Message: "subscription {subscription} dropped {dropped} events ({policy})"},
			"cascade_cut_alert": {Topic: "policy.cascade_cut", Action: ActionAlert, Severity: "warning",
				Message: "policy cascade cut at rule {rule} ({reason}): {chain}"},
			"recovery_summary": {Topic: "intent.completed", Match: map[string]string{"type": "emergency_recovery"},
				Action: ActionSubmit, Intent: "generate_summary", Priority: 6, Message: "summarise emergency recovery {id}"},
		},
	}
}

// validateSettings checks the keys other than the rules, naming each.
func (c Config) validateSettings() error {
	var errs []error
	if c.MaxDepth < 1 {
		errs = append(errs, fmt.Errorf("policy.max_depth (%d) must be at least 1", c.MaxDepth))
	}
	if c.Buffer < 1 {
		errs = append(errs, fmt.Errorf("policy.buffer (%d) must be at least 1", c.Buffer))
	}
	if _, err := mesh.ParseBackpressure(c.Backpressure); err != nil {
		errs = append(errs, fmt.Errorf("policy.backpressure: %w", err))
	}
	if c.AlertInterval <= 0 {
		errs = append(errs, fmt.Errorf("policy.alert_interval (%v) must be positive", c.AlertInterval))
	}
	return errors.Join(errs...)
}
