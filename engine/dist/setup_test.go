package dist_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"grace/engine"
	"grace/engine/dist"
	"grace/engine/enginetest"
	"grace/engine/intent"
	"grace/engine/worker"
)

// testBundle is one control plane on an embedded nats-server.
type testBundle struct {
	srv   *dist.Server
	url   string
	nc    *nats.Conn
	disp  *dist.Dispatcher
	eng   *engine.Engine
	store *enginetest.Store
	cfg   engine.Config
}

// testConfig is the engine config of these tests: no demo load, a fast
// heartbeat, a short ack wait.
func testConfig() engine.Config {
	cfg := engine.Default()
	cfg.Cortex.Enabled = false
	cfg.Workers.Count = 4
	cfg.Workers.TaskTimeout = 20 * time.Second
	cfg.Handlers = map[string]worker.HandlerConfig{
		"default":          {Kind: worker.KindSim, Latency: 2 * time.Millisecond},
		"generate_summary": {Kind: worker.KindSim, Latency: 5 * time.Millisecond},
	}
	cfg.Backend.Kind = engine.BackendNATS
	cfg.Backend.NATS.AckWait = 2 * time.Second
	cfg.Backend.NATS.HeartbeatInterval = 200 * time.Millisecond
	return cfg
}

func startServer(t *testing.T) *dist.Server {
	t.Helper()
	srv, err := dist.StartServer(dist.ServerOptions{Listen: "127.0.0.1:0", StoreDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Shutdown)
	return srv
}

func connect(t *testing.T, url string) *nats.Conn {
	t.Helper()
	nc, err := nats.Connect(url, nats.MaxReconnects(-1), nats.ReconnectWait(50*time.Millisecond))
	if err != nil {
		t.Fatalf("connect %s: %v", url, err)
	}
	t.Cleanup(nc.Close)
	return nc
}

// startControlPlane starts the dispatcher and an engine using it on url.
func startControlPlane(t *testing.T, url string, cfg engine.Config) *testBundle {
	t.Helper()
	b := &testBundle{url: url, cfg: cfg, store: enginetest.NewStore(1024)}
	t.Cleanup(func() { b.store.Close() })
	b.nc = connect(t, url)
	reg, err := worker.NewRegistry(cfg.Handlers, worker.Options{})
	if err != nil {
		t.Fatal(err)
	}
	n := cfg.Backend.NATS
	b.disp, err = dist.NewDispatcher(context.Background(), b.nc, dist.DispatcherOptions{
		Catalog: reg, TaskTimeout: cfg.Workers.TaskTimeout, HeartbeatInterval: n.HeartbeatInterval, Journal: b.store,
		KeepLostClaims: !cfg.SafeguardEnabled(engine.SafeguardWorkerReassignment),
		Stream:         dist.StreamOptions{AckWait: n.AckWait, MaxDeliver: n.MaxDeliver, Replicas: n.Replicas},
	})
	if err != nil {
		t.Fatal(err)
	}
	b.eng, err = engine.New(cfg, engine.Deps{Store: b.store, Handlers: b.disp, Remote: b.disp})
	if err != nil {
		t.Fatal(err)
	}
	if err := b.eng.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.eng.Stop(); b.disp.Close() })
	return b
}

func setup(t *testing.T) *testBundle {
	t.Helper()
	srv := startServer(t)
	b := startControlPlane(t, srv.ClientURL(), testConfig())
	b.srv = srv
	return b
}

// startWorker runs an in-process remote worker on url until the test ends
// or stop is called; stop waits for Run to return.
func startWorker(t *testing.T, url, name string, h dist.Catalog, cfg engine.Config) (nc *nats.Conn, stop func()) {
	t.Helper()
	nc, _, stop = runWorker(t, url, name, h, cfg)
	return nc, stop
}

// runWorker is startWorker that also returns the worker. Its slots give up
// on a handler told to stop as the config's handler_abandonment says.
func runWorker(t *testing.T, url, name string, h dist.Catalog, cfg engine.Config) (nc *nats.Conn, w *dist.Worker, stop func()) {
	t.Helper()
	nc = connect(t, url)
	w, err := dist.NewWorker(context.Background(), nc, dist.WorkerOptions{
		Name: name, Host: "host-" + name, Handlers: h, HeartbeatInterval: cfg.Backend.NATS.HeartbeatInterval, Drain: time.Second,
		AbandonAfter: cfg.HandlerAbandonAfter(), Scrub: engine.ErrorScrubber(cfg.Masking.Fields),
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := w.Run(ctx); err != nil && !errors.Is(err, nats.ErrConnectionClosed) {
			t.Errorf("worker %s: %v", name, err)
		}
	})
	var once sync.Once
	stop = func() { once.Do(func() { cancel(); wg.Wait() }) }
	t.Cleanup(stop)
	return nc, w, stop
}

func registry(t *testing.T, cfg engine.Config) *worker.Registry {
	t.Helper()
	reg, err := worker.NewRegistry(cfg.Handlers, worker.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return reg
}

// submitN submits n intents of typ and returns their IDs.
func (b *testBundle) submitN(t *testing.T, typ string, n int) []string {
	t.Helper()
	ids := make([]string, n)
	for i := range n {
		res, err := b.eng.Submit(context.Background(), intent.Submission{Type: typ, Actor: "tester", Priority: i % 10,
			IdempotencyKey: fmt.Sprintf("%s-%d-%d", typ, i, time.Now().UnixNano())})
		if err != nil {
			t.Fatal(err)
		}
		ids[i] = res.Intent.ID
	}
	return ids
}

// waitFor polls cond every 10ms until it holds or d passes.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// terminal reports whether every intent of ids has reached want in the
// store.
func (b *testBundle) allIn(ids []string, want intent.State) bool {
	byID := map[string]intent.State{}
	for _, in := range b.store.Intents() {
		byID[in.ID] = in.State
	}
	for _, id := range ids {
		if byID[id] != want {
			return false
		}
	}
	return true
}

// count returns how many records of what concern id.
func (b *testBundle) count(id, what string) int {
	n := 0
	for _, r := range b.store.RecordsFor(id) {
		if r.What == what {
			n++
		}
	}
	return n
}

// runningOn starts a worker called name whose handler blocks until it is
// cancelled, submits one intent and waits until that worker runs it.
func (b *testBundle) runningOn(t *testing.T, name string) (nc *nats.Conn, id string) {
	t.Helper()
	started := make(chan string, 1)
	nc, _ = startWorker(t, b.url, name, blocking{started: started}, b.cfg)
	id = b.submitN(t, "query_knowledge", 1)[0]
	select {
	case <-started:
	case <-time.After(10 * time.Second):
		t.Fatalf("%s never started the task", name)
	}
	return nc, id
}
