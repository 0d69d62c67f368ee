package policy

import (
	"grace/engine/mesh"
)

// Context keys of an intent a rule submits: its causation chain and depth,
// so that the events announcing the intent carry the chain on.
const (
	ContextCausation = "causation"
	ContextDepth     = "causation_depth"
)

// ChainContext encodes a causation chain for an intent's context: a list of
// {rule, from, topic, event} objects, oldest first.
func ChainContext(chain []mesh.Link) []any {
	out := make([]any, len(chain))
	for i, l := range chain {
		out[i] = map[string]any{"rule": l.Rule, "from": l.From, "topic": l.Topic, "event": l.Event}
	}
	return out
}

// ChainFromContext decodes what ChainContext encoded, also after a JSON
// round trip through the store (numbers as float64). Anything else gives
// nil.
func ChainFromContext(v any) []mesh.Link {
	list, ok := v.([]any)
	if !ok || len(list) == 0 {
		return nil
	}
	out := make([]mesh.Link, 0, len(list))
	for _, item := range list {
		m, ok := item.(map[string]any)
		if !ok {
			return nil
		}
		l := mesh.Link{}
		l.Rule, _ = m["rule"].(string)
		l.From, _ = m["from"].(string)
		l.Topic, _ = m["topic"].(string)
		switch n := m["event"].(type) {
		case uint64:
			l.Event = n
		case float64:
			l.Event = uint64(n)
		case int:
			l.Event = uint64(n)
		case int64:
			l.Event = uint64(n)
		}
		if l.Rule == "" {
			return nil
		}
		out = append(out, l)
	}
	return out
}
