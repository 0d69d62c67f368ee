package chaos

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"go.yaml.in/yaml/v3"

	"grace/engine"
	"grace/engine/yamldoc"
)

// The remediation intent types (the seed's governance router: modify_config
// is Tier 1, direct and reviewed after; modify_governance is Tier 0 and
// waits for a human).
const (
	IntentModifyConfig     = "modify_config"
	IntentModifyGovernance = "modify_governance"
)

// The playbook actions.
const (
	// PlaybookEnable: the safeguard was switched off; the fix switches it
	// on (safeguards.<name>.enabled: true) and the loop proposes it.
	PlaybookEnable = "enable_safeguard"
	// PlaybookTune: the safeguard was on and still did not fire; the fix
	// is a change to the keys that tune it (or to its code), which the
	// loop cannot choose: the playbook is a task for an engineer.
	PlaybookTune = "tune_safeguard"
)

// safeguardInfo is what the loop knows about a safeguard for a playbook:
// what it does (after the seed's scenario list), the config keys that tune
// it, and whether changing it is a governance matter.
type safeguardInfo struct {
	Description string
	Tuning      []string
	// Governance marks a safeguard whose change is a permissions decision:
	// its remediation is modify_governance (Tier 0, a human decides).
	Governance bool
}

var safeguardInfos = map[string]safeguardInfo{
	engine.SafeguardRateLimit: {
		Description: "intake token buckets refuse submissions past htm.rate_limit, so a flood cannot overrun the HTM queue (seed, L2_HTM_queue_flood_stress: tests queue overflow protection, validates rate limiting)",
		Tuning:      []string{"htm.rate_limit.global_rate", "htm.rate_limit.global_burst", "htm.rate_limit.actor_rate", "htm.rate_limit.actor_burst"},
	},
	engine.SafeguardLoadShedding: {
		Description: "past the critical queue depth, queued work matching htm.shedding.criteria is shed, one narrated decision each (seed: load shedding at critical depth, queue overflow protection)",
		Tuning:      []string{"htm.critical_depth", "htm.shedding.criteria", "htm.shedding.interval", "htm.shedding.max_batch"},
	},
	engine.SafeguardMeshBackpressure: {
		Description: "trigger mesh subscriptions have bounded buffers with a backpressure policy and count every drop (seed, L2_trigger_mesh_storm: tests backpressure handling, validates subscription resilience)",
		Tuning:      []string{"mesh.buffer", "mesh.backpressure", "mesh.block_timeout", "mesh.episode_quiet"},
	},
	engine.SafeguardPolicyCascadeLimit: {
		Description: "event policy cascades deeper than policy.max_depth, and cycles, are cut and narrated (seed, L2_event_policy_cascade: tests cascade detection, validates recursion limits)",
		Tuning:      []string{"policy.max_depth", "policy.alert_interval"},
	},
	engine.SafeguardWorkerReassignment: {
		Description: "a dead worker's task is rerouted to a healthy worker and the pool refilled (seed, L2_worker_dropout_chaos: tests task reassignment, validates worker pool recovery)",
		Tuning:      []string{"workers.heartbeat_interval", "workers.heartbeat_misses", "workers.count"},
	},
	engine.SafeguardSchedulerAutoResume: {
		Description: "a scheduler pause, or one intent type's, outlasting scheduler.auto_resume_after while work waits is undone (seed, L2_scheduler_pause_during_load: tests task rerouting, validates watchdog restart; L2_type_pause_isolation for a type's pause)",
		Tuning:      []string{"scheduler.auto_resume_after"},
	},
	engine.SafeguardHandlerAbandonment: {
		Description: "a handler that ignores being told to stop (its timeout, a cancel, its worker lost) is abandoned workers.abandon_after later: its worker freed, its intent failed rather than retried while it may still run (L2_runaway_handler: handlers that never check their context)",
		Tuning:      []string{"workers.abandon_after", "workers.task_timeout", "handlers.<type>.timeout"},
	},
	"kernel_auto_recovery": {
		Description: "a critical kernel that misses its heartbeats triggers the emergency recovery playbook as a Tier 4 intent (seed: critical kernel heartbeat trigger, DiRT kernel kills)",
		Tuning:      []string{"kernels.heartbeat_interval", "kernels.missed_after", "kernels.restart_backoff", "kernels.recovery_playbook"},
	},
	"bus_acl": {
		Description: "the message bus ACL refuses a kernel's publishes outside its list and suspends a kernel past the violation limit (seed: DiRT ACL floods)",
		Tuning:      []string{"kernels.acl_violation_limit", "kernels.acl_window", "kernels.acl_suspend", "kernels.list.<kernel>.publishes"},
		// The ACL says which kernel may publish what: a permission
		// boundary, so switching it is decided by a human.
		Governance: true,
	},
}

// infoFor returns what the loop knows of safeguard name.
func infoFor(name string) safeguardInfo {
	if in, ok := safeguardInfos[name]; ok {
		return in
	}
	return safeguardInfo{Description: "(no description known for this safeguard)", Tuning: []string{"safeguards." + name}}
}

// Playbook is what the loop writes for a missing safeguard: what to
// enable or change, why, and how to verify it. It is stored as YAML in
// the playbooks folder (<finding>.yaml) and in the finding.
type Playbook struct {
	Finding   string         `yaml:"finding"`
	CreatedAt time.Time      `yaml:"created_at"`
	Scenario  string         `yaml:"scenario"`
	Safeguard string         `yaml:"safeguard"`
	What      PlaybookWhat   `yaml:"what"`
	Why       PlaybookWhy    `yaml:"why"`
	Verify    PlaybookVerify `yaml:"verify"`
}

// PlaybookWhat is the change a playbook asks for.
type PlaybookWhat struct {
	// Action is PlaybookEnable or PlaybookTune.
	Action string `yaml:"action"`
	// Set are the config keys to set (enable: safeguards.<name>.enabled).
	Set map[string]bool `yaml:"set,omitempty"`
	// Review are the config keys that tune the safeguard (tune).
	Review []string `yaml:"review,omitempty"`
	// Remediation is the intent type that carries the change through
	// governance (empty for tune: there is no change the loop can make).
	Remediation string `yaml:"remediation,omitempty"`
	// Evidence is what the failing run showed.
	Evidence []string `yaml:"evidence,omitempty"`
	// Note says where the change applies.
	Note string `yaml:"note"`
}

// PlaybookWhy is the reason for a playbook.
type PlaybookWhy struct {
	Scenario   string   `yaml:"scenario"`
	RunID      string   `yaml:"run_id"`
	Difficulty int      `yaml:"difficulty"`
	Failure    string   `yaml:"failure"`
	Failures   []string `yaml:"failures"`
	Safeguard  string   `yaml:"safeguard"`
}

// PlaybookVerify says how the fix is proven.
type PlaybookVerify struct {
	Scenario string `yaml:"scenario"`
	Command  string `yaml:"command"`
	Expect   string `yaml:"expect"`
}

// ParsePlaybook decodes a playbook's YAML; unknown fields are refused.
func ParsePlaybook(b []byte) (Playbook, error) {
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	var p Playbook
	if err := dec.Decode(&p); err != nil {
		return Playbook{}, fmt.Errorf("parse playbook: %w", err)
	}
	if err := yamldoc.Single(dec, "a playbook"); err != nil {
		return Playbook{}, fmt.Errorf("parse playbook: %w", err)
	}
	return p, nil
}

// newPlaybook builds the playbook for safeguard g missing from res in run.
func newPlaybook(id string, now time.Time, runID string, res engine.ChaosResult, g engine.ChaosSafeguardResult, failure string) Playbook {
	in := infoFor(g.Name)
	p := Playbook{
		Finding: id, CreatedAt: now, Scenario: res.ID, Safeguard: g.Name,
		Why: PlaybookWhy{Scenario: res.ID, RunID: runID, Difficulty: res.Difficulty, Failure: failure,
			Failures: res.Failures, Safeguard: g.Name + ": " + in.Description},
		Verify: PlaybookVerify{Scenario: res.ID,
			Command: fmt.Sprintf("grace chaos run %s --difficulty %d", res.ID, max(res.Difficulty, 1)),
			Expect:  fmt.Sprintf("the scenario passes with safeguard %s fired; the loop's next run of %s checks it", g.Name, res.ID)},
	}
	if !g.Enabled {
		p.What = PlaybookWhat{Action: PlaybookEnable,
			Set:         map[string]bool{"safeguards." + g.Name + ".enabled": true},
			Remediation: IntentModifyConfig,
			Note: "the loop proposes this change as an intent; once governance lets it through, the loop's chaos runs use it. " +
				"The engine cannot switch safeguards while it runs: the live engine keeps config.yaml's value until an operator changes it there and restarts"}
		if in.Governance {
			p.What.Remediation = IntentModifyGovernance
		}
		return p
	}
	p.What = PlaybookWhat{Action: PlaybookTune, Review: in.Tuning,
		Note: "the safeguard was on and did not fire: there is no switch to flip, so the loop proposes no intent; " +
			"an engineer reviews these keys (or the safeguard's code) and the loop's next run of the scenario verifies the change"}
	p.What.Evidence = append(p.What.Evidence, fmt.Sprintf("difficulty %d, %d ms", res.Difficulty, res.DurationMS))
	for _, s := range res.Safeguards {
		p.What.Evidence = append(p.What.Evidence, fmt.Sprintf("safeguard %s: expected %v, fired %v, enabled %v", s.Name, s.Expected, s.Fired, s.Enabled))
	}
	p.What.Evidence = append(p.What.Evidence, res.Notes...)
	return p
}

// writePlaybook writes p as <dir>/<finding>.yaml (through a temporary
// file, so a reader never sees half of it) and returns the path and text.
func writePlaybook(dir string, p Playbook) (string, string, error) {
	b, err := yaml.Marshal(p)
	if err != nil {
		return "", "", fmt.Errorf("playbook %s: encode: %w", p.Finding, err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", "", fmt.Errorf("playbook %s: chaos.loop.playbooks_dir %s: %w", p.Finding, dir, err)
	}
	path := filepath.Join(dir, p.Finding+".yaml")
	tmp, err := os.CreateTemp(dir, "."+p.Finding+"-*.tmp")
	if err != nil {
		return "", "", fmt.Errorf("playbook %s: %w", path, err)
	}
	if _, err = tmp.Write(b); err == nil {
		err = tmp.Close()
	} else {
		tmp.Close()
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		os.Remove(tmp.Name())
		return "", "", fmt.Errorf("playbook %s: %w", path, err)
	}
	return path, string(b), nil
}
