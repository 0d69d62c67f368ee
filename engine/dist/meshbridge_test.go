package dist_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"grace/engine/dist"
	"grace/engine/mesh"
)

// runMesh makes a mesh with the topics and runs it until the test ends.
func runMesh(t *testing.T, topics ...string) *mesh.Mesh {
	t.Helper()
	cfg := mesh.DefaultConfig()
	cfg.Topics = topics
	m, err := mesh.New(cfg, mesh.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { _ = m.Run(ctx) })
	t.Cleanup(func() { cancel(); wg.Wait() })
	return m
}

func bridge(t *testing.T, url, origin string, m *mesh.Mesh) *dist.MeshBridge {
	t.Helper()
	b, err := dist.BridgeMesh(connect(t, url), m, dist.BridgeOptions{Origin: origin})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Close)
	return b
}

// Mesh topics travel as grace.mesh.<topic> between two bridged meshes:
// an event published on one reaches the other's subscribers once, marked
// as come over NATS, and never echoes back; a topic the receiver has not
// declared is refused and counted there.
func TestMeshEventsCrossTheBridge(t *testing.T) {
	srv := startServer(t)
	a := runMesh(t, "intent.completed", "ops.only_here")
	z := runMesh(t, "intent.completed")
	bridge(t, srv.ClientURL(), "a", a)
	bz := bridge(t, srv.ClientURL(), "z", z)
	var onA, onZ atomic.Int32
	var source atomic.Value
	if _, err := a.Subscribe(mesh.Spec{Name: "a_sub", Pattern: "intent.completed"}, func(context.Context, mesh.Event) { onA.Add(1) }); err != nil {
		t.Fatal(err)
	}
	if _, err := z.Subscribe(mesh.Spec{Name: "z_sub", Pattern: "intent.completed"}, func(_ context.Context, ev mesh.Event) {
		source.Store(ev.Source + " " + ev.Field("id"))
		onZ.Add(1)
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Publish(context.Background(), mesh.Event{Topic: "intent.completed", Source: "engine", Fields: map[string]string{"id": "int_1"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Publish(context.Background(), mesh.Event{Topic: "ops.only_here", Source: "engine"}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "the event on the other mesh", func() bool { return onZ.Load() == 1 })
	if got := source.Load(); got != "nats:engine int_1" {
		t.Errorf("received %v, want source nats:engine and id int_1", got)
	}
	waitFor(t, 5*time.Second, "the undeclared topic refused on z", func() bool { return z.Stats().UnknownTopic == 1 })
	if n := onA.Load(); n != 1 {
		t.Errorf("the publishing mesh's subscriber got %d events, want 1 (no echo)", n)
	}
	if st := bz.Stats(); st.Received != 2 || st.Sent != 0 {
		t.Errorf("z bridge stats %+v, want 2 received, none sent (bridged events are not sent on)", st)
	}
}

// Events that come over the bridge meet the receiving subscription's
// backpressure: a full drop-newest buffer drops them, and the mesh counts
// every one (offered = delivered + dropped + queued).
func TestBridgedEventsKeepBackpressure(t *testing.T) {
	srv := startServer(t)
	a := runMesh(t, "intent.failed")
	z := runMesh(t, "intent.failed")
	bridge(t, srv.ClientURL(), "a", a)
	bridge(t, srv.ClientURL(), "z", z)
	release := make(chan struct{})
	if _, err := z.Subscribe(mesh.Spec{Name: "slow", Pattern: "intent.failed", Buffer: 2, Backpressure: mesh.DropNewest},
		func(ctx context.Context, _ mesh.Event) {
			select {
			case <-release:
			case <-ctx.Done():
			}
		}); err != nil {
		t.Fatal(err)
	}
	const n = 20
	for range n {
		if _, err := a.Publish(context.Background(), mesh.Event{Topic: "intent.failed", Source: "engine"}); err != nil {
			t.Fatal(err)
		}
	}
	var slow mesh.SubStats
	waitFor(t, 5*time.Second, "every bridged event offered to the slow subscription", func() bool {
		for _, s := range z.Stats().PerSubscription {
			if s.Name == "slow" {
				slow = s
			}
		}
		return slow.Offered == n
	})
	close(release)
	if slow.Dropped == 0 || slow.Offered != slow.Delivered+slow.Dropped+uint64(slow.Queued) {
		t.Errorf("slow subscription %+v: want drops, and offered = delivered + dropped + queued", slow)
	}
}
