package engine

import (
	"errors"
	"fmt"

	"grace/engine/governance"
	"grace/engine/kernel"
	"grace/engine/mesh"
	"grace/engine/policy"
)

// validateLayers checks the mesh, policy and kernels sections the way New
// builds them: the mesh's keys, every policy rule (and the rules file)
// against the declared topics, the kernels, and the playbooks (built-in and
// kernels.playbooks_dir). Each problem names its key, rule, file or step.
func (c Config) validateLayers() error {
	if err := c.Mesh.Validate("mesh"); err != nil {
		return err
	}
	topics, err := mesh.NewCatalog(append(append(append(append([]string{mesh.TopicShedding, TopicChaosFlood},
		IntentTopics...), policy.Topics...), kernel.Topics...), c.Mesh.Topics...)...)
	if err != nil {
		return fmt.Errorf("mesh.topics: %w", err)
	}
	env := policy.Env{Topics: topics, IntentTopics: IntentTopics}
	var tier4 func(string) error
	if router, err := governance.NewRouter(c.Governance); err == nil { // else Validate reports the governance error
		tier4 = tier4Check(router)
	}
	_, polErr := policy.Compile(c.Policy, env)
	playbooks, err := builtinPlaybooks()
	if err != nil {
		return errors.Join(polErr, err)
	}
	return errors.Join(polErr, kernel.Check(c.Kernels, topics, kernel.Options{Playbooks: playbooks, IntentType: tier4}))
}

// tier4Check accepts only Tier 4 intent types: a playbook runs as an
// emergency.
func tier4Check(r *governance.Router) func(string) error {
	return func(typ string) error {
		if tier, _ := r.Tier(typ); tier != 4 {
			return fmt.Errorf("%s is Tier %d; a playbook runs as a Tier 4 intent (governance.tiers.tier_4)", typ, tier)
		}
		return nil
	}
}
