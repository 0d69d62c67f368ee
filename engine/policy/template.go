package policy

import (
	"fmt"
	"strconv"
	"strings"

	"grace/engine/mesh"
)

// template is a string with "{name}" placeholders, parsed once. A
// placeholder is replaced by the triggering event's field of that name;
// {topic}, {event} and {depth} are the event's topic, ID and causation
// depth unless the event has a field of that name. An absent field renders
// as "".
type template struct {
	parts []tplPart
}

type tplPart struct {
	lit  string
	name string // a placeholder when non-empty
}

// parseTemplate parses s; a "{" without its "}" or an empty "{}" is an
// error. "{{" is a literal "{".
func parseTemplate(s string) (template, error) {
	var t template
	var lit strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '{' && i+1 < len(s) && s[i+1] == '{':
			lit.WriteByte('{')
			i++
		case c == '{':
			end := strings.IndexByte(s[i:], '}')
			if end < 0 {
				return template{}, fmt.Errorf("template %q: \"{\" at %d is not closed", s, i)
			}
			name := s[i+1 : i+end]
			if name == "" || strings.ContainsAny(name, "{ ") {
				return template{}, fmt.Errorf("template %q: bad placeholder {%s}", s, name)
			}
			if lit.Len() > 0 {
				t.parts = append(t.parts, tplPart{lit: lit.String()})
				lit.Reset()
			}
			t.parts = append(t.parts, tplPart{name: name})
			i += end
		default:
			lit.WriteByte(c)
		}
	}
	if lit.Len() > 0 {
		t.parts = append(t.parts, tplPart{lit: lit.String()})
	}
	return t, nil
}

// static reports whether the template has no placeholder, and its text.
func (t template) static() (string, bool) {
	var b strings.Builder
	for _, p := range t.parts {
		if p.name != "" {
			return "", false
		}
		b.WriteString(p.lit)
	}
	return b.String(), true
}

// render fills the placeholders from ev.
func (t template) render(ev mesh.Event) string {
	if len(t.parts) == 1 && t.parts[0].name == "" {
		return t.parts[0].lit
	}
	var b strings.Builder
	for _, p := range t.parts {
		if p.name == "" {
			b.WriteString(p.lit)
			continue
		}
		if f, ok := ev.Fields[p.name]; ok {
			b.WriteString(f)
			continue
		}
		switch p.name {
		case "topic":
			b.WriteString(ev.Topic)
		case "event":
			b.WriteString(strconv.FormatUint(ev.ID, 10))
		case "depth":
			b.WriteString(strconv.Itoa(ev.Depth()))
		}
	}
	return b.String()
}
