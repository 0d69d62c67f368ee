package kernel

import (
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"

	"grace/engine/mesh"
)

// Spec is one kernel as config.yaml lists it (kernels.list.<name>).
type Spec struct {
	// Critical kernels are watched by the critical-kernel heartbeat
	// trigger and recovered by the emergency playbook.
	Critical bool `mapstructure:"critical"`
	// Publishes lists the topic patterns the kernel may publish on
	// besides kernel.heartbeat (the bus ACL).
	Publishes []string `mapstructure:"publishes"`
	// DependsOn names the kernels this one needs: it boots after them
	// and stops when one has been down for twice kernels.missed_after
	// intervals (time for the dependency's own recovery first).
	DependsOn []string `mapstructure:"depends_on"`
}

// Config is the kernels section of config.yaml.
type Config struct {
	HeartbeatInterval time.Duration `mapstructure:"heartbeat_interval"`
	// MissedAfter is how many heartbeat checks a kernel may miss before it
	// counts as down.
	MissedAfter int `mapstructure:"missed_after"`
	// RestartBackoff is how long the supervisor waits before restarting a
	// failed non-critical kernel (and between checks of its dependencies).
	RestartBackoff time.Duration `mapstructure:"restart_backoff"`
	// MemoryLimitMB is the memory a kernel may report before it counts as
	// exhausted.
	MemoryLimitMB int `mapstructure:"memory_limit_mb"`
	// ACLViolationLimit violations within ACLWindow suspend a sender from
	// the bus for ACLSuspend.
	ACLViolationLimit int           `mapstructure:"acl_violation_limit"`
	ACLWindow         time.Duration `mapstructure:"acl_window"`
	ACLSuspend        time.Duration `mapstructure:"acl_suspend"`
	// PlaybooksDir adds playbooks to (or overrides) the built-in ones in
	// scenarios/playbooks; empty for none.
	PlaybooksDir string `mapstructure:"playbooks_dir"`
	// RecoveryPlaybook is the playbook the critical-kernel heartbeat
	// trigger runs.
	RecoveryPlaybook string `mapstructure:"recovery_playbook"`
	// Kernels are the kernels by name.
	Kernels map[string]Spec `mapstructure:"list"`
}

// DefaultConfig returns the documented defaults: 20 kernels, five of them
// critical.
func DefaultConfig() Config {
	state := []string{TopicState}
	ctl := []string{TopicState, TopicControl}
	return Config{
		HeartbeatInterval: time.Second, MissedAfter: 3, RestartBackoff: 2 * time.Second, MemoryLimitMB: 512,
		ACLViolationLimit: 10, ACLWindow: time.Minute, ACLSuspend: time.Minute,
		RecoveryPlaybook: "emergency_critical_kernel_recovery",
		Kernels: map[string]Spec{
			"governance":       {Critical: true, Publishes: ctl},
			"security":         {Critical: true, Publishes: ctl},
			"memory":           {Critical: true, Publishes: state},
			"infrastructure":   {Critical: true, Publishes: state},
			"self_healing":     {Critical: true, Publishes: ctl, DependsOn: []string{"memory"}},
			"verification":     {Publishes: state, DependsOn: []string{"governance", "security"}},
			"crypto":           {Publishes: state, DependsOn: []string{"security"}},
			"identity":         {Publishes: state, DependsOn: []string{"security", "crypto"}},
			"librarian":        {Publishes: state, DependsOn: []string{"memory"}},
			"knowledge":        {Publishes: state, DependsOn: []string{"memory", "librarian"}},
			"learning":         {Publishes: state, DependsOn: []string{"knowledge"}},
			"intelligence":     {Publishes: state, DependsOn: []string{"knowledge"}},
			"sandbox":          {Publishes: state, DependsOn: []string{"infrastructure"}},
			"code":             {Publishes: state, DependsOn: []string{"sandbox"}},
			"federation":       {Publishes: state, DependsOn: []string{"identity", "infrastructure"}},
			"telemetry":        {Publishes: state, DependsOn: []string{"infrastructure"}},
			"scheduler_core":   {Publishes: state, DependsOn: []string{"infrastructure"}},
			"resource_manager": {Publishes: state, DependsOn: []string{"infrastructure"}},
			"clarity":          {Publishes: state, DependsOn: []string{"memory"}},
			"health_monitor":   {Publishes: state, DependsOn: []string{"telemetry"}},
		},
	}
}

var kernelName = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)

// validate checks every key but the playbooks against the declared
// topics, naming each key; it also returns the boot order (dependencies
// first).
func (c Config) validate(topics *mesh.Catalog) ([]string, error) {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if c.HeartbeatInterval <= 0 {
		add("kernels.heartbeat_interval (%v) must be positive", c.HeartbeatInterval)
	}
	if c.MissedAfter < 1 {
		add("kernels.missed_after (%d) must be at least 1", c.MissedAfter)
	}
	if c.RestartBackoff <= 0 {
		add("kernels.restart_backoff (%v) must be positive", c.RestartBackoff)
	}
	if c.MemoryLimitMB < 1 {
		add("kernels.memory_limit_mb (%d) must be at least 1", c.MemoryLimitMB)
	}
	if c.ACLViolationLimit < 1 {
		add("kernels.acl_violation_limit (%d) must be at least 1", c.ACLViolationLimit)
	}
	if c.ACLWindow <= 0 {
		add("kernels.acl_window (%v) must be positive", c.ACLWindow)
	}
	if c.ACLSuspend <= 0 {
		add("kernels.acl_suspend (%v) must be positive", c.ACLSuspend)
	}
	if strings.TrimSpace(c.RecoveryPlaybook) == "" {
		add("kernels.recovery_playbook must name a playbook")
	}
	names := make([]string, 0, len(c.Kernels))
	for n := range c.Kernels {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		spec := c.Kernels[n]
		key := "kernels.list." + n
		if !kernelName.MatchString(n) {
			add("%s: a kernel name is lower-case letters, digits and '_', starting with a letter", key)
		}
		if n == senderControlPlane {
			add("%s: the name is reserved for the control plane itself", key)
		}
		for i, p := range spec.Publishes {
			if _, err := topics.Expand(p); err != nil {
				add("%s.publishes[%d]: %v", key, i, err)
			}
		}
		for _, d := range spec.DependsOn {
			switch _, ok := c.Kernels[d]; {
			case d == n:
				add("%s.depends_on: a kernel cannot depend on itself", key)
			case !ok:
				add("%s.depends_on: %q is not a kernel (kernels.list)", key, d)
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return bootOrder(c.Kernels, names)
}

// bootOrder sorts kernels so that each comes after its dependencies,
// refusing a dependency cycle with the kernels in it.
func bootOrder(kernels map[string]Spec, names []string) ([]string, error) {
	const (
		white = iota
		grey
		black
	)
	color := map[string]int{}
	var order, path []string
	var cycle []string
	var visit func(n string) bool
	visit = func(n string) bool {
		color[n] = grey
		path = append(path, n)
		deps := append([]string(nil), kernels[n].DependsOn...)
		sort.Strings(deps)
		for _, d := range deps {
			switch color[d] {
			case grey:
				i := len(path) - 1
				for path[i] != d {
					i--
				}
				cycle = append(append([]string(nil), path[i:]...), d)
				return false
			case white:
				if !visit(d) {
					return false
				}
			}
		}
		path = path[:len(path)-1]
		color[n] = black
		order = append(order, n)
		return true
	}
	for _, n := range names {
		if color[n] == white && !visit(n) {
			return nil, fmt.Errorf("kernels.list.%s.depends_on: the kernels depend on one another in a loop: %s", cycle[0], strings.Join(cycle, " → "))
		}
	}
	return order, nil
}
