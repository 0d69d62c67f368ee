package chaos

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// yaml's unmarshal errors, one a line: the line, and what went wrong
// there. They name neither the key nor, past a few characters, the value.
var (
	yamlErrLine   = regexp.MustCompile(`^line (\d+): (.*)$`)
	yamlErrType   = regexp.MustCompile("^cannot unmarshal !!(\\w+) (?:`(.*)` )?into (.+)$")
	yamlErrField  = regexp.MustCompile(`^field (\S+) not found in type `)
	yamlErrDupKey = regexp.MustCompile(`^mapping key "(.*)" already defined at line (\d+)$`)
	yamlTypeWords = map[string]string{"float64": "a number", "string": "a string", "[]string": "a list", "time.Duration": "a duration (2s, 500ms)",
		"[]chaos.Fault": "a list of faults ([{kind: …}])", "chaos.Fault": "a fault ({kind: …, reason: …})",
		"chaos.Parameter": "a parameter ({base: …, growth: …, max: …})", "map[string]chaos.Parameter": "a mapping of parameters by name",
		"chaos.Expectation": "a mapping {expected: […], require: …}", "chaos.Scenario": "a scenario (a mapping of keys)"}
	yamlKindByName = map[string]yaml.Kind{"map": yaml.MappingNode, "seq": yaml.SequenceNode}
)

// yamlSpot is a node of a scenario file with the key path that leads to
// it (parameters.depth.base, faults[0].kind); key is set for a mapping key.
type yamlSpot struct {
	n    *yaml.Node
	path string
	key  bool
}

// yamlSpots lists every node of the document with its key path, parents
// before their children.
func yamlSpots(b []byte) []yamlSpot {
	var doc yaml.Node
	if yaml.Unmarshal(b, &doc) != nil || len(doc.Content) == 0 {
		return nil
	}
	var out []yamlSpot
	var walk func(n *yaml.Node, path string)
	walk = func(n *yaml.Node, path string) {
		out = append(out, yamlSpot{n: n, path: path})
		switch n.Kind {
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				k, v := n.Content[i], n.Content[i+1]
				p := k.Value
				if path != "" {
					p = path + "." + k.Value
				}
				out = append(out, yamlSpot{n: k, path: p, key: true})
				walk(v, p)
			}
		case yaml.SequenceNode:
			for i, c := range n.Content {
				walk(c, fmt.Sprintf("%s[%d]", path, i))
			}
		}
	}
	walk(doc.Content[0], "")
	return out
}

// typeErrorAt turns yaml's unmarshal errors into a FileError naming the
// key at fault (the first one's in Field, each further one's in the text)
// and the value in full, or returns nil when a line cannot be placed.
func typeErrorAt(file string, b []byte, te *yaml.TypeError) *FileError {
	spots := yamlSpots(b)
	var field string
	placed := false
	var parts []string
	for _, e := range te.Errors {
		m := yamlErrLine.FindStringSubmatch(e)
		if m == nil {
			return nil
		}
		line, _ := strconv.Atoi(m[1])
		path, text, ok := placeYAMLError(spots, line, m[2])
		if !ok {
			return nil
		}
		text = fmt.Sprintf("line %d: %s", line, text)
		if !placed {
			// The first error's key path is the field ("" for the
			// document itself: a list where the scenario's keys go).
			field, placed = path, true
		} else if path != "" {
			text = path + ": " + text
		}
		parts = append(parts, text)
	}
	if !placed {
		return nil
	}
	return &FileError{File: file, Field: field, Err: errors.New(strings.Join(parts, "; "))}
}

// placeYAMLError finds the key path of one yaml error at line and words it.
func placeYAMLError(spots []yamlSpot, line int, msg string) (path, text string, ok bool) {
	find := func(match func(s yamlSpot) bool) (yamlSpot, bool) {
		for _, s := range spots {
			if s.n.Line == line && match(s) {
				return s, true
			}
		}
		return yamlSpot{}, false
	}
	if m := yamlErrField.FindStringSubmatch(msg); m != nil {
		s, ok := find(func(s yamlSpot) bool { return s.key && s.n.Value == m[1] })
		return s.path, "unknown key " + strconv.Quote(m[1]), ok
	}
	if m := yamlErrDupKey.FindStringSubmatch(msg); m != nil {
		s, ok := find(func(s yamlSpot) bool { return s.key && s.n.Value == m[1] })
		return s.path, fmt.Sprintf("key %q is given twice (first at line %s)", m[1], m[2]), ok
	}
	m := yamlErrType.FindStringSubmatch(msg)
	if m == nil {
		return "", "", false
	}
	tag, shown, into := m[1], m[2], m[3]
	s, ok := find(func(s yamlSpot) bool {
		if s.key {
			return false
		}
		if k, isColl := yamlKindByName[tag]; isColl {
			return s.n.Kind == k
		}
		if s.n.Kind != yaml.ScalarNode || s.n.ShortTag() != "!!"+tag {
			return false
		}
		// yaml shortens a long value to its first characters and "...".
		if p, cut := strings.CutSuffix(shown, "..."); cut {
			return strings.HasPrefix(s.n.Value, p)
		}
		return s.n.Value == shown
	})
	if !ok {
		return "", "", false
	}
	want := yamlTypeWords[into]
	if want == "" {
		want = "a " + into
	}
	what := "a " + map[string]string{"map": "mapping", "seq": "list"}[tag]
	if s.n.Kind == yaml.ScalarNode {
		what = strconv.Quote(s.n.Value)
	}
	return s.path, fmt.Sprintf("%s is not %s", what, want), true
}
