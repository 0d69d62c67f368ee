package dist_test

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"grace/engine"
	"grace/engine/dist"
	"grace/engine/intent"
	"grace/engine/worker"
)

// runaway is a catalog whose query_knowledge handler ignores its context:
// it signals that it started, then returns only when release is closed.
// Every other type's handler returns at once.
type runaway struct {
	started chan string
	release chan struct{}
}

func (h runaway) For(typ string) (worker.Handler, time.Duration) {
	if typ != "query_knowledge" {
		return worker.HandlerFunc(func(context.Context, intent.Intent) error { return nil }), 0
	}
	return worker.HandlerFunc(func(_ context.Context, in intent.Intent) error {
		h.started <- in.ID
		<-h.release
		if len(in.Payload) > 0 { // late, and quoting what it was given
			return fmt.Errorf("upstream said no to %s", in.Payload)
		}
		return nil
	}), 0
}
func (runaway) Kind(string) string { return "runaway" }

// abandonConfig is testConfig with a short task timeout and abandonment.
func abandonConfig() engine.Config {
	cfg := testConfig()
	cfg.Workers.TaskTimeout = 300 * time.Millisecond
	cfg.Workers.AbandonAfter = 500 * time.Millisecond
	return cfg
}

// A remote handler that ignores its timeout neither keeps its worker's
// slot nor runs beside a retry: the remote worker gives up on it and takes
// the next task, the control plane fails its intent without a retry
// (handler_abandoned, then intent_failed), and when it returns at last
// what it did is discarded on the record, its error scrubbed of the
// intent's masked values before it left the worker.
func TestRemoteRunawayHandlerIsAbandoned(t *testing.T) {
	srv := startServer(t)
	b := startControlPlane(t, srv.ClientURL(), abandonConfig())
	h := runaway{started: make(chan string, 4), release: make(chan struct{})}
	_, w, _ := runWorker(t, b.url, "remote", h, b.cfg) // one slot
	released := false
	release := func() {
		if !released {
			released = true
			close(h.release)
		}
	}
	t.Cleanup(release)

	const secret = "hunter2-Sup3rS3cret"
	res, err := b.eng.Submit(context.Background(), intent.Submission{Type: "query_knowledge", Actor: "tester",
		Payload: []byte(`{"q":"status","password":"` + secret + `"}`)})
	if err != nil {
		t.Fatal(err)
	}
	stuck := res.Intent.ID
	select {
	case <-h.started:
	case <-time.After(10 * time.Second):
		t.Fatal("the remote worker never started the task")
	}
	waitFor(t, 10*time.Second, "the stuck intent failed", func() bool { return b.allIn([]string{stuck}, intent.StateFailed) })
	if n := b.count(stuck, engine.WhatHandlerAbandoned); n != 1 {
		t.Errorf("%d handler_abandoned records, want 1", n)
	}
	in, err := b.eng.Get(context.Background(), stuck)
	if err != nil || in.Attempts != 1 {
		t.Fatalf("failed as %+v, %v; want one attempt: a retry would run beside the runaway", in, err)
	}
	if got := b.eng.RunawayHandlers(); len(got) != 1 || got[0].IntentID != stuck || got[0].RemoteWorker != "remote" || got[0].RemoteHost != "host-remote" {
		t.Errorf("runaway handlers %+v, want the stuck intent's, on remote worker remote (host-remote)", got)
	}
	for _, r := range b.store.RecordsFor(stuck) {
		if r.What == engine.WhatHandlerAbandoned && r.Context["remote_worker"] != "remote" {
			t.Errorf("the handler_abandoned record does not name the remote worker: %+v", r)
		}
	}

	// The remote worker's only slot is free while the handler runs on.
	next := b.submitN(t, "generate_summary", 3)
	waitFor(t, 10*time.Second, "the next tasks completed on the freed slot", func() bool {
		return b.allIn(next, intent.StateCompleted)
	})
	if n := w.Runaways(); n != 1 {
		t.Errorf("the remote worker counts %d runaway handlers, want 1", n)
	}

	release()
	waitFor(t, 10*time.Second, "the runaway's return on the record", func() bool {
		return len(b.eng.RunawayHandlers()) == 0 && w.Runaways() == 0
	})
	// Both ends discard what it did: the dispatcher its late result, the
	// engine the runaway's return.
	waitFor(t, 5*time.Second, "the discarded outcome on the record at both ends", func() bool {
		hows := map[string]int{}
		for _, r := range b.store.RecordsFor(stuck) {
			if r.What == engine.WhatStaleDiscarded {
				hows[r.How]++
			}
		}
		return hows["attempt_fencing"] == 1 && hows["handler_abandonment"] == 1 && len(hows) == 2
	})
	if in, err := b.eng.Get(context.Background(), stuck); err != nil || in.State != intent.StateFailed || in.Attempts != 1 {
		t.Errorf("after the runaway returned: %+v, %v; want still failed after one attempt", in, err)
	}
	late := 0
	for _, r := range b.store.RecordsFor(stuck) {
		text := fmt.Sprint(r.Why, r.Context)
		if strings.Contains(text, secret) {
			t.Errorf("%s shows the masked value: %s", r.What, text)
		}
		if r.What == engine.WhatStaleDiscarded && strings.Contains(text, "upstream said no") && strings.Contains(text, engine.MaskedValue) {
			late++
		}
	}
	if late != 2 {
		t.Errorf("%d discards quote the late error, masked; want 2 (both ends)", late)
	}
}

// A remote handler slow to stop after its timeout is waited for: the
// retry starts only once it has returned, so the two attempts never run
// at once, and the intent completes on the retry.
func TestRemoteRetryWaitsForTheStoppedHandler(t *testing.T) {
	srv := startServer(t)
	cfg := abandonConfig()
	cfg.Workers.AbandonAfter = 10 * time.Second
	cfg.Workers.BackoffBase = 50 * time.Millisecond
	b := startControlPlane(t, srv.ClientURL(), cfg)
	var running, overlaps, runs atomic.Int32
	h := catalog{h: worker.HandlerFunc(func(ctx context.Context, in intent.Intent) error {
		if running.Add(1) > 1 {
			overlaps.Add(1)
		}
		defer running.Add(-1)
		if runs.Add(1) == 1 {
			// The first attempt notices its timeout a second late, far
			// past the retry's backoff.
			<-ctx.Done()
			time.Sleep(time.Second)
			return ctx.Err()
		}
		return nil
	})}
	runWorker(t, b.url, "remote-a", h, b.cfg)
	runWorker(t, b.url, "remote-b", h, b.cfg)
	id := b.submitN(t, "query_knowledge", 1)[0]
	waitFor(t, 15*time.Second, "the intent completed by a retry", func() bool { return b.allIn([]string{id}, intent.StateCompleted) })
	if n := overlaps.Load(); n != 0 {
		t.Errorf("%d attempts started while another still ran", n)
	}
	if in, err := b.eng.Get(context.Background(), id); err != nil || in.Attempts != 2 || runs.Load() != 2 {
		t.Errorf("completed as %+v, %v after %d runs; want 2 attempts, 2 runs", in, err, runs.Load())
	}
	if n := b.count(id, engine.WhatHandlerAbandoned); n != 0 {
		t.Errorf("%d handler_abandoned records for a handler that returned within abandon_after", n)
	}
}

// A remote worker shutting down with a handler that ignores being told to
// stop still stops: after its drain it cancels the handler, gives up on it
// abandon_after later, gives the task back and leaves.
func TestRemoteWorkerStopsDespiteARunawayHandler(t *testing.T) {
	srv := startServer(t)
	cfg := testConfig() // a 20s task timeout: the shutdown tells the handler first
	cfg.Workers.AbandonAfter = 500 * time.Millisecond
	b := startControlPlane(t, srv.ClientURL(), cfg)
	h := runaway{started: make(chan string, 1), release: make(chan struct{})}
	_, w, stop := runWorker(t, b.url, "leaving", h, b.cfg)
	t.Cleanup(func() { close(h.release) })
	id := b.submitN(t, "query_knowledge", 1)[0]
	select {
	case <-h.started:
	case <-time.After(10 * time.Second):
		t.Fatal("the remote worker never started the task")
	}
	stopped := make(chan struct{})
	go func() { stop(); close(stopped) }()
	select {
	case <-stopped:
	case <-time.After(15 * time.Second):
		t.Fatal("the worker did not stop: it waits for a handler that ignores being told to")
	}
	if n := w.Runaways(); n != 1 {
		t.Errorf("%d runaway handlers at the stop, want 1", n)
	}
	waitFor(t, 5*time.Second, "the release and departure records", func() bool {
		return b.count(id, dist.WhatRemoteReleased) == 1 && b.store.Count(dist.WhatRemoteLeft) == 1
	})
}
