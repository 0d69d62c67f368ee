package mesh

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Catalog is a set of declared topic names. Policy rules are checked
// against one before the mesh runs; the Mesh keeps its own.
type Catalog struct {
	names []string // sorted
}

// NewCatalog validates every name (see ValidTopic) and returns the set;
// duplicates are kept once.
func NewCatalog(names ...string) (*Catalog, error) {
	c := &Catalog{}
	return c, c.Add(names...)
}

// Add declares more names; it fails, declaring none, if one is invalid.
func (c *Catalog) Add(names ...string) error {
	var errs []error
	for _, n := range names {
		if err := ValidTopic(n); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	for _, n := range names {
		if i, found := slices.BinarySearch(c.names, n); !found {
			c.names = slices.Insert(c.names, i, n)
		}
	}
	return nil
}

// Has reports whether topic is declared.
func (c *Catalog) Has(topic string) bool {
	_, found := slices.BinarySearch(c.names, topic)
	return found
}

// Names returns the declared topics, sorted.
func (c *Catalog) Names() []string { return slices.Clone(c.names) }

// Expand returns the declared topics that pattern selects, sorted. It
// fails when the pattern is malformed or selects no declared topic, naming
// the known topics.
func (c *Catalog) Expand(pattern string) ([]string, error) {
	p, err := ParsePattern(pattern)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, n := range c.names {
		if p.Match(n) {
			out = append(out, n)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%q matches no known topic (known: %s)", pattern, strings.Join(c.names, ", "))
	}
	return out, nil
}
