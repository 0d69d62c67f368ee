package mesh

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"grace/engine/clarity"
	"grace/engine/clock"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// waitLimit bounds every wait; nothing sleeps to let things settle.
const waitLimit = 10 * time.Second

var epoch = time.Date(2025, 11, 15, 12, 0, 0, 0, time.UTC)

type testBundle struct {
	m     *Mesh
	clock *clock.Fake
	mu    sync.Mutex
	recs  []clarity.Record
	stop  func()
}

func setup(t *testing.T, edit ...func(*Config, *Options)) *testBundle {
	t.Helper()
	b := &testBundle{clock: clock.NewFake(epoch)}
	cfg := DefaultConfig()
	cfg.Buffer = 4
	cfg.Topics = []string{"storm.a", "storm.b", "intent.received", "intent.failed"}
	opts := Options{Clock: b.clock, Record: func(r clarity.Record) {
		b.mu.Lock()
		b.recs = append(b.recs, r)
		b.mu.Unlock()
	}}
	for _, f := range edit {
		f(&cfg, &opts)
	}
	m, err := New(cfg, opts)
	if err != nil {
		t.Fatal(err)
	}
	b.m = m
	return b
}

// run starts the mesh; the returned bundle's stop ends it and waits.
func (b *testBundle) run(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- b.m.Run(ctx) }()
	b.stop = func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
	t.Cleanup(func() {
		if b.stop != nil {
			b.stop()
			b.stop = nil
		}
	})
	b.waitFor(t, "the narrator's ticker", func() bool { return b.clock.Waiters() > 0 })
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

func (b *testBundle) waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitLimit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Microsecond)
	}
}

// stalled is a handler that holds its first event until released, so that
// a test can fill the buffer behind it deterministically.
type stalled struct {
	held    chan struct{}
	release chan struct{}
	once    sync.Once
	mu      sync.Mutex
	got     []uint64
}

func newStalled() *stalled {
	return &stalled{held: make(chan struct{}), release: make(chan struct{})}
}

func (s *stalled) handle(ctx context.Context, ev Event) {
	s.once.Do(func() {
		close(s.held)
		select {
		case <-s.release:
		case <-ctx.Done():
		}
	})
	s.mu.Lock()
	s.got = append(s.got, ev.ID)
	s.mu.Unlock()
}

func (s *stalled) ids() []uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]uint64(nil), s.got...)
}

func checkAccounting(t *testing.T, ss SubStats) {
	t.Helper()
	if ss.Offered != ss.Delivered+ss.Dropped+uint64(ss.Queued) {
		t.Fatalf("%s: offered %d != delivered %d + dropped %d + queued %d", ss.Name, ss.Offered, ss.Delivered, ss.Dropped, ss.Queued)
	}
}

func publishN(t *testing.T, m *Mesh, topic string, n int) []uint64 {
	t.Helper()
	ids := make([]uint64, n)
	for i := range n {
		ev, err := m.Publish(t.Context(), Event{Topic: topic, Source: "test"})
		if err != nil {
			t.Fatal(err)
		}
		ids[i] = ev.ID
	}
	return ids
}

func TestDropPoliciesCountEveryEventAndNarrateOneEpisode(t *testing.T) {
	for _, tc := range []struct {
		policy Backpressure
		// which of the 1+n published events reach the handler
		kept func(ids []uint64) []uint64
	}{
		{DropNewest, func(ids []uint64) []uint64 { return ids[:1+4] }},                                     // the held one, then the first 4 queued
		{DropOldest, func(ids []uint64) []uint64 { return append([]uint64{ids[0]}, ids[len(ids)-4:]...) }}, // the held one, then the newest 4
	} {
		t.Run(string(tc.policy), func(t *testing.T) {
			b := setup(t)
			h := newStalled()
			if _, err := b.m.Subscribe(Spec{Name: "slow", Pattern: "storm.*", Backpressure: tc.policy}, h.handle); err != nil {
				t.Fatal(err)
			}
			b.run(t)
			ids := publishN(t, b.m, "storm.a", 1)
			<-h.held
			ids = append(ids, publishN(t, b.m, "storm.b", 100)...)

			ss, _ := b.m.Subscription("slow")
			if ss.Offered != 101 || ss.Dropped != 96 || ss.Queued != 4 || ss.Delivered != 1 || ss.State != StateShedding {
				t.Fatalf("while stalled: %+v", ss)
			}
			checkAccounting(t, ss)
			close(h.release)
			b.waitFor(t, "the queue to drain", func() bool { ss, _ := b.m.Subscription("slow"); return ss.Queued == 0 })
			ss, _ = b.m.Subscription("slow")
			checkAccounting(t, ss)
			want := tc.kept(ids)
			b.waitFor(t, "the handler", func() bool { return len(h.ids()) == len(want) })
			for i, id := range h.ids() {
				if id != want[i] {
					t.Fatalf("delivered %v, want %v", h.ids(), want)
				}
			}

			// One record for the whole episode, once it has been quiet.
			if n := len(b.records(WhatSheddingEpisode)); n != 0 {
				t.Fatalf("%d episode records before the quiet period", n)
			}
			b.waitFor(t, "the episode record", func() bool { // Advance until a tick is taken: see below
				b.clock.Advance(time.Second)
				return len(b.records(WhatSheddingEpisode)) == 1
			})
			r := b.records(WhatSheddingEpisode)[0]
			if r.Context["dropped"] != uint64(96) || r.Context["offered"] != uint64(96) || r.Where != "subscription:slow" ||
				r.How != "backpressure_"+string(tc.policy) {
				t.Fatalf("episode record = %+v", r)
			}
			b.clock.Advance(time.Second)
			if st := b.m.Stats(); st.Episodes != 1 || st.Dropped != 96 || st.Backpressure != StateOK {
				t.Fatalf("stats after the episode = %+v", st)
			}
			// A new burst is a new episode.
			h2 := newStalled()
			if _, err := b.m.Subscribe(Spec{Name: "slow2", Pattern: "storm.a", Backpressure: tc.policy}, h2.handle); err != nil {
				t.Fatal(err)
			}
			publishN(t, b.m, "storm.a", 1)
			<-h2.held
			publishN(t, b.m, "storm.a", 10)
			close(h2.release)
			// Time goes on until the quiet period is seen: a tick the
			// narrating loop is too busy to take is dropped, as a real
			// ticker's is, so one Advance may not be enough.
			b.waitFor(t, "the second episode", func() bool {
				b.clock.Advance(time.Second)
				return len(b.records(WhatSheddingEpisode)) >= 2
			})
		})
	}
}

func TestBlockWaitsForRoomThenDropsAtTheDeadline(t *testing.T) {
	b := setup(t)
	h := newStalled()
	if _, err := b.m.Subscribe(Spec{Name: "careful", Pattern: "storm.a", Backpressure: Block, BlockTimeout: 100 * time.Millisecond}, h.handle); err != nil {
		t.Fatal(err)
	}
	b.run(t)
	publishN(t, b.m, "storm.a", 1)
	<-h.held
	publishN(t, b.m, "storm.a", 4) // fills the buffer

	// A non-waiting publisher drops at once.
	if _, err := b.m.Offer(Event{Topic: "storm.a"}); err != nil {
		t.Fatal(err)
	}
	if ss, _ := b.m.Subscription("careful"); ss.Dropped != 1 {
		t.Fatalf("Offer on a full block subscription: %+v", ss)
	}

	// A waiting publisher gives up at the deadline.
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, _ = b.m.Publish(context.Background(), Event{Topic: "storm.a"})
	}()
	b.waitFor(t, "the publisher to wait", func() bool { ss, _ := b.m.Subscription("careful"); return ss.Waiting == 1 })
	b.clock.Advance(100 * time.Millisecond)
	<-done
	if ss, _ := b.m.Subscription("careful"); ss.Dropped != 2 || ss.Waiting != 0 {
		t.Fatalf("after the deadline: %+v", ss)
	}

	// A waiting publisher gets in when the consumer makes room.
	go func() {
		defer close(h.release)
		b.waitFor(t, "the second publisher to wait", func() bool { ss, _ := b.m.Subscription("careful"); return ss.Waiting == 1 })
	}()
	if _, err := b.m.Publish(t.Context(), Event{Topic: "storm.a"}); err != nil {
		t.Fatal(err)
	}
	b.waitFor(t, "the queue to drain", func() bool { ss, _ := b.m.Subscription("careful"); return ss.Queued == 0 })
	ss, _ := b.m.Subscription("careful")
	checkAccounting(t, ss)
	if ss.Offered != 8 || ss.Delivered != 6 || ss.Dropped != 2 {
		t.Fatalf("final: %+v", ss)
	}
}

func TestWithoutBackpressureTheBufferGrowsWithoutLimit(t *testing.T) {
	// mesh_backpressure off: nothing is dropped, and the slow subscriber
	// makes the mesh hold every event (the failure the safeguard prevents).
	b := setup(t, func(_ *Config, o *Options) { o.Unbounded = true })
	h := newStalled()
	if _, err := b.m.Subscribe(Spec{Name: "slow", Pattern: "storm.a", Backpressure: DropNewest}, h.handle); err != nil {
		t.Fatal(err)
	}
	b.run(t)
	publishN(t, b.m, "storm.a", 1)
	<-h.held
	publishN(t, b.m, "storm.a", 5000)
	ss, _ := b.m.Subscription("slow")
	if ss.Dropped != 0 || ss.Queued != 5000 || ss.Bounded || ss.State != StateUnbounded {
		t.Fatalf("unbounded: %+v (buffer is %d)", ss, ss.Buffer)
	}
	checkAccounting(t, ss)
	b.clock.Advance(time.Second)
	if st := b.m.Stats(); st.Backpressure != StateUnbounded || st.Episodes != 0 {
		t.Fatalf("stats = %+v", st)
	}
	close(h.release)
}

func TestUnknownTopicsAndPatternsAreRefused(t *testing.T) {
	b := setup(t)
	if _, err := b.m.Publish(t.Context(), Event{Topic: "storm.c"}); !errors.Is(err, ErrUnknownTopic) {
		t.Fatalf("publish on an undeclared topic: %v", err)
	}
	if st := b.m.Stats(); st.UnknownTopic != 1 || st.Published != 0 {
		t.Fatalf("stats = %+v", st)
	}
	noop := func(context.Context, Event) {}
	for _, p := range []string{"nothing.here", "storm.>.x", "Storm.a", ""} {
		if _, err := b.m.Subscribe(Spec{Name: "s" + p, Pattern: p}, noop); err == nil {
			t.Errorf("pattern %q accepted", p)
		}
	}
	if _, err := b.m.Subscribe(Spec{Name: "dup", Pattern: "storm.a"}, noop); err != nil {
		t.Fatal(err)
	}
	if _, err := b.m.Subscribe(Spec{Name: "dup", Pattern: "storm.b"}, noop); !errors.Is(err, ErrDuplicateSubscription) {
		t.Fatalf("duplicate name: %v", err)
	}
	if err := b.m.Declare("bad topic"); err == nil {
		t.Fatal("invalid topic declared")
	}
}

func TestTopicsDeclaredLaterReachExistingSubscriptions(t *testing.T) {
	b := setup(t)
	got := make(chan Event, 1)
	if _, err := b.m.Subscribe(Spec{Name: "all-storms", Pattern: "storm.>"}, func(_ context.Context, ev Event) { got <- ev }); err != nil {
		t.Fatal(err)
	}
	if err := b.m.Declare("storm.c.deep"); err != nil {
		t.Fatal(err)
	}
	b.run(t)
	if _, err := b.m.Publish(t.Context(), Event{Topic: "storm.c.deep", Fields: map[string]string{"k": "v"}}); err != nil {
		t.Fatal(err)
	}
	if ev := <-got; ev.Topic != "storm.c.deep" || ev.Field("k") != "v" || ev.ID == 0 || !ev.At.Equal(epoch) {
		t.Fatalf("event = %+v", ev)
	}
}

func TestStatsRatesAndSubscriptionFloor(t *testing.T) {
	b := setup(t, func(_ *Config, o *Options) { o.MinSubscriptions = 5 })
	noop := func(context.Context, Event) {}
	for _, name := range []string{"a", "b", "c", "d"} {
		if _, err := b.m.Subscribe(Spec{Name: name, Pattern: "intent.*"}, noop); err != nil {
			t.Fatal(err)
		}
	}
	if st := b.m.Stats(); st.Subscriptions != 4 || st.SubscriptionsOK {
		t.Fatalf("4 subscriptions of a floor of 5: %+v", st)
	}
	s5, err := b.m.Subscribe(Spec{Name: "e", Pattern: "intent.failed"}, noop)
	if err != nil {
		t.Fatal(err)
	}
	if st := b.m.Stats(); !st.SubscriptionsOK {
		t.Fatal("5 subscriptions should meet the floor")
	}
	for range 30 {
		if _, err := b.m.Offer(Event{Topic: "intent.received"}); err != nil {
			t.Fatal(err)
		}
	}
	for _, ts := range b.m.Stats().Topics {
		switch ts.Name {
		case "intent.received":
			if ts.Published != 30 || ts.Rate != 3 || ts.Subscribers != 4 {
				t.Fatalf("intent.received = %+v", ts)
			}
		case "intent.failed":
			if ts.Subscribers != 5 {
				t.Fatalf("intent.failed = %+v", ts)
			}
		}
	}
	b.clock.Advance(11 * time.Second)
	if st := b.m.Stats(); st.EventRate != 0 {
		t.Fatalf("rate 11 s later = %v", st.EventRate)
	}
	s5.Close()
	if st := b.m.Stats(); st.Subscriptions != 4 {
		t.Fatalf("after close: %d subscriptions", st.Subscriptions)
	}
}

func TestCloseCountsQueuedEventsAsDroppedAndNarratesThem(t *testing.T) {
	b := setup(t)
	s, err := b.m.Subscribe(Spec{Name: "gone", Pattern: "storm.a"}, func(context.Context, Event) {})
	if err != nil {
		t.Fatal(err)
	}
	publishN(t, b.m, "storm.a", 3) // not running: they queue
	s.Close()
	s.Close()
	recs := b.records(WhatSheddingEpisode)
	if len(recs) != 1 || recs[0].Context["dropped"] != uint64(3) || recs[0].Context["reason"] != reasonUnsubscribed {
		t.Fatalf("records = %+v", recs)
	}
	if ss := s.stats(); ss.Offered != 3 || ss.Dropped != 3 || ss.Queued != 0 {
		t.Fatalf("closed stats = %+v", ss)
	}
	publishN(t, b.m, "storm.a", 1) // nobody hears it; not an error
}

func TestHandlerPanicIsCountedAndTheSubscriptionGoesOn(t *testing.T) {
	b := setup(t)
	got := make(chan uint64, 2)
	if _, err := b.m.Subscribe(Spec{Name: "fragile", Pattern: "storm.a"}, func(_ context.Context, ev Event) {
		if ev.Field("boom") != "" {
			panic("boom")
		}
		got <- ev.ID
	}); err != nil {
		t.Fatal(err)
	}
	b.run(t)
	_, _ = b.m.Publish(t.Context(), Event{Topic: "storm.a", Fields: map[string]string{"boom": "1"}})
	ev, _ := b.m.Publish(t.Context(), Event{Topic: "storm.a"})
	if id := <-got; id != ev.ID {
		t.Fatalf("got %d, want %d", id, ev.ID)
	}
	if ss, _ := b.m.Subscription("fragile"); ss.Panics != 1 || ss.Delivered != 2 {
		t.Fatalf("stats = %+v", ss)
	}
}

func TestShutdownNarratesOpenEpisodes(t *testing.T) {
	b := setup(t)
	h := newStalled()
	if _, err := b.m.Subscribe(Spec{Name: "slow", Pattern: "storm.a", Backpressure: DropNewest}, h.handle); err != nil {
		t.Fatal(err)
	}
	b.run(t)
	publishN(t, b.m, "storm.a", 1)
	<-h.held
	publishN(t, b.m, "storm.a", 10)
	b.stop()
	b.stop = nil
	recs := b.records(WhatSheddingEpisode)
	if len(recs) != 1 || recs[0].Context["dropped"] != uint64(6) || recs[0].Context["reason"] != reasonShutdown {
		t.Fatalf("records = %+v", recs)
	}
	if err := b.m.Run(t.Context()); err == nil {
		t.Fatal("a mesh ran twice")
	}
}

func TestPatterns(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		pattern, topic string
		want           bool
	}{
		{"intent.failed", "intent.failed", true},
		{"intent.failed", "intent.failed.x", false},
		{"intent.*", "intent.failed", true},
		{"intent.*", "intent", false},
		{"intent.*", "intent.a.b", false},
		{"intent.>", "intent.a.b", true},
		{"intent.>", "intent", false},
		{"*.failed", "kernel.failed", true},
		{">", "anything.at.all", true},
	} {
		p, err := ParsePattern(tc.pattern)
		if err != nil {
			t.Fatal(err)
		}
		if got := p.Match(tc.topic); got != tc.want {
			t.Errorf("%q matches %q = %v, want %v", tc.pattern, tc.topic, got, tc.want)
		}
	}
}

func TestConfigValidateNamesTheKey(t *testing.T) {
	t.Parallel()
	c := DefaultConfig()
	c.Buffer, c.Backpressure, c.Topics = 0, "sometimes", []string{"ok.topic", "Bad"}
	err := c.Validate("mesh")
	for _, want := range []string{"mesh.buffer (0)", "mesh.backpressure", "mesh.topics[1]"} {
		if err == nil || !contains(err.Error(), want) {
			t.Errorf("error %v does not name %s", err, want)
		}
	}
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }
