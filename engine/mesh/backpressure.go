package mesh

import "fmt"

// Backpressure is what a subscription does with an event that arrives while
// its buffer is full.
type Backpressure string

// The backpressure policies.
const (
	// Block makes the publisher wait for room, up to the subscription's
	// block timeout; then the event is dropped. A publisher that cannot
	// wait (Offer) drops at once.
	Block Backpressure = "block"
	// DropOldest discards the oldest queued event to make room.
	DropOldest Backpressure = "drop_oldest"
	// DropNewest discards the arriving event.
	DropNewest Backpressure = "drop_newest"
)

// ParseBackpressure returns the policy named s.
func ParseBackpressure(s string) (Backpressure, error) {
	switch b := Backpressure(s); b {
	case Block, DropOldest, DropNewest:
		return b, nil
	}
	return "", fmt.Errorf("%q is not a backpressure policy (block, drop_oldest or drop_newest)", s)
}

// describe says in words what the policy does when the buffer is full.
func (b Backpressure) describe() string {
	switch b {
	case Block:
		return "the publisher waited up to the block timeout, then the event was dropped"
	case DropOldest:
		return "the oldest queued events were discarded to make room for new ones"
	case DropNewest:
		return "arriving events were discarded while the buffer was full"
	}
	return string(b)
}
