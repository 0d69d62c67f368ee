package mesh

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"

	"grace/engine/clarity"
	"grace/engine/clock"
)

// TopicShedding is declared by every mesh: a shedding episode is announced
// on it when it is narrated.
const TopicShedding = "mesh.shedding"

// Errors callers branch on.
var (
	// ErrUnknownTopic: a publish on a topic that was never declared.
	ErrUnknownTopic = errors.New("topic is not declared")
	// ErrDuplicateSubscription: a subscription name already in use.
	ErrDuplicateSubscription = errors.New("subscription name is taken")
)

// Options are the mesh's collaborators. Zero fields get defaults.
type Options struct {
	// Clock stamps events and times episodes and block timeouts;
	// clock.Real{} when nil.
	Clock clock.Clock
	// Record writes a 5W1H record (the engine's journal); records are
	// discarded when nil.
	Record func(clarity.Record)
	// Logger receives operational logs; discarded when nil.
	Logger *slog.Logger
	// Unbounded switches the mesh_backpressure safeguard off: buffers grow
	// without limit and nothing is ever dropped.
	Unbounded bool
	// MinSubscriptions is the seed's health floor (5) that
	// Stats.SubscriptionsOK reports against.
	MinSubscriptions int
}

// Mesh is the trigger mesh. Create it with New, declare topics, subscribe,
// then Run it. Publish, Offer, Subscribe and Stats are safe for concurrent
// use.
type Mesh struct {
	cfg     Config
	policy  Backpressure
	clock   clock.Clock
	record  func(clarity.Record)
	log     *slog.Logger
	bounded bool
	minSubs int

	nextID   atomic.Uint64
	topics   atomic.Pointer[map[string]*topic] // replaced whole on change
	unknown  atomic.Uint64
	episodes atomic.Uint64

	mu      sync.Mutex // guards what follows and serialises topic changes
	catalog *Catalog
	subs    []*Subscription
	runCtx  context.Context
	running bool
	ran     bool
	wg      sync.WaitGroup
}

// topic is one declared topic: its counters and the subscriptions it
// feeds (replaced whole on change, so that publishing takes no lock).
type topic struct {
	name      string
	published atomic.Uint64
	meter     Meter
	subs      atomic.Pointer[[]*Subscription]
}

// New checks cfg and returns a mesh with TopicShedding declared.
func New(cfg Config, opts Options) (*Mesh, error) {
	if err := cfg.Validate("mesh"); err != nil {
		return nil, err
	}
	policy, _ := ParseBackpressure(cfg.Backpressure)
	if opts.Clock == nil {
		opts.Clock = clock.Real{}
	}
	if opts.Record == nil {
		opts.Record = func(clarity.Record) {}
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	m := &Mesh{cfg: cfg, policy: policy, clock: opts.Clock, record: opts.Record, log: opts.Logger,
		bounded: !opts.Unbounded, minSubs: opts.MinSubscriptions, catalog: &Catalog{}}
	m.topics.Store(&map[string]*topic{})
	if err := m.Declare(TopicShedding); err != nil {
		return nil, err
	}
	if err := m.Declare(cfg.Topics...); err != nil {
		return nil, fmt.Errorf("mesh.topics: %w", err)
	}
	return m, nil
}

// Declare adds topics; declaring a known topic again does nothing. It
// fails, declaring none, when a name is invalid.
func (m *Mesh) Declare(names ...string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.catalog.Add(names...); err != nil {
		return err
	}
	old := *m.topics.Load()
	next := make(map[string]*topic, len(old)+len(names))
	for k, v := range old {
		next[k] = v
	}
	for _, n := range names {
		if _, ok := next[n]; ok {
			continue
		}
		t := &topic{name: n}
		var subs []*Subscription
		for _, s := range m.subs {
			if s.pattern.Match(n) {
				subs = append(subs, s)
			}
		}
		t.subs.Store(&subs)
		next[n] = t
	}
	m.topics.Store(&next)
	return nil
}

// Catalog returns a copy of the declared topics.
func (m *Mesh) Catalog() *Catalog {
	m.mu.Lock()
	defer m.mu.Unlock()
	return &Catalog{names: m.catalog.Names()}
}

// Bounded reports whether the mesh_backpressure safeguard is on.
func (m *Mesh) Bounded() bool { return m.bounded }

// Subscribe adds a subscription whose handler receives the events of every
// declared topic that spec.Pattern selects (topics declared later
// included). The handler runs on a goroutine of its own while the mesh
// runs; events published before Run are queued for it.
func (m *Mesh) Subscribe(spec Spec, h Handler) (*Subscription, error) {
	if spec.Name == "" {
		return nil, errors.New("subscribe: a subscription needs a name")
	}
	if h == nil {
		return nil, fmt.Errorf("subscribe %s: a subscription needs a handler", spec.Name)
	}
	p, err := ParsePattern(spec.Pattern)
	if err != nil {
		return nil, fmt.Errorf("subscribe %s: %w", spec.Name, err)
	}
	if spec.Buffer == 0 {
		spec.Buffer = m.cfg.Buffer
	}
	if spec.Buffer < 0 {
		return nil, fmt.Errorf("subscribe %s: buffer %d must be positive", spec.Name, spec.Buffer)
	}
	if spec.Backpressure == "" {
		spec.Backpressure = m.policy
	}
	if _, err := ParseBackpressure(string(spec.Backpressure)); err != nil {
		return nil, fmt.Errorf("subscribe %s: %w", spec.Name, err)
	}
	if spec.BlockTimeout == 0 {
		spec.BlockTimeout = m.cfg.BlockTimeout
	}
	s := &Subscription{
		m: m, name: spec.Name, pattern: p, policy: spec.Backpressure, buffer: spec.Buffer,
		blockTimeout: spec.BlockTimeout, handler: h,
		notify: make(chan struct{}, 1), space: make(chan struct{}, 1), stop: make(chan struct{}),
	}
	if m.bounded {
		s.capacity = spec.Buffer
	}
	s.q = newRing(min(spec.Buffer, 1024))

	m.mu.Lock()
	defer m.mu.Unlock()
	if slices.ContainsFunc(m.subs, func(o *Subscription) bool { return o.name == spec.Name }) {
		return nil, fmt.Errorf("subscribe %s: %w", spec.Name, ErrDuplicateSubscription)
	}
	if _, err := m.catalog.Expand(spec.Pattern); err != nil {
		return nil, fmt.Errorf("subscribe %s: %w", spec.Name, err)
	}
	m.subs = append(m.subs, s)
	for name, t := range *m.topics.Load() {
		if p.Match(name) {
			subs := append(slices.Clone(*t.subs.Load()), s)
			t.subs.Store(&subs)
		}
	}
	if m.running {
		m.startConsumerLocked(s)
	}
	return s, nil
}

// unsubscribe removes s from every topic and from the mesh.
func (m *Mesh) unsubscribe(s *Subscription) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.subs = slices.DeleteFunc(m.subs, func(o *Subscription) bool { return o == s })
	for _, t := range *m.topics.Load() {
		cur := *t.subs.Load()
		if slices.Contains(cur, s) {
			next := slices.DeleteFunc(slices.Clone(cur), func(o *Subscription) bool { return o == s })
			t.subs.Store(&next)
		}
	}
}

func (m *Mesh) startConsumerLocked(s *Subscription) {
	ctx := m.runCtx
	m.wg.Go(func() { s.consume(ctx) })
}

// subscriptions returns the live subscriptions.
func (m *Mesh) subscriptions() []*Subscription {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.subs)
}

// Publish stamps ev with an ID and the time and offers it to every
// subscription of its topic. For a full "block" subscription it waits for
// room up to that subscription's block timeout (or until ctx ends), then
// drops the event there. It fails with ErrUnknownTopic for a topic that
// was never declared. It returns the event as published.
func (m *Mesh) Publish(ctx context.Context, ev Event) (Event, error) {
	return m.publish(ctx, ev, true)
}

// Offer is Publish for publishers that must never wait (the store's
// writer): a full "block" subscription drops the event at once.
func (m *Mesh) Offer(ev Event) (Event, error) {
	return m.publish(context.Background(), ev, false)
}

func (m *Mesh) publish(ctx context.Context, ev Event, canWait bool) (Event, error) {
	t := (*m.topics.Load())[ev.Topic]
	if t == nil {
		m.unknown.Add(1)
		return ev, fmt.Errorf("publish on %q: %w", ev.Topic, ErrUnknownTopic)
	}
	ev.ID = m.nextID.Add(1)
	ev.At = m.clock.Now()
	t.published.Add(1)
	t.meter.Add(ev.At)
	for _, s := range *t.subs.Load() {
		s.offer(ctx, ev, canWait)
	}
	return ev, nil
}

// Run starts a consumer per subscription and the episode narrator, and
// blocks until ctx is cancelled. It then waits for them, narrates the
// episodes still open, and returns. A mesh runs once; a second Run fails.
func (m *Mesh) Run(ctx context.Context) error {
	m.mu.Lock()
	if m.ran {
		m.mu.Unlock()
		return errors.New("run mesh: already ran")
	}
	m.ran, m.running, m.runCtx = true, true, ctx
	for _, s := range m.subs {
		m.startConsumerLocked(s)
	}
	m.mu.Unlock()

	m.narrateLoop(ctx)

	m.mu.Lock()
	m.running = false
	m.mu.Unlock()
	m.wg.Wait()
	m.flushEpisodes()
	return nil
}
