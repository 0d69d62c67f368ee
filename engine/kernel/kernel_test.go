package kernel

import (
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"grace/engine/clarity"
	"grace/engine/clock"
	"grace/engine/intent"
	"grace/engine/mesh"
	"grace/scenarios"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const waitLimit = 10 * time.Second

var epoch = time.Date(2025, 11, 15, 12, 0, 0, 0, time.UTC)

// testKernels: two critical kernels (db, core; core needs db), a worker
// that needs db, a rogue allowed only kernel.state, and an operator kernel
// allowed kernel.control.
func testKernels() map[string]Spec {
	return map[string]Spec{
		"db":       {Critical: true, Publishes: []string{TopicState}},
		"core":     {Critical: true, Publishes: []string{TopicState}, DependsOn: []string{"db"}},
		"worker":   {Publishes: []string{TopicState}, DependsOn: []string{"db"}},
		"rogue":    {Publishes: []string{TopicState}},
		"operator": {Publishes: []string{TopicState, TopicControl}},
	}
}

func testConfig() Config {
	c := DefaultConfig()
	c.Kernels = testKernels()
	c.ACLViolationLimit = 3
	return c
}

type testBundle struct {
	cp     *ControlPlane
	mesh   *mesh.Mesh
	clock  *clock.Fake
	mu     sync.Mutex
	recs   []clarity.Record
	subs   []intent.Submission
	events map[string][]mesh.Event
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

func setup(t *testing.T, edit ...func(*Config, *Options)) *testBundle {
	t.Helper()
	b := &testBundle{clock: clock.NewFake(epoch), events: map[string][]mesh.Event{}}
	record := func(r clarity.Record) {
		b.mu.Lock()
		b.recs = append(b.recs, r)
		b.mu.Unlock()
	}
	m, err := mesh.New(mesh.DefaultConfig(), mesh.Options{Clock: b.clock, Record: record})
	if err != nil {
		t.Fatal(err)
	}
	cfg := testConfig()
	opts := Options{Clock: b.clock, Record: record, Playbooks: builtin(t), Submit: func(_ context.Context, sub intent.Submission) (string, error) {
		b.mu.Lock()
		defer b.mu.Unlock()
		b.subs = append(b.subs, sub)
		return fmt.Sprintf("int_%d", len(b.subs)), nil
	}}
	for _, f := range edit {
		f(&cfg, &opts)
	}
	cp, err := New(cfg, m, opts)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Subscribe(mesh.Spec{Name: "test", Pattern: "kernel.>"}, func(_ context.Context, ev mesh.Event) {
		if ev.Topic == TopicHeartbeat {
			return
		}
		b.mu.Lock()
		b.events[ev.Topic] = append(b.events[ev.Topic], ev)
		b.mu.Unlock()
	}); err != nil {
		t.Fatal(err)
	}
	b.cp, b.mesh = cp, m
	ctx, cancel := context.WithCancel(context.Background())
	b.cancel = cancel
	b.wg.Go(func() { _ = m.Run(ctx) })
	b.wg.Go(func() { _ = cp.Run(ctx) })
	t.Cleanup(b.stop)
	b.waitFor(t, "every kernel's first heartbeat", func() bool {
		for _, k := range cp.Kernels() {
			if k.Heartbeats == 0 {
				return false
			}
		}
		return true
	})
	return b
}

func builtin(t *testing.T) fs.FS {
	t.Helper()
	sub, err := fs.Sub(scenarios.Playbooks, "playbooks")
	if err != nil {
		t.Fatal(err)
	}
	return sub
}

func (b *testBundle) stop() {
	b.cancel()
	b.wg.Wait()
}

func (b *testBundle) waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitLimit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s; kernels: %+v", what, b.cp.Kernels())
		}
		time.Sleep(50 * time.Microsecond)
	}
}

func (b *testBundle) records(what string) []clarity.Record {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []clarity.Record
	for _, r := range b.recs {
		if r.What == what {
			out = append(out, r)
		}
	}
	return out
}

func (b *testBundle) submissions() []intent.Submission {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]intent.Submission(nil), b.subs...)
}

func (b *testBundle) eventsOf(topic string) []mesh.Event {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]mesh.Event(nil), b.events[topic]...)
}

func (b *testBundle) info(t *testing.T, name string) KernelInfo {
	t.Helper()
	k, ok := b.cp.Kernel(name)
	if !ok {
		t.Fatalf("no kernel %s", name)
	}
	return k
}

// step moves the clock one heartbeat interval: every kernel that is
// running (and not in silent) heartbeats and the monitor checks once.
func (b *testBundle) step(t *testing.T, silent ...string) {
	t.Helper()
	before := map[string]uint64{}
	for _, k := range b.cp.Kernels() {
		before[k.Name] = k.Heartbeats
	}
	checks := b.cp.checks.Load()
	b.clock.Advance(b.cp.cfg.HeartbeatInterval)
	b.waitFor(t, "the heartbeat check", func() bool { return b.cp.checks.Load() > checks })
	skip := map[string]bool{}
	for _, s := range silent {
		skip[s] = true
	}
	b.waitFor(t, fmt.Sprintf("the heartbeats (before %v)", before), func() bool {
		for _, k := range b.cp.Kernels() {
			if k.State == StateRunning && !skip[k.Name] && k.Heartbeats <= before[k.Name] {
				return false
			}
		}
		return true
	})
}

// recoveryIntent turns the trigger's submission into the intent a worker
// would run.
func recoveryIntent(t *testing.T, sub intent.Submission, id string) intent.Intent {
	t.Helper()
	return intent.Intent{ID: id, Type: sub.Type, Actor: sub.Actor, Payload: sub.Payload, Priority: sub.Priority, Tier: 4}
}

func payloadOf(t *testing.T, sub intent.Submission) RecoveryPayload {
	t.Helper()
	var p RecoveryPayload
	if err := json.Unmarshal(sub.Payload, &p); err != nil {
		t.Fatal(err)
	}
	return p
}

// advanceUntil moves the clock a second at a time until cond holds (for
// waits whose timer a test cannot see being set).
func (b *testBundle) advanceUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitLimit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		b.clock.Advance(time.Second)
		time.Sleep(200 * time.Microsecond)
	}
}

// waitHung waits until a hung kernel's goroutine has left its loop.
func (b *testBundle) waitHung(t *testing.T, name string) {
	t.Helper()
	b.waitFor(t, name+" to hang", func() bool {
		b.cp.mu.Lock()
		defer b.cp.mu.Unlock()
		return !b.cp.kernels[name].looping.Load()
	})
}
