package engine

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"grace/engine/mesh"
)

// MeshFlood shapes a mesh flood (the seed's L2_trigger_mesh_storm: 5,000
// events per second).
type MeshFlood struct {
	// Topic is any declared topic; default chaos.flood.
	Topic string `json:"topic"`
	// Events is how many events to publish (at least 1).
	Events int `json:"events"`
	// PerSecond paces the flood on the engine's clock, in 10 ms batches;
	// 0 publishes as fast as the mesh takes them.
	PerSecond float64 `json:"per_second"`
	// StallSubscriber adds, for the flood, a subscription on Topic whose
	// handler is stuck until the last event is published: its buffer
	// (mesh.buffer) fills and its backpressure policy (Backpressure,
	// default mesh.backpressure) decides the rest. It is drained and
	// closed before FloodMesh returns.
	StallSubscriber bool   `json:"stall_subscriber"`
	Backpressure    string `json:"backpressure,omitempty"`
	// Reason is recorded with the injection.
	Reason string `json:"reason,omitempty"`
}

// FloodSubscription is what one subscription of the flooded topic did
// with the flood: Offered = Delivered + Dropped + Queued, counted from
// just before the flood to its end.
type FloodSubscription struct {
	Name      string `json:"name"`
	Offered   uint64 `json:"offered"`
	Delivered uint64 `json:"delivered"`
	Dropped   uint64 `json:"dropped"`
	Queued    int    `json:"queued"`
}

// MeshFloodReport is what became of a mesh flood.
type MeshFloodReport struct {
	Topic     string `json:"topic"`
	Published int    `json:"published"`
	// Dropped sums the subscriptions' drops during the flood.
	Dropped       uint64              `json:"dropped"`
	Subscriptions []FloodSubscription `json:"subscriptions"`
	// Bounded is the mesh_backpressure safeguard.
	Bounded  bool          `json:"bounded"`
	Duration time.Duration `json:"duration"`
}

// floodStalls numbers the floods' stalled subscriptions.
var floodStalls atomic.Uint64

// FloodMesh publishes spec.Events events on spec.Topic (see LayerFaults
// and MeshFlood). It stops early, with what was done so far and ctx's
// error, when ctx ends.
func (e *Engine) FloodMesh(ctx context.Context, spec MeshFlood) (MeshFloodReport, error) {
	spec.Topic = orDefault(strings.TrimSpace(spec.Topic), TopicChaosFlood)
	m := e.layers.mesh
	rep := MeshFloodReport{Topic: spec.Topic, Bounded: m.Bounded()}
	switch {
	case !e.ready.Load() || !e.layers.running.Load():
		return rep, fmt.Errorf("flood mesh: %w", ErrStopped)
	case spec.Events < 1:
		return rep, fmt.Errorf("flood mesh: events (%d) must be at least 1", spec.Events)
	case spec.PerSecond < 0:
		return rep, fmt.Errorf("flood mesh: per_second (%v) must not be negative", spec.PerSecond)
	case !m.Catalog().Has(spec.Topic):
		return rep, fmt.Errorf("flood mesh: %w: %q", mesh.ErrUnknownTopic, spec.Topic)
	}
	var stall *floodStall
	if spec.StallSubscriber {
		var err error
		if stall, err = e.stallSubscriber(spec); err != nil {
			return rep, fmt.Errorf("flood mesh: %w", err)
		}
	}
	reason := orDefault(strings.TrimSpace(spec.Reason), "fault injection")
	effect := fmt.Sprintf("%d events on %s", spec.Events, spec.Topic)
	if spec.PerSecond > 0 {
		effect += fmt.Sprintf(" at %g/s", spec.PerSecond)
	}
	if stall != nil {
		effect += ", with a stalled subscriber (" + stall.sub.Name() + ")"
	}
	if err := e.recordFault(ctx, "mesh:"+spec.Topic, "flood_mesh", reason, effect,
		"events", spec.Events, "per_second", spec.PerSecond, "stall_subscriber", spec.StallSubscriber); err != nil {
		if stall != nil {
			stall.finish()
		}
		return rep, fmt.Errorf("flood mesh: %w", err)
	}
	before := floodCounts(m, spec.Topic)
	start := e.clock.Now()
	err := e.publishFlood(ctx, m, spec, &rep)
	if stall != nil {
		stall.release()
		if werr := stall.drain(ctx); werr != nil && err == nil {
			err = werr
		}
	}
	rep.Duration = e.clock.Now().Sub(start)
	for _, after := range floodCounts(m, spec.Topic) {
		b := before[after.Name]
		fs := FloodSubscription{Name: after.Name, Offered: after.Offered - b.Offered, Delivered: after.Delivered - b.Delivered,
			Dropped: after.Dropped - b.Dropped, Queued: after.Queued}
		rep.Dropped += fs.Dropped
		rep.Subscriptions = append(rep.Subscriptions, fs)
	}
	if stall != nil {
		stall.finish()
	}
	if err != nil {
		return rep, fmt.Errorf("flood mesh: %w", err)
	}
	return rep, nil
}

// publishFlood publishes the events, paced when spec.PerSecond is set.
func (e *Engine) publishFlood(ctx context.Context, m *mesh.Mesh, spec MeshFlood, rep *MeshFloodReport) error {
	const batchEvery = 10 * time.Millisecond
	send := func(n int) error {
		for range n {
			if _, err := m.Publish(ctx, mesh.Event{Topic: spec.Topic, Source: actorFaults,
				Fields: map[string]string{"seq": fmt.Sprint(rep.Published + 1)}}); err != nil {
				return err
			}
			rep.Published++
		}
		return ctx.Err()
	}
	if spec.PerSecond == 0 {
		return send(spec.Events)
	}
	t := e.clock.NewTicker(batchEvery)
	defer t.Stop()
	perBatch, carry := spec.PerSecond*batchEvery.Seconds(), 0.0
	for rep.Published < spec.Events {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C():
		}
		carry += perBatch
		n := min(int(carry), spec.Events-rep.Published)
		carry -= float64(n)
		if err := send(n); err != nil {
			return err
		}
	}
	return nil
}

// floodCounts reads the figures of the subscriptions that hear topic.
func floodCounts(m *mesh.Mesh, topic string) map[string]mesh.SubStats {
	out := map[string]mesh.SubStats{}
	for _, ss := range m.Stats().PerSubscription {
		if p, err := mesh.ParsePattern(ss.Pattern); err == nil && p.Match(topic) {
			out[ss.Name] = ss
		}
	}
	return out
}

// floodStall is a flood's stalled subscriber.
type floodStall struct {
	sub      *mesh.Subscription
	m        *mesh.Mesh
	released chan struct{}
	progress chan struct{}
}

func (e *Engine) stallSubscriber(spec MeshFlood) (*floodStall, error) {
	s := &floodStall{m: e.layers.mesh, released: make(chan struct{}), progress: make(chan struct{}, 1)}
	name := fmt.Sprintf("chaos.stall.%d", floodStalls.Add(1))
	sub, err := s.m.Subscribe(mesh.Spec{Name: name, Pattern: spec.Topic, Backpressure: mesh.Backpressure(spec.Backpressure)},
		func(ctx context.Context, _ mesh.Event) {
			select {
			case <-s.released:
			case <-ctx.Done():
			}
			select {
			case s.progress <- struct{}{}:
			default:
			}
		})
	if err != nil {
		return nil, err
	}
	s.sub = sub
	return s, nil
}

func (s *floodStall) release() { close(s.released) }

// drain waits until the stalled subscription has handled what it queued.
func (s *floodStall) drain(ctx context.Context) error {
	for {
		if ss, ok := s.m.Subscription(s.sub.Name()); !ok || ss.Queued == 0 {
			return nil
		}
		select {
		case <-s.progress:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// finish closes the stalled subscription.
func (s *floodStall) finish() {
	select {
	case <-s.released:
	default:
		close(s.released)
	}
	s.sub.Close()
}
