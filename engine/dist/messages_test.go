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
