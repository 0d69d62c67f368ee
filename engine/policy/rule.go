package policy

import (
	"path"
	"sort"
	"strings"
	"sync/atomic"

	"grace/engine/mesh"
)

// Rule is a compiled rule. Its exported fields describe it; it is
// immutable after Compile except for its counters.
type Rule struct {
	// Name is the rule's name; Source says where it was defined
	// ("policy.rules.<name>" or "policy.rules_file (<path>): rule <name>").
	Name   string
	Source string
	// Topic is the pattern the rule listens to.
	Topic string
	// Action is emit, submit or alert.
	Action   string
	Emit     string
	Intent   string
	Priority int
	Severity string

	pattern mesh.Pattern
	match   []matcher
	fields  []field
	message template

	fired  atomic.Uint64
	cut    atomic.Uint64
	failed atomic.Uint64
}

// matcher is one field condition of a rule.
type matcher struct {
	field   string
	glob    string
	literal bool // no glob characters: plain equality
}

func (m matcher) ok(v string) bool {
	if m.literal {
		return v == m.glob
	}
	ok, _ := path.Match(m.glob, v)
	return ok
}

// field is one field of an emitted event.
type field struct {
	name string
	tpl  template
}

// matches reports whether ev satisfies every field condition.
func (r *Rule) matches(ev mesh.Event) bool {
	for _, m := range r.match {
		if !m.ok(ev.Fields[m.field]) {
			return false
		}
	}
	return true
}

// outTopic is the topic the rule's action produces an event on: the emit
// topic, the topic announcing a submitted intent, or the alert topic.
func (r *Rule) outTopic() string {
	switch r.Action {
	case ActionEmit:
		return r.Emit
	case ActionSubmit:
		return TopicIntentReceived
	}
	return TopicAlert
}

// describeMatch renders the rule's condition for a narrative.
func (r *Rule) describeMatch() string {
	if len(r.match) == 0 {
		return "any event on " + r.Topic
	}
	parts := make([]string, len(r.match))
	for i, m := range r.match {
		parts[i] = m.field + "=" + m.glob
	}
	return r.Topic + " where " + strings.Join(parts, ", ")
}

// RuleSet is a compiled, loop-free set of rules, grouped by the pattern
// they listen to.
type RuleSet struct {
	rules  []*Rule            // by name
	groups map[string][]*Rule // by pattern
}

// Names returns the rule names, sorted.
func (rs *RuleSet) Names() []string {
	out := make([]string, len(rs.rules))
	for i, r := range rs.rules {
		out[i] = r.Name
	}
	return out
}

// Rule returns the named rule.
func (rs *RuleSet) Rule(name string) (*Rule, bool) {
	i := sort.Search(len(rs.rules), func(i int) bool { return rs.rules[i].Name >= name })
	if i < len(rs.rules) && rs.rules[i].Name == name {
		return rs.rules[i], true
	}
	return nil, false
}

// Patterns returns the distinct patterns the rules listen to, sorted.
func (rs *RuleSet) Patterns() []string {
	out := make([]string, 0, len(rs.groups))
	for p := range rs.groups {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}

// pathMatch is path.Match, kept in one place.
func pathMatch(glob, v string) (bool, error) { return path.Match(glob, v) }
