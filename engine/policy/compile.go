package policy

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"regexp"
	"slices"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"

	"grace/engine/mesh"
	"grace/engine/yamldoc"
)

// The topics the policy engine itself publishes on; the engine declares
// them on the mesh. Topics lists them all.
const (
	// TopicAlert announces an alert (fields severity, rule, message, topic).
	TopicAlert = "alert.raised"
	// TopicCascadeCut announces a cut cascade (fields rule, reason, depth,
	// chain).
	TopicCascadeCut = "policy.cascade_cut"
	// TopicIntentReceived is where the engine announces a new intent; the
	// causation chain of an intent a rule submits ends in a link to it.
	TopicIntentReceived = "intent.received"
)

// Topics are the topics the policy engine publishes on itself.
var Topics = []string{TopicAlert, TopicCascadeCut}

// TopicSet is what Compile needs to know of the mesh's topics;
// *mesh.Catalog implements it.
type TopicSet interface {
	// Has reports whether a topic is declared.
	Has(topic string) bool
	// Expand lists the declared topics a pattern selects, failing when
	// there are none.
	Expand(pattern string) ([]string, error)
}

// Env is what Compile checks rules against.
type Env struct {
	// Topics are the declared topics.
	Topics TopicSet
	// IntentTopics are the topics on which the engine announces an
	// intent's progress, each event carrying the intent's type in field
	// "type": a submit action is taken to produce an event on each (for
	// the loop check).
	IntentTopics []string
	// IntentType checks an intent type a submit action names; nil accepts
	// any non-empty type.
	IntentType func(string) error
}

var ruleName = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)

// rulesFile is the shape of policy.rules_file.
type rulesFile struct {
	Rules map[string]RuleConfig `yaml:"rules"`
}

// Compile checks cfg (its settings, its rules and those of
// cfg.RulesFile) against env and returns the compiled rules. Every problem
// is reported, each naming the key or the file and the rule; a set of rules
// that would loop through themselves is refused with the loop spelled out.
func Compile(cfg Config, env Env) (*RuleSet, error) {
	errs := []error{cfg.validateSettings()}
	type src struct {
		where string
		rc    RuleConfig
	}
	defs := map[string]src{}
	for name, rc := range cfg.Rules {
		defs[name] = src{where: "policy.rules." + name, rc: rc}
	}
	if cfg.RulesFile != "" {
		fileRules, err := readRulesFile(cfg.RulesFile)
		if err != nil {
			errs = append(errs, err)
		}
		for name, rc := range fileRules {
			where := fmt.Sprintf("policy.rules_file (%s): rule %s", cfg.RulesFile, name)
			if prev, dup := defs[name]; dup {
				errs = append(errs, fmt.Errorf("%s: the name is already used by %s", where, prev.where))
				continue
			}
			defs[name] = src{where: where, rc: rc}
		}
	}
	names := make([]string, 0, len(defs))
	for n := range defs {
		names = append(names, n)
	}
	sort.Strings(names)
	rs := &RuleSet{groups: map[string][]*Rule{}}
	for _, name := range names {
		d := defs[name]
		r, err := compileRule(name, d.where, d.rc, env)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		rs.rules = append(rs.rules, r)
		rs.groups[r.Topic] = append(rs.groups[r.Topic], r)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if err := checkLoops(rs, env); err != nil {
		return nil, err
	}
	return rs, nil
}

// readRulesFile decodes a rules file strictly: an unknown key is an error
// with its line.
func readRulesFile(path string) (map[string]RuleConfig, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("policy.rules_file (%s): %w", path, err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var f rulesFile
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("policy.rules_file (%s): does not parse: %s", path, strings.ReplaceAll(strings.TrimPrefix(err.Error(), "yaml: "), "\n", " "))
	}
	if err := yamldoc.Single(dec, "a rules file"); err != nil {
		return nil, fmt.Errorf("policy.rules_file (%s): %w", path, err)
	}
	return f.Rules, nil
}

// compileRule checks one rule; the error lists every problem, prefixed by
// where.
func compileRule(name, where string, rc RuleConfig, env Env) (*Rule, error) {
	var probs []string
	add := func(format string, args ...any) { probs = append(probs, fmt.Sprintf(format, args...)) }
	if !ruleName.MatchString(name) {
		add("the name must be lower-case letters, digits and '_', starting with a letter")
	}
	r := &Rule{Name: name, Source: where, Topic: rc.Topic, Action: rc.Action, Emit: rc.Emit, Intent: rc.Intent,
		Priority: rc.Priority, Severity: rc.Severity}
	if rc.Topic == "" {
		add("topic is required (the topic or pattern the rule listens to)")
	} else if p, err := mesh.ParsePattern(rc.Topic); err != nil {
		add("topic: %v", err)
	} else if _, err := env.Topics.Expand(rc.Topic); err != nil {
		add("topic %v", err)
	} else {
		r.pattern = p
	}
	for _, f := range sortedKeys(rc.Match) {
		glob := rc.Match[f]
		if _, err := pathMatchCheck(glob); err != nil {
			add("match.%s: bad pattern %q: %v", f, glob, err)
			continue
		}
		r.match = append(r.match, matcher{field: f, glob: glob, literal: !strings.ContainsAny(glob, `*?[\`)})
	}
	msg, err := parseTemplate(rc.Message)
	if err != nil {
		add("message: %v", err)
	}
	r.message = msg
	misplaced := func(key string, set bool, belongs string) {
		if set {
			add("%s is set, but only the %s action uses it (this rule's action is %s)", key, belongs, rc.Action)
		}
	}
	switch rc.Action {
	case ActionEmit:
		switch {
		case rc.Emit == "":
			add("emit is required for an emit action (the topic to publish on)")
		case !env.Topics.Has(rc.Emit):
			if err := mesh.ValidTopic(rc.Emit); err != nil {
				add("emit: %v", err)
			} else {
				add("emit topic %q is not a known topic (declare it in mesh.topics)", rc.Emit)
			}
		}
		for _, f := range sortedKeys(rc.Fields) {
			tpl, err := parseTemplate(rc.Fields[f])
			if err != nil {
				add("fields.%s: %v", f, err)
			}
			r.fields = append(r.fields, field{name: f, tpl: tpl})
		}
		misplaced("intent", rc.Intent != "", ActionSubmit)
		misplaced("severity", rc.Severity != "", ActionAlert)
	case ActionSubmit:
		switch {
		case rc.Intent == "":
			add("intent is required for a submit action (the intent type)")
		case env.IntentType != nil:
			if err := env.IntentType(rc.Intent); err != nil {
				add("intent: %v", err)
			}
		}
		if rc.Priority < 0 || rc.Priority > 9 {
			add("priority (%d) must be between 0 and 9", rc.Priority)
		}
		misplaced("emit", rc.Emit != "", ActionEmit)
		misplaced("fields", len(rc.Fields) > 0, ActionEmit)
		misplaced("severity", rc.Severity != "", ActionAlert)
	case ActionAlert:
		if !slices.Contains(Severities, rc.Severity) {
			add("severity (%q) must be one of %s", rc.Severity, strings.Join(Severities, ", "))
		}
		if strings.TrimSpace(rc.Message) == "" {
			add("message is required for an alert")
		}
		misplaced("emit", rc.Emit != "", ActionEmit)
		misplaced("fields", len(rc.Fields) > 0, ActionEmit)
		misplaced("intent", rc.Intent != "", ActionSubmit)
	case "":
		add("action is required (emit, submit or alert)")
	default:
		add("action %q is not known (emit, submit or alert)", rc.Action)
	}
	if len(probs) > 0 {
		return nil, fmt.Errorf("%s: %s", where, strings.Join(probs, "; "))
	}
	return r, nil
}

// pathMatchCheck validates a glob the way path.Match reads it.
func pathMatchCheck(glob string) (bool, error) {
	return pathMatch(glob, "")
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
