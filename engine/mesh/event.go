package mesh

import (
	"fmt"
	"strings"
	"time"
)

// Event is one message on the mesh. Publish stamps ID and, when zero, At.
// Once published an event is shared by every subscription that receives
// it: neither the publisher nor a subscriber may change its Fields or
// Chain afterwards.
type Event struct {
	// ID is unique within one mesh, increasing in publication order.
	ID uint64 `json:"id"`
	// Topic is the declared topic the event was published on.
	Topic string `json:"topic"`
	// Source names the publisher ("engine", "policy.<rule>", a kernel).
	Source string `json:"source"`
	// At is when the event was published, on the mesh's clock.
	At time.Time `json:"at"`
	// Fields are the event's facts; rules match on them.
	Fields map[string]string `json:"fields,omitempty"`
	// Chain is the causation chain, oldest first: for an event that a
	// policy rule produced, the rules (and the events that fired them)
	// that led here. A root event has none.
	Chain []Link `json:"chain,omitempty"`
}

// Link is one step of a causation chain: Rule fired on event Event (of
// topic From) and produced an event on Topic.
type Link struct {
	Rule  string `json:"rule"`
	From  string `json:"from"`
	Topic string `json:"topic"`
	Event uint64 `json:"event"`
}

// Depth is the event's causation depth: 0 for a root event, n for an event
// n rules away from one.
func (e Event) Depth() int { return len(e.Chain) }

// Field returns the named field, or "" when the event has none.
func (e Event) Field(name string) string { return e.Fields[name] }

// String renders the link as "rule→topic (after event #n)".
func (l Link) String() string {
	return fmt.Sprintf("%s→%s (after event #%d)", l.Rule, l.Topic, l.Event)
}

// FormatChain renders a causation chain for a narrative, oldest first:
// "intent.failed ⇒ rule_a→topic_b ⇒ rule_b→topic_c", starting with the
// topic of the event that began it. An empty chain renders as "".
func FormatChain(chain []Link) string {
	parts := make([]string, 0, len(chain)+1)
	if len(chain) > 0 {
		parts = append(parts, chain[0].From)
	}
	for _, l := range chain {
		parts = append(parts, l.Rule+"→"+l.Topic)
	}
	return strings.Join(parts, " ⇒ ")
}
