package dist

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"

	"github.com/nats-io/nats.go"

	"grace/engine/mesh"
)

// The trigger mesh on NATS: every topic maps to the subject
// grace.mesh.<topic>.
const subjectMesh = "grace.mesh."

// headerOrigin names the bridge that published a mesh event, so that it
// does not hear its own events back.
const headerOrigin = "Grace-Mesh-Origin"

// meshBridgeSub is the name of the bridge's mesh subscription.
const meshBridgeSub = "nats_bridge"

// MeshSubject returns the subject of a mesh topic: grace.mesh.<topic>.
func MeshSubject(topic string) string { return subjectMesh + topic }

// BridgeOptions configure a MeshBridge.
type BridgeOptions struct {
	// Origin identifies this bridge among all bridged meshes; required.
	Origin string
	// Buffer bounds the events waiting to go out (the bridge's mesh
	// subscription, drop-oldest; mesh.buffer when 0) and PendingLimit
	// those come in but not yet offered to the mesh (NATS drops past it;
	// 4096 when 0).
	Buffer       int
	PendingLimit int
	// Logger receives operational logs; discarded when nil.
	Logger *slog.Logger
}

// MeshBridge carries a trigger mesh's events over NATS, both ways. Out:
// a mesh subscription on every topic (">", drop-oldest) publishes each
// event on grace.mesh.<topic>; when NATS cannot keep up, that
// subscription's buffer fills and the mesh drops and counts as for any
// slow subscriber. In: events on grace.mesh.> from other bridges are
// offered to the mesh (never waiting), so its subscriptions' backpressure
// policies and drop counters apply to them exactly as to local events, and
// an event on a topic this mesh has not declared is refused and counted
// as unknown. Inbound messages past PendingLimit are dropped by NATS and
// counted in Stats.
type MeshBridge struct {
	m      *mesh.Mesh
	nc     *nats.Conn
	o      BridgeOptions
	out    *mesh.Subscription
	in     *nats.Subscription
	sent   atomic.Uint64
	recv   atomic.Uint64
	failed atomic.Uint64
}

// BridgeStats count what a bridge carried.
type BridgeStats struct {
	// Sent events went out; SendFailed could not be published.
	Sent, SendFailed uint64
	// Received events came in and were offered to the mesh;
	// DroppedInbound were dropped by NATS past the pending limit.
	Received, DroppedInbound uint64
}

// wireEvent is a mesh event on the wire.
type wireEvent struct {
	Source string            `json:"source"`
	Fields map[string]string `json:"fields,omitempty"`
	Chain  []mesh.Link       `json:"chain,omitempty"`
}

// BridgeMesh starts bridging m over nc. Close ends it.
func BridgeMesh(nc *nats.Conn, m *mesh.Mesh, o BridgeOptions) (*MeshBridge, error) {
	if o.Origin == "" {
		return nil, errors.New("bridge mesh: an origin is required")
	}
	if o.PendingLimit <= 0 {
		o.PendingLimit = 4096
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	b := &MeshBridge{m: m, nc: nc, o: o}
	in, err := nc.Subscribe(subjectMesh+">", b.receive)
	if err != nil {
		return nil, fmt.Errorf("bridge mesh: subscribe %s>: %w", subjectMesh, err)
	}
	if err := in.SetPendingLimits(o.PendingLimit, -1); err != nil {
		_ = in.Unsubscribe()
		return nil, fmt.Errorf("bridge mesh: pending limit %d: %w", o.PendingLimit, err)
	}
	if err := nc.Flush(); err != nil { // the server knows the interest before BridgeMesh returns
		_ = in.Unsubscribe()
		return nil, fmt.Errorf("bridge mesh: flush subscription: %w", err)
	}
	b.in = in
	out, err := m.Subscribe(mesh.Spec{Name: meshBridgeSub, Pattern: ">", Buffer: o.Buffer, Backpressure: mesh.DropOldest}, b.send)
	if err != nil {
		_ = in.Unsubscribe()
		return nil, fmt.Errorf("bridge mesh: %w", err)
	}
	b.out = out
	return b, nil
}

// send publishes a local event; events that came in from NATS are not
// sent back out.
func (b *MeshBridge) send(_ context.Context, ev mesh.Event) {
	if strings.HasPrefix(ev.Source, "nats:") {
		return
	}
	if err := PublishMeshEvent(b.nc, b.o.Origin, ev); err != nil {
		b.failed.Add(1)
		b.o.Logger.Warn("mesh event not bridged", "topic", ev.Topic, "err", err)
		return
	}
	b.sent.Add(1)
}

// PublishMeshEvent publishes ev on grace.mesh.<topic> as the bridge named
// origin does: every other bridge offers it to its mesh. It is how a
// process without a mesh of its own (a load generator, a chaos run's
// remote side) speaks on the bridged trigger mesh.
func PublishMeshEvent(nc *nats.Conn, origin string, ev mesh.Event) error {
	body, err := json.Marshal(wireEvent{Source: ev.Source, Fields: ev.Fields, Chain: ev.Chain})
	if err != nil {
		return fmt.Errorf("encode mesh event on %s: %w", ev.Topic, err)
	}
	msg := nats.NewMsg(MeshSubject(ev.Topic))
	msg.Header.Set(headerOrigin, origin)
	msg.Data = body
	return nc.PublishMsg(msg)
}

// receive offers an event from another bridge to the mesh.
func (b *MeshBridge) receive(msg *nats.Msg) {
	if msg.Header.Get(headerOrigin) == b.o.Origin {
		return
	}
	var w wireEvent
	if err := json.Unmarshal(msg.Data, &w); err != nil {
		b.o.Logger.Warn("undecodable mesh event", "subject", msg.Subject, "err", err)
		return
	}
	b.recv.Add(1)
	ev := mesh.Event{Topic: strings.TrimPrefix(msg.Subject, subjectMesh), Source: "nats:" + w.Source, Fields: w.Fields, Chain: w.Chain}
	if _, err := b.m.Offer(ev); err != nil {
		b.o.Logger.Debug("bridged mesh event refused", "topic", ev.Topic, "err", err)
	}
}

// Stats returns the bridge's counts.
func (b *MeshBridge) Stats() BridgeStats {
	dropped, _ := b.in.Dropped()
	return BridgeStats{Sent: b.sent.Load(), SendFailed: b.failed.Load(), Received: b.recv.Load(), DroppedInbound: uint64(max(dropped, 0))}
}

// Close stops both directions. Safe to call twice.
func (b *MeshBridge) Close() {
	_ = b.in.Unsubscribe()
	b.out.Close()
}
