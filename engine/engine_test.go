package engine

import (
	"context"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"grace/engine/clarity"
	"grace/engine/clock"
	"grace/engine/enginetest"
	"grace/engine/intent"
	"grace/engine/worker"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// waitLimit bounds every wait in these tests; nothing sleeps.
const waitLimit = 10 * time.Second

var epoch = time.Date(2025, 11, 15, 12, 34, 56, 0, time.UTC)

// testHandlers is a HandlerSource whose handlers tests set per type; the
// default is noop. It counts calls per intent ID.
type testHandlers struct {
	mu       sync.Mutex
	byType   map[string]worker.Handler
	timeouts map[string]time.Duration
	calls    map[string]int
}

func newTestHandlers() *testHandlers {
	return &testHandlers{byType: map[string]worker.Handler{}, timeouts: map[string]time.Duration{}, calls: map[string]int{}}
}

func (h *testHandlers) set(typ string, fn worker.HandlerFunc) {
	h.mu.Lock()
	h.byType[typ] = fn
	h.mu.Unlock()
}

func (h *testHandlers) For(typ string) (worker.Handler, time.Duration) {
	h.mu.Lock()
	inner, ok := h.byType[typ]
	timeout := h.timeouts[typ]
	h.mu.Unlock()
	if !ok {
		inner = worker.Noop{}
	}
	return worker.HandlerFunc(func(ctx context.Context, in intent.Intent) error {
		h.mu.Lock()
		h.calls[in.ID]++
		h.mu.Unlock()
		return inner.Handle(ctx, in)
	}), timeout
}

func (h *testHandlers) callsFor(id string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.calls[id]
}

// testBundle is what most tests need: an engine on the in-memory store, a
// fake clock and the engine's events.
type testBundle struct {
	e        *Engine
	store    *enginetest.Store
	clock    *clock.Fake
	handlers *testHandlers
	events   <-chan Event
	seen     []Event
}

func testConfig() Config {
	cfg := Default()
	cfg.DB = "test.db"
	w := &cfg.Workers
	w.Count, w.TaskTimeout, w.MaxAttempts, w.BackoffBase, w.BackoffMax = 2, time.Minute, 3, time.Second, 10*time.Second
	cfg.HTM.Capacity, cfg.HTM.WarnDepth, cfg.HTM.CriticalDepth = 100, 10, 50
	// Tests submit many intents at one fake instant; those of rate limiting
	// switch it back on.
	cfg.Safeguards[SafeguardRateLimit] = SafeguardConfig{Enabled: false}
	cfg.Approvals.Timeout = time.Hour
	cfg.Handlers = map[string]worker.HandlerConfig{"default": {Kind: worker.KindNoop}}
	return cfg
}

// setup builds an engine that is not started; edit adjusts the config.
func setup(t *testing.T, edit ...func(*Config)) *testBundle {
	t.Helper()
	return setupOn(t, enginetest.NewStore(64), clock.NewFake(epoch), edit...)
}

// setupOn builds an engine on an existing store and clock (a restart).
func setupOn(t *testing.T, st *enginetest.Store, clk *clock.Fake, edit ...func(*Config)) *testBundle {
	t.Helper()
	cfg := testConfig()
	for _, f := range edit {
		f(&cfg)
	}
	b := &testBundle{store: st, clock: clk, handlers: newTestHandlers()}
	t.Cleanup(func() { _ = st.Close() })
	e, err := New(cfg, Deps{Store: st, Clock: clk, Handlers: b.handlers, Rand: func() float64 { return 0 }})
	if err != nil {
		t.Fatal(err)
	}
	b.e = e
	t.Cleanup(e.Stop) // runs before the store closes
	b.events = e.Subscribe(t.Context())
	return b
}

func (b *testBundle) start(t *testing.T) {
	t.Helper()
	if err := b.e.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
}

func (b *testBundle) submit(t *testing.T, sub intent.Submission) intent.Intent {
	t.Helper()
	if sub.Actor == "" {
		sub.Actor = "grace_architect"
	}
	res, err := b.e.Submit(t.Context(), sub)
	if err != nil {
		t.Fatalf("submit %s: %v", sub.Type, err)
	}
	return res.Intent
}

// waitState waits until the engine announces the intent in state st.
func (b *testBundle) waitState(t *testing.T, id string, st intent.State) intent.Intent {
	t.Helper()
	return b.waitEvent(t, func(in intent.Intent) bool { return in.ID == id && in.State == st }, "intent "+id+" "+string(st))
}

func (b *testBundle) waitEvent(t *testing.T, match func(intent.Intent) bool, what string) intent.Intent {
	t.Helper()
	for _, ev := range b.seen {
		if match(ev.Intent) {
			return ev.Intent
		}
	}
	limit := time.After(waitLimit)
	for {
		select {
		case ev, ok := <-b.events:
			if !ok {
				t.Fatalf("event stream closed while waiting for %s", what)
			}
			b.seen = append(b.seen, ev)
			if match(ev.Intent) {
				return ev.Intent
			}
		case <-limit:
			t.Fatalf("no event for %s within %v", what, waitLimit)
		}
	}
}

// stored returns the intent as the store has it.
func (b *testBundle) stored(t *testing.T, id string) intent.Intent {
	t.Helper()
	in, err := b.store.Get(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return in
}

// whats lists the What of each record of an intent's story, in order.
func (b *testBundle) whats(id string) []string {
	var out []string
	for _, r := range b.store.RecordsFor(id) {
		out = append(out, r.What)
	}
	return out
}

func recordOf(t *testing.T, recs []clarity.Record, what string) clarity.Record {
	t.Helper()
	for _, r := range recs {
		if r.What == what {
			return r
		}
	}
	t.Fatalf("no %s record among %d", what, len(recs))
	return clarity.Record{}
}

// checkRecords asserts what every record must have.
func checkRecords(t *testing.T, recs []clarity.Record) {
	t.Helper()
	for _, r := range recs {
		if r.Who == "" || r.What == "" || r.Where == "" || len(r.Why) == 0 || r.How == "" || r.When.IsZero() || r.Result == "" {
			t.Errorf("record %s is missing a W: %+v", r.What, r)
		}
		if r.Transparency != clarity.TransparencyComplete || r.Confidence <= 0 || r.Confidence > 1 || r.Risk < 0 || r.Risk > 1 {
			t.Errorf("record %s has odd clarity fields: confidence %v risk %v transparency %q", r.What, r.Confidence, r.Risk, r.Transparency)
		}
		if _, err := json.Marshal(r); err != nil {
			t.Errorf("record %s does not encode: %v", r.What, err)
		}
	}
}
