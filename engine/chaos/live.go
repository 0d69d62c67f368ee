package chaos

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"time"

	"grace/engine"
	"grace/engine/policy"
)

// NeedsIsolation says why sc at difficulty cannot run against a live
// engine configured by cfg, or "" when it can: a scenario whose fault
// kinds reconfigure the engine under test (workers, rate limits, policy
// rules, the scheduler's auto resume) would prove nothing about the live
// engine's own configuration, and the runner never reconfigures a live
// engine.
func NeedsIsolation(cfg engine.Config, sc *Scenario, difficulty int) string {
	var kinds []string
	for _, f := range sc.Faults {
		k := faultKinds[f.Kind]
		if k.configure == nil {
			continue
		}
		probe := cloneConfig(cfg)
		k.configure(&probe, sc, difficulty)
		if !reflect.DeepEqual(probe, cloneConfig(cfg)) {
			kinds = append(kinds, f.Kind)
		}
	}
	if len(kinds) == 0 {
		return ""
	}
	return fmt.Sprintf("scenario %s cannot run against the live engine: its faults (%s) need a reconfigured engine; run it isolated",
		sc.ID, strings.Join(kinds, ", "))
}

// cloneConfig copies cfg deeply enough for a fault kind's configure to
// change the copy only (the maps and slices configure touches).
func cloneConfig(cfg engine.Config) engine.Config {
	c := cfg
	c.Mesh.Topics = append([]string(nil), cfg.Mesh.Topics...)
	if cfg.Policy.Rules != nil {
		c.Policy.Rules = make(map[string]policy.RuleConfig, len(cfg.Policy.Rules))
		for k, v := range cfg.Policy.Rules {
			c.Policy.Rules[k] = v
		}
	}
	if cfg.Safeguards != nil {
		c.Safeguards = make(map[string]engine.SafeguardConfig, len(cfg.Safeguards))
		for k, v := range cfg.Safeguards {
			c.Safeguards[k] = v
		}
	}
	return c
}

// liveAfterHalt checks a live engine's steady state after the rollback of
// a run that stopped early (halted, or the steady state after failed), so
// that the error says whether the live engine came back and what the
// rollback restored.
func (r *run) liveAfterHalt(ctx context.Context, deadline time.Duration, cause error) error {
	before := len(r.failures)
	_ = r.steady(context.WithoutCancel(ctx), "after", deadline)
	restored := r.restored()
	if len(r.failures) > before {
		return fmt.Errorf("%w; rollback restored %s, but the live engine is still degraded: %s",
			cause, restored, strings.Join(r.failures[before:], "; "))
	}
	return fmt.Errorf("%w; rollback restored %s and the live engine's steady state holds", cause, restored)
}

// restored says what the rollback undid, for the record of a live run.
func (r *run) restored() string {
	var parts []string
	if r.needClearHandlers {
		parts = append(parts, "the handlers (faults cleared)")
	}
	if r.needResume {
		parts = append(parts, "the scheduler (resumed)")
	}
	for _, typ := range r.pausedTypes {
		parts = append(parts, "intent type "+typ+" (resumed if still paused)")
	}
	if len(parts) == 0 {
		return "nothing (no fault left anything to undo)"
	}
	return strings.Join(parts, " and ")
}
