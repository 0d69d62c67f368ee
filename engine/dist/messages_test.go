package dist_test

import (
	"context"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"grace/engine/dist"
	"grace/engine/enginetest"
	"grace/engine/intent"
	"grace/engine/worker"
)

// An idle worker told to stop while NATS is down (the control plane with
// its embedded server has gone) stops within a couple of seconds and says
// NATS was unreachable, instead of waiting out fetch and flush timeouts
// and failing with a raw timeout.
func TestWorkerStopsPromptlyWhileNATSIsDown(t *testing.T) {
	b := setup(t)
	nc := connect(t, b.url)
	var logs enginetest.Buffer
	w, err := dist.NewWorker(context.Background(), nc, dist.WorkerOptions{Name: "idle", Host: "host-idle", Handlers: registry(t, b.cfg),
		HeartbeatInterval: b.cfg.Backend.NATS.HeartbeatInterval, Drain: 10 * time.Second,
		Logger: slog.New(slog.NewTextHandler(&logs, nil)).With("worker", "idle")})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	waitFor(t, 5*time.Second, "the worker joined", func() bool { return b.store.Count(dist.WhatRemoteJoined) == 1 })
	b.eng.Stop()
	b.disp.Close()
	b.srv.Shutdown()
	waitFor(t, 5*time.Second, "the worker to notice NATS is gone", func() bool { return !nc.IsConnected() })
	start := time.Now()
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run = %v, want nil: the worker stopped as asked", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the worker took more than 10s to stop while NATS is down")
	}
	if took := time.Since(start); took > 3*time.Second {
		t.Errorf("the worker took %v to stop while NATS is down, want at most 3s", took)
	}
	out := logs.String()
	if !strings.Contains(out, "NATS is unreachable") {
		t.Errorf("the worker's log does not say NATS was unreachable:\n%s", out)
	}
}

// finishing is a handler that signals when it starts and returns nil once
// finish is closed, whatever its context says.
type finishing struct {
	started chan string
	finish  chan struct{}
}

func (h finishing) For(string) (worker.Handler, time.Duration) {
	return worker.HandlerFunc(func(_ context.Context, in intent.Intent) error {
		h.started <- in.ID
		<-h.finish
		return nil
	}), 0
}
func (finishing) Kind(string) string { return "finishing" }

// A worker told to stop while NATS is down, whose task finishes during the
// drain, stops once the drain is over: the result it cannot deliver is
// given up (the task is delivered again after the ack wait), not retried
// for ten request timeouts past the drain, which held a stopping grace
// worker for over 20s after SIGTERM.
func TestWorkerWithAnUndeliverableResultStopsAfterItsDrain(t *testing.T) {
	srv := startServer(t)
	cfg := testConfig()
	cfg.Workers.AbandonAfter = 200 * time.Millisecond // the control plane, cut off too, gives up on the attempt soon
	b := startControlPlane(t, srv.ClientURL(), cfg)
	nc := connect(t, b.url)
	var logs enginetest.Buffer
	h := finishing{started: make(chan string, 1), finish: make(chan struct{})}
	const drain = 2 * time.Second
	w, err := dist.NewWorker(context.Background(), nc, dist.WorkerOptions{Name: "busy", Host: "host-busy", Handlers: h,
		HeartbeatInterval: cfg.Backend.NATS.HeartbeatInterval, Drain: drain,
		Logger: slog.New(slog.NewTextHandler(&logs, nil)).With("worker", "busy")})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	b.submitN(t, "query_knowledge", 1)
	select {
	case <-h.started:
	case <-time.After(10 * time.Second):
		t.Fatal("the worker never started the task")
	}
	srv.Shutdown()
	waitFor(t, 5*time.Second, "the worker to notice NATS is gone", func() bool { return !nc.IsConnected() })
	cancel()        // the shutdown begins: the drain lets the task finish
	close(h.finish) // it does, and its result cannot be delivered
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run = %v, want nil: the worker stopped as asked", err)
		}
	case <-time.After(drain + 13*time.Second): // a hang bound: the drain plus one request timeout is expected
		t.Fatalf("the worker has not stopped %v after it was told to: it retries a result it cannot deliver past its drain of %v",
			drain+13*time.Second, drain)
	}
	if out := logs.String(); !strings.Contains(out, "result not delivered before the shutdown's drain was over") {
		t.Errorf("the worker's log does not say it gave up the result at the drain's end:\n%s", out)
	}
}

// The drain's log line, when a running task outlasts it, names the worker
// once (the worker's logger names it).
func TestDrainLogNamesTheWorkerOnce(t *testing.T) {
	b := setup(t)
	var logs enginetest.Buffer
	started := make(chan string, 1)
	w, err := dist.NewWorker(context.Background(), connect(t, b.url), dist.WorkerOptions{Name: "w6", Host: "host-w6",
		Handlers: blocking{started: started}, HeartbeatInterval: b.cfg.Backend.NATS.HeartbeatInterval,
		Logger: slog.New(slog.NewTextHandler(&logs, nil)).With("worker", "w6")})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	b.submitN(t, "query_knowledge", 1)
	select {
	case <-started:
	case <-time.After(10 * time.Second):
		t.Fatal("the task never started")
	}
	cancel() // Drain 0: the running task is cancelled and given back at once
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	var drain string
	for _, line := range strings.Split(logs.String(), "\n") {
		if strings.Contains(line, "drain time over") {
			drain = line
		}
	}
	if drain == "" || strings.Count(drain, "worker=w6") != 1 {
		t.Errorf("the drain's log line %q, want it to name worker=w6 once", drain)
	}
}

// An embedded server whose address another process listens on fails at
// once, saying the address is in use, instead of after its ready timeout.
func TestEmbeddedServerAddressInUse(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	start := time.Now()
	srv, err := dist.StartServer(dist.ServerOptions{Listen: ln.Addr().String(), StoreDir: t.TempDir()})
	if err == nil {
		srv.Shutdown()
		t.Fatal("an embedded server started on an address another listener has")
	}
	if !strings.Contains(err.Error(), "address already in use") || time.Since(start) > 2*time.Second {
		t.Errorf("after %v: %v; want at once an error saying the address is in use", time.Since(start).Round(time.Millisecond), err)
	}
}
