package dist_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"grace/engine"
	"grace/engine/dist"
	"grace/engine/enginetest"
	"grace/engine/intent"
)

// A second worker process started under the name of a live one is refused
// before it takes any task, with an error naming the name and the live
// worker's host; the refusal is on the record, the twin is never recorded
// as joining or leaving, and the live worker keeps running tasks.
func TestDuplicateWorkerNameIsRefused(t *testing.T) {
	b := setup(t)
	reg := registry(t, b.cfg)
	startWorker(t, b.url, "d1", reg, b.cfg)
	waitFor(t, 5*time.Second, "d1 joined", func() bool { return b.store.Count(dist.WhatRemoteJoined) == 1 })

	twin, err := dist.NewWorker(context.Background(), connect(t, b.url), dist.WorkerOptions{
		Name: "d1", Host: "other-host", Handlers: reg, HeartbeatInterval: b.cfg.Backend.NATS.HeartbeatInterval, Drain: time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	ran := make(chan error, 1)
	go func() { ran <- twin.Run(context.Background()) }()
	select {
	case err = <-ran:
	case <-time.After(10 * time.Second):
		t.Fatal("the twin started under a live worker's name and kept running")
	}
	if !errors.Is(err, dist.ErrNameInUse) || !strings.Contains(err.Error(), `"d1"`) || !strings.Contains(err.Error(), "host-d1") {
		t.Fatalf("twin's Run = %v, want ErrNameInUse naming d1 and the live worker's host host-d1", err)
	}
	ids := b.submitN(t, "query_knowledge", 5)
	waitFor(t, 10*time.Second, "the live d1 still runs tasks", func() bool { return b.allIn(ids, intent.StateCompleted) })
	waitFor(t, 5*time.Second, "the conflict record", func() bool { return b.store.Count(dist.WhatRemoteNameConflict) == 1 })
	if n, m := b.store.Count(dist.WhatRemoteJoined), b.store.Count(dist.WhatRemoteLeft); n != 1 || m != 0 {
		t.Errorf("remote_worker_joined = %d, remote_worker_left = %d; want 1 and 0: the twin is not a worker", n, m)
	}
	for _, w := range b.eng.Snapshot().Workers {
		if w.Name == "d1" && w.Host != "host-d1" {
			t.Errorf("the console lists d1 on %s, want host-d1", w.Host)
		}
	}
}

// A worker killed mid-task and restarted under the same name at once
// takes its name back as soon as the dead process's heartbeats are stale:
// the dead process is recorded as lost, and its task is redelivered to the
// new process and completes (its claim does not stay with the dead one
// because the name is alive again).
func TestWorkerRestartedUnderItsNameRejoins(t *testing.T) {
	b := setup(t)
	deadNC, id := b.runningOn(t, "r1")
	ids := []string{id}
	deadNC.Close() // killed: no more heartbeats, progress or results
	startWorker(t, b.url, "r1", registry(t, b.cfg), b.cfg)
	waitFor(t, b.cfg.Backend.NATS.AckWait+5*time.Second, "the task completed on the restarted r1", func() bool {
		return b.allIn(ids, intent.StateCompleted)
	})
	waitFor(t, 5*time.Second, "records", func() bool {
		return b.store.Count(dist.WhatRemoteLost) == 1 && b.count(ids[0], dist.WhatRemoteRedelivered) == 1
	})
	if n := b.store.Count(dist.WhatRemoteJoined); n != 2 {
		t.Errorf("remote_worker_joined = %d, want 2 (r1, then r1 restarted)", n)
	}
	if n := b.store.Count(dist.WhatRemoteNameConflict); n != 0 {
		t.Errorf("remote_worker_name_conflict = %d, want 0: the dead process does not hold its name", n)
	}
}

// A second control plane on a NATS another one serves is refused at start,
// naming the live one's host, pid and API; the live one goes on running
// tasks, and once it is gone a control plane starts there again.
func TestSecondControlPlaneIsRefused(t *testing.T) {
	b := setup(t)
	reg := registry(t, b.cfg)
	second := func() (*dist.Dispatcher, error) {
		return dist.NewDispatcher(context.Background(), connect(t, b.url), dist.DispatcherOptions{
			Catalog: reg, HeartbeatInterval: b.cfg.Backend.NATS.HeartbeatInterval, Journal: b.store,
			Stream:   dist.StreamOptions{AckWait: b.cfg.Backend.NATS.AckWait},
			Identity: dist.ControlPlane{API: "127.0.0.1:7999"},
		})
	}
	d, err := second()
	if err == nil {
		d.Close()
		t.Fatal("a second control plane started on a NATS another one serves")
	}
	host, _ := os.Hostname()
	if !errors.Is(err, dist.ErrAnotherControlPlane) || !strings.Contains(err.Error(), fmt.Sprintf("on %s, pid %d", host, os.Getpid())) {
		t.Fatalf("second control plane: %v, want ErrAnotherControlPlane naming host %s and pid %d", err, host, os.Getpid())
	}
	startWorker(t, b.url, "w1", reg, b.cfg)
	ids := b.submitN(t, "query_knowledge", 10)
	waitFor(t, 10*time.Second, "the first control plane's tasks completed", func() bool { return b.allIn(ids, intent.StateCompleted) })
	for _, id := range ids {
		if n := b.count(id, engine.WhatFailed); n != 0 {
			t.Errorf("%s: %d failure records, want 0", id, n)
		}
	}

	b.eng.Stop()
	b.disp.Close()
	d, err = second()
	if err != nil {
		t.Fatalf("a control plane after the first stopped: %v", err)
	}
	d.Close()
}

// Two control planes starting at the same moment on one NATS do not both
// serve it.
func TestControlPlanesStartingTogetherDoNotBothServe(t *testing.T) {
	srv := startServer(t)
	cfg := testConfig()
	reg := registry(t, cfg)
	errs := make(chan error, 2)
	var ds = make(chan *dist.Dispatcher, 2)
	for range 2 {
		nc := connect(t, srv.ClientURL())
		go func() {
			d, err := dist.NewDispatcher(context.Background(), nc, dist.DispatcherOptions{
				Catalog: reg, HeartbeatInterval: cfg.Backend.NATS.HeartbeatInterval, Journal: newJournal(t),
				Stream: dist.StreamOptions{AckWait: cfg.Backend.NATS.AckWait},
			})
			if d != nil {
				ds <- d
			}
			errs <- err
		}()
	}
	served := 0
	for range 2 {
		if err := <-errs; err == nil {
			served++
		} else if !errors.Is(err, dist.ErrAnotherControlPlane) {
			t.Errorf("start: %v", err)
		}
	}
	close(ds)
	for d := range ds {
		d.Close()
	}
	if served > 1 {
		t.Errorf("%d control planes serve one NATS, want at most 1", served)
	}
}

func newJournal(t *testing.T) *enginetest.Store {
	t.Helper()
	st := enginetest.NewStore(1024)
	t.Cleanup(func() { st.Close() })
	return st
}
