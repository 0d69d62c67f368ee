package kernel

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"grace/engine/clarity"
	"grace/engine/clock"
	"grace/engine/mesh"
)

// Errors a bus publish is refused with.
var (
	// ErrACLDenied: the sender may not publish on the topic (bus_acl).
	ErrACLDenied = errors.New("bus ACL refuses the sender on this topic")
	// ErrSuspended: the sender is suspended from the bus after too many
	// violations.
	ErrSuspended = errors.New("sender is suspended from the bus")
	// ErrIsolated: a recovery playbook isolated the sender.
	ErrIsolated = errors.New("sender is isolated by a recovery playbook")
	// ErrUnknownSender: the sender is not a kernel (bus_acl).
	ErrUnknownSender = errors.New("sender is not a kernel")
)

// Bus is the Layer 1 message bus: kernels publish on the mesh through it,
// stamped with their name, within the ACL.
type Bus struct {
	mesh    *mesh.Mesh
	clock   clock.Clock
	record  func(clarity.Record)
	acl     bool
	limit   int
	window  time.Duration
	suspend time.Duration
	allowed map[string][]mesh.Pattern

	mu      sync.Mutex
	senders map[string]*sender

	published  atomic.Uint64
	refused    atomic.Uint64
	violations atomic.Uint64
}

// sender is a kernel's standing on the bus.
type sender struct {
	windowStart    time.Time
	inWindow       int
	violations     uint64
	suspendedUntil time.Time
	suspensions    uint64
	refusedDuring  uint64 // refused while suspended, this suspension
	isolated       bool
	lastTopic      string
}

func newBus(cfg Config, m *mesh.Mesh, kernels map[string]*kernel, acl bool, clk clock.Clock, record func(clarity.Record)) *Bus {
	b := &Bus{mesh: m, clock: clk, record: record, acl: acl, limit: cfg.ACLViolationLimit, window: cfg.ACLWindow,
		suspend: cfg.ACLSuspend, allowed: map[string][]mesh.Pattern{}, senders: map[string]*sender{}}
	for name, k := range kernels {
		b.senders[name] = &sender{}
		for _, p := range k.spec.Publishes {
			if pat, err := mesh.ParsePattern(p); err == nil {
				b.allowed[name] = append(b.allowed[name], pat)
			}
		}
	}
	return b
}

// ACL reports whether the bus_acl safeguard is on.
func (b *Bus) ACL() bool { return b.acl }

// Publish sends a message from a kernel on topic. With bus_acl on, a
// sender that is not a kernel, or a kernel publishing where
// kernels.list.<name>.publishes does not allow, is refused (ErrACLDenied):
// the violation is counted, the first of each kernels.acl_window narrated,
// and the sender suspended from the bus (ErrSuspended, heartbeats still
// pass) for kernels.acl_suspend once it reaches kernels.acl_violation_limit
// in a window. A sender isolated by a playbook may only heartbeat
// (ErrIsolated), whatever bus_acl says. Every kernel may publish on
// kernel.heartbeat.
func (b *Bus) Publish(ctx context.Context, from, topic string, fields map[string]string) error {
	if err := b.admit(from, topic); err != nil {
		b.refused.Add(1)
		return fmt.Errorf("bus: %s on %s: %w", from, topic, err)
	}
	if _, err := b.mesh.Publish(ctx, mesh.Event{Topic: topic, Source: from, Fields: fields}); err != nil {
		return fmt.Errorf("bus: %w", err)
	}
	b.published.Add(1)
	return nil
}

// heartbeat publishes a kernel's heartbeat; a refusal (isolation never
// refuses heartbeats) is only counted.
func (b *Bus) heartbeat(ctx context.Context, name string, inc int, seq uint64, mem float64) {
	_ = b.Publish(ctx, name, TopicHeartbeat, map[string]string{
		"kernel": name, "incarnation": strconv.Itoa(inc), "seq": strconv.FormatUint(seq, 10),
		"mem_mb": strconv.FormatFloat(mem, 'f', 0, 64),
	})
}

// admit decides on one message and narrates what must be.
func (b *Bus) admit(from, topic string) error {
	now := b.clock.Now()
	var recs []clarity.Record
	var events []map[string]string
	defer func() {
		for _, r := range recs {
			b.record(r)
		}
		for _, f := range events {
			_, _ = b.mesh.Offer(mesh.Event{Topic: TopicACL, Source: senderControlPlane, Fields: f})
		}
	}()
	b.mu.Lock()
	defer b.mu.Unlock()
	s := b.senders[from]
	if s == nil {
		if b.acl {
			return ErrUnknownSender
		}
		return nil
	}
	if s.isolated && topic != TopicHeartbeat {
		return ErrIsolated
	}
	if !b.acl || topic == TopicHeartbeat {
		return nil
	}
	if !s.suspendedUntil.IsZero() {
		if now.Before(s.suspendedUntil) {
			s.refusedDuring++
			return ErrSuspended
		}
		recs = append(recs, reinstatedRecord(now, from, s.refusedDuring, b.suspend))
		events = append(events, map[string]string{"sender": from, "event": "reinstated"})
		s.suspendedUntil, s.refusedDuring, s.inWindow, s.windowStart = time.Time{}, 0, 0, now
	}
	if b.permits(from, topic) {
		return nil
	}
	if now.Sub(s.windowStart) >= b.window {
		s.windowStart, s.inWindow = now, 0
	}
	s.inWindow++
	s.violations++
	s.lastTopic = topic
	b.violations.Add(1)
	if s.inWindow == 1 {
		recs = append(recs, violationRecord(now, from, topic, b.allowedNames(from), b.limit, b.window))
		events = append(events, map[string]string{"sender": from, "topic": topic, "event": "violation"})
	}
	if s.inWindow >= b.limit {
		s.suspendedUntil = now.Add(b.suspend)
		s.suspensions++
		recs = append(recs, suspendedRecord(now, from, topic, s.inWindow, b.limit, b.window, b.suspend))
		events = append(events, map[string]string{"sender": from, "topic": topic, "event": "suspended"})
	}
	return ErrACLDenied
}

func (b *Bus) permits(from, topic string) bool {
	for _, p := range b.allowed[from] {
		if p.Match(topic) {
			return true
		}
	}
	return false
}

func (b *Bus) allowedNames(from string) []string {
	out := []string{TopicHeartbeat}
	for _, p := range b.allowed[from] {
		out = append(out, p.String())
	}
	return out
}

// isolate sets or lifts a playbook's isolation of a kernel.
func (b *Bus) isolate(name string, on bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if s := b.senders[name]; s != nil {
		s.isolated = on
	}
}

// BusStats are the bus's live figures.
type BusStats struct {
	// ACL is the bus_acl safeguard.
	ACL        bool   `json:"acl"`
	Published  uint64 `json:"published"`
	Refused    uint64 `json:"refused"`
	Violations uint64 `json:"violations"`
	// Suspended and Isolated name the kernels cut off now.
	Suspended []string `json:"suspended"`
	Isolated  []string `json:"isolated"`
}

// Stats returns the live figures.
func (b *Bus) Stats() BusStats {
	now := b.clock.Now()
	st := BusStats{ACL: b.acl, Published: b.published.Load(), Refused: b.refused.Load(), Violations: b.violations.Load(),
		Suspended: []string{}, Isolated: []string{}}
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, name := range sortedNames(b.senders) {
		s := b.senders[name]
		if !s.suspendedUntil.IsZero() && now.Before(s.suspendedUntil) {
			st.Suspended = append(st.Suspended, name)
		}
		if s.isolated {
			st.Isolated = append(st.Isolated, name)
		}
	}
	return st
}

// senderFacts returns a kernel's violation count and whether it is
// suspended or isolated now.
func (b *Bus) senderFacts(name string, now time.Time) (violations uint64, suspended, isolated bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := b.senders[name]
	if s == nil {
		return 0, false, false
	}
	return s.violations, !s.suspendedUntil.IsZero() && now.Before(s.suspendedUntil), s.isolated
}
