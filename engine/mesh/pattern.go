package mesh

import (
	"fmt"
	"strings"
)

// Pattern selects topics: segments separated by ".", where "*" matches
// exactly one segment and a final ">" matches one or more. A pattern
// without wildcards matches only the topic of the same name.
type Pattern struct {
	raw  string
	segs []string
}

// ParsePattern checks p and returns it as a Pattern. Every segment must be
// a topic segment (lower-case letters, digits, '_' or '-'), "*", or — last
// only — ">".
func ParsePattern(p string) (Pattern, error) {
	if p == "" {
		return Pattern{}, fmt.Errorf("topic pattern is empty")
	}
	segs := strings.Split(p, ".")
	for i, s := range segs {
		switch {
		case s == "*":
		case s == ">":
			if i != len(segs)-1 {
				return Pattern{}, fmt.Errorf("topic pattern %q: \">\" may only be the last segment", p)
			}
		default:
			if err := checkSegment(s); err != nil {
				return Pattern{}, fmt.Errorf("topic pattern %q: %w", p, err)
			}
		}
	}
	return Pattern{raw: p, segs: segs}, nil
}

// String returns the pattern as written.
func (p Pattern) String() string { return p.raw }

// Literal reports whether the pattern has no wildcard (it names one topic).
func (p Pattern) Literal() bool {
	for _, s := range p.segs {
		if s == "*" || s == ">" {
			return false
		}
	}
	return true
}

// Match reports whether topic is one the pattern selects.
func (p Pattern) Match(topic string) bool {
	ts := strings.Split(topic, ".")
	for i, s := range p.segs {
		if s == ">" {
			return len(ts) > i
		}
		if i >= len(ts) || (s != "*" && s != ts[i]) {
			return false
		}
	}
	return len(ts) == len(p.segs)
}

// ValidTopic checks that name can be declared: dot-separated segments of
// lower-case letters, digits, '_' or '-', with no wildcard.
func ValidTopic(name string) error {
	if name == "" {
		return fmt.Errorf("topic name is empty")
	}
	for _, s := range strings.Split(name, ".") {
		if err := checkSegment(s); err != nil {
			return fmt.Errorf("topic %q: %w", name, err)
		}
	}
	return nil
}

func checkSegment(s string) error {
	if s == "" {
		return fmt.Errorf("empty segment (two dots, or a dot at an end)")
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_' || r == '-') {
			return fmt.Errorf("segment %q: only lower-case letters, digits, '_' and '-' are allowed", s)
		}
	}
	return nil
}
