package policy

import (
	"errors"
	"fmt"
	"strings"
)

// output is what the loop check knows of an event a rule's action makes:
// its topic, the fields whose values are fixed, the fields whose values
// depend on the triggering event, and whether other fields are certainly
// absent (closed).
type output struct {
	topic   string
	fixed   map[string]string
	dynamic map[string]bool
	closed  bool
}

// outputs lists the events r's action can produce.
func outputs(r *Rule, env Env) []output {
	switch r.Action {
	case ActionEmit:
		o := output{topic: r.Emit, fixed: map[string]string{}, dynamic: map[string]bool{}, closed: true}
		for _, f := range r.fields {
			if v, ok := f.tpl.static(); ok {
				o.fixed[f.name] = v
			} else {
				o.dynamic[f.name] = true
			}
		}
		return []output{o}
	case ActionSubmit:
		outs := make([]output, 0, len(env.IntentTopics))
		for _, t := range env.IntentTopics {
			outs = append(outs, output{topic: t, fixed: map[string]string{"type": r.Intent}})
		}
		return outs
	case ActionAlert:
		o := output{topic: TopicAlert, closed: true,
			fixed:   map[string]string{"severity": r.Severity, "rule": r.Name},
			dynamic: map[string]bool{"message": true, "topic": true}}
		if v, ok := r.message.static(); ok {
			o.fixed["message"] = v
			delete(o.dynamic, "message")
		}
		return []output{o}
	}
	return nil
}

// edge says that a rule's action can fire rule to, through topic.
type edge struct {
	to    *Rule
	topic string
}

// mayTrigger reports whether an event like o could fire s.
func mayTrigger(o output, s *Rule) bool {
	if !s.pattern.Match(o.topic) {
		return false
	}
	for _, m := range s.match {
		if o.dynamic[m.field] {
			continue
		}
		if v, ok := o.fixed[m.field]; ok {
			if !m.ok(v) {
				return false
			}
			continue
		}
		if o.closed && !m.ok("") {
			return false
		}
	}
	return true
}

// checkLoops refuses rules whose actions can, through one another, fire
// themselves again. Each loop found is reported once, as the chain of
// rules with the topics between them and where each rule was defined.
func checkLoops(rs *RuleSet, env Env) error {
	next := map[*Rule][]edge{}
	for _, r := range rs.rules {
		for _, o := range outputs(r, env) {
			for _, s := range rs.rules {
				if mayTrigger(o, s) {
					next[r] = append(next[r], edge{to: s, topic: o.topic})
				}
			}
		}
	}
	const (
		white = iota
		grey
		black
	)
	color := map[*Rule]int{}
	var stack []edge // stack[i].to is the rule at depth i; topic is how it was reached
	var errs []error
	seen := map[string]bool{}
	var visit func(r *Rule)
	visit = func(r *Rule) {
		color[r] = grey
		for _, e := range next[r] {
			switch color[e.to] {
			case white:
				stack = append(stack, e)
				visit(e.to)
				stack = stack[:len(stack)-1]
			case grey:
				// e.to is on the stack: the loop is from there to r, then e.
				start := len(stack) - 1
				for start >= 0 && stack[start].to != e.to {
					start--
				}
				loop := append(append([]edge{}, stack[start+1:]...), e)
				if key := loopKey(e.to, loop); !seen[key] {
					seen[key] = true
					errs = append(errs, describeLoop(e.to, loop))
				}
			}
		}
		color[r] = black
	}
	for _, r := range rs.rules {
		if color[r] == white {
			stack = append(stack[:0], edge{to: r})
			visit(r)
		}
	}
	return errors.Join(errs...)
}

// loopKey names a loop independently of where it was entered.
func loopKey(first *Rule, loop []edge) string {
	names := []string{first.Name}
	for _, e := range loop[:len(loop)-1] {
		names = append(names, e.to.Name)
	}
	least := 0
	for i, n := range names {
		if n < names[least] {
			least = i
		}
	}
	return strings.Join(append(names[least:], names[:least]...), ",")
}

func describeLoop(first *Rule, loop []edge) error {
	var b strings.Builder
	b.WriteString(first.Name)
	srcs := []string{first.Name + " (" + first.Source + ")"}
	for _, e := range loop {
		fmt.Fprintf(&b, " →[%s]→ %s", e.topic, e.to.Name)
		if e.to != first {
			srcs = append(srcs, e.to.Name+" ("+e.to.Source+")")
		}
	}
	return fmt.Errorf("%s: the rules would loop through themselves: %s; defined at %s",
		first.Source, b.String(), strings.Join(srcs, ", "))
}
