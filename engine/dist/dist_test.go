package dist_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"grace/engine"
	"grace/engine/dist"
	"grace/engine/intent"
	"grace/engine/worker"
)

// Tasks flow end to end through JetStream: every intent completes once, and
// each has its dispatch, its remote claim and its completion on the record;
// the remote workers show in the snapshot with their hosts.
func TestTasksFlowThroughJetStream(t *testing.T) {
	b := setup(t)
	reg := registry(t, b.cfg)
	startWorker(t, b.url, "w1", reg, b.cfg)
	startWorker(t, b.url, "w2", reg, b.cfg)
	ids := b.submitN(t, "query_knowledge", 40)
	waitFor(t, 20*time.Second, "40 intents completed", func() bool { return b.allIn(ids, intent.StateCompleted) })
	b.store.Flush()
	for _, id := range ids {
		if n := b.count(id, engine.WhatDispatched); n != 1 {
			t.Errorf("%s: %d dispatch records, want 1", id, n)
		}
		if n := b.count(id, engine.WhatCompleted); n != 1 {
			t.Errorf("%s: %d completion records, want 1", id, n)
		}
	}
	waitFor(t, 5*time.Second, "claim records", func() bool {
		for _, id := range ids {
			if b.count(id, dist.WhatRemoteClaimed) != 1 {
				return false
			}
		}
		return true
	})
	hosts := map[string]string{}
	var done uint64
	waitFor(t, 5*time.Second, "workers' counts in their heartbeats", func() bool {
		done = 0
		for _, w := range b.eng.Snapshot().Workers {
			if w.Host != "" {
				hosts[w.Name] = w.Host
				done += w.Completed
			}
		}
		return done == 40
	})
	if hosts["w1"] != "host-w1" || hosts["w2"] != "host-w2" {
		t.Errorf("remote workers in the snapshot = %v, want w1 on host-w1 and w2 on host-w2", hosts)
	}
	if b.store.Count(dist.WhatRemoteJoined) != 2 {
		t.Errorf("remote_worker_joined records = %d, want 2", b.store.Count(dist.WhatRemoteJoined))
	}
}

// A Tier 0 intent never reaches the stream before an operator approves it;
// once approved it runs remotely.
func TestTier0NeverReachesTheStreamBeforeApproval(t *testing.T) {
	b := setup(t)
	startWorker(t, b.url, "w1", registry(t, b.cfg), b.cfg)
	ctx := context.Background()
	t0, err := b.eng.Submit(ctx, intent.Submission{Type: "change_charter", Actor: "tester"})
	if err != nil {
		t.Fatal(err)
	}
	if t0.Intent.State != intent.StatePendingApproval {
		t.Fatalf("change_charter is %s, want pending_approval", t0.Intent.State)
	}
	ids := b.submitN(t, "query_knowledge", 1)
	waitFor(t, 10*time.Second, "the Tier 2 intent completed", func() bool { return b.allIn(ids, intent.StateCompleted) })
	js, err := jetstream.New(b.nc)
	if err != nil {
		t.Fatal(err)
	}
	info, err := js.Stream(ctx, dist.StreamName)
	if err != nil {
		t.Fatal(err)
	}
	if last := info.CachedInfo().State.LastSeq; last != 1 {
		t.Fatalf("stream last sequence = %d after one released intent, want 1 (the unapproved Tier 0 intent must not be published)", last)
	}
	if n := b.count(t0.Intent.ID, dist.WhatRemoteClaimed); n != 0 {
		t.Fatalf("the unapproved Tier 0 intent was claimed %d times", n)
	}
	if _, err := b.eng.Approve(ctx, t0.Intent.ID, "alice", "reviewed"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "the approved Tier 0 intent completed", func() bool {
		return b.allIn([]string{t0.Intent.ID}, intent.StateCompleted)
	})
}

// blocking is a handler that signals when it starts and then blocks until
// its context ends, for a worker that is to die mid-task.
type blocking struct{ started chan string }

func (h blocking) For(string) (worker.Handler, time.Duration) {
	return worker.HandlerFunc(func(ctx context.Context, in intent.Intent) error {
		h.started <- in.ID
		<-ctx.Done()
		return ctx.Err()
	}), 0
}
func (blocking) Kind(string) string { return "blocking" }

// A worker that dies mid-task (its connection cut: no heartbeats, no
// progress) loses the task to another worker after the ack wait; the
// redelivery is on the record, and the intent completes exactly once.
func TestRedeliveryAfterWorkerDies(t *testing.T) {
	b := setup(t)
	started := make(chan string, 1)
	deadNC, _ := startWorker(t, b.url, "doomed", blocking{started: started}, b.cfg)
	ids := b.submitN(t, "query_knowledge", 1)
	var id string
	select {
	case id = <-started:
	case <-time.After(10 * time.Second):
		t.Fatal("the doomed worker never started the task")
	}
	if id != ids[0] {
		t.Fatalf("started %s, want %s", id, ids[0])
	}
	waitFor(t, 5*time.Second, "the intent's worker naming its holder doomed", func() bool {
		in, err := b.eng.Get(context.Background(), id)
		return err == nil && in.Worker == "doomed"
	})
	deadNC.Close() // the worker dies: no more heartbeats, progress or results
	startWorker(t, b.url, "rescuer", registry(t, b.cfg), b.cfg)
	waitFor(t, b.cfg.Backend.NATS.AckWait+10*time.Second, "the task completed elsewhere", func() bool {
		return b.allIn(ids, intent.StateCompleted)
	})
	waitFor(t, 5*time.Second, "the redelivery record", func() bool { return b.count(id, dist.WhatRemoteRedelivered) == 1 })
	if n := b.count(id, engine.WhatCompleted); n != 1 {
		t.Errorf("%d completion records, want 1", n)
	}
	// The dead worker's loss, with the task it ran, is on the record. Not
	// "the one remote_worker_lost record": on a loaded machine a live
	// worker whose heartbeats are late by two intervals (400ms here) is
	// taken for lost too, and joins again, as designed.
	waitFor(t, 5*time.Second, "the lost worker record naming doomed and its task", func() bool {
		for _, r := range b.store.Records() {
			if r.What == dist.WhatRemoteLost && r.Context["worker"] == "doomed" && strings.Contains(fmt.Sprint(r.Context["running"]), id+"#1") {
				return true
			}
		}
		return false
	})
	for _, r := range b.store.RecordsFor(id) {
		if r.What == dist.WhatRemoteRedelivered && (r.Context["from_worker"] != "doomed" || r.Who != "rescuer") {
			t.Errorf("redelivery record %+v, want from doomed to rescuer", r)
		}
		if r.What == engine.WhatCompleted && (r.Who != "rescuer" || r.Where != "host-rescuer") {
			t.Errorf("completion record by %s on %s, want rescuer on host-rescuer, which ran the redelivered task", r.Who, r.Where)
		}
	}
	if in, _ := b.eng.Get(context.Background(), id); in.Worker != "rescuer" {
		t.Errorf("the intent's worker is %q, want rescuer, which completed it", in.Worker)
	}
}

// With worker_reassignment off, a dead worker keeps its claim: the
// redelivered task is refused to the live worker (remote_task_held, once),
// never redelivered on the record, and the intent completes only as a new
// attempt after the task timeout.
func TestLostClaimIsHeldWithoutReassignment(t *testing.T) {
	srv := startServer(t)
	cfg := testConfig()
	cfg.Workers.TaskTimeout = 4 * time.Second
	cfg.Safeguards = map[string]engine.SafeguardConfig{engine.SafeguardWorkerReassignment: {Enabled: false}}
	b := startControlPlane(t, srv.ClientURL(), cfg)
	started := make(chan string, 1)
	deadNC, _ := startWorker(t, b.url, "doomed", blocking{started: started}, b.cfg)
	ids := b.submitN(t, "query_knowledge", 1)
	select {
	case <-started:
	case <-time.After(10 * time.Second):
		t.Fatal("the doomed worker never started the task")
	}
	deadNC.Close()
	startWorker(t, b.url, "bystander", registry(t, b.cfg), b.cfg)
	waitFor(t, b.cfg.Backend.NATS.AckWait+5*time.Second, "the held claim on the record", func() bool {
		return b.count(ids[0], dist.WhatRemoteHeld) == 1
	})
	if in, err := b.eng.Get(context.Background(), ids[0]); err != nil || in.State != intent.StateRunning || in.Attempts != 1 {
		t.Fatalf("while held: %+v, %v; want attempt 1 still running", in, err)
	}
	waitFor(t, cfg.Workers.TaskTimeout+10*time.Second, "the intent completed as a new attempt", func() bool {
		return b.allIn(ids, intent.StateCompleted)
	})
	in, err := b.eng.Get(context.Background(), ids[0])
	if err != nil || in.Attempts < 2 {
		t.Fatalf("completed as %+v, %v; want a second attempt", in, err)
	}
	if n := b.count(ids[0], dist.WhatRemoteRedelivered); n != 0 {
		t.Errorf("%d remote_task_redelivered records with worker_reassignment off, want 0", n)
	}
	if n := b.count(ids[0], dist.WhatRemoteHeld); n != 1 {
		t.Errorf("%d remote_task_held records, want exactly 1", n)
	}
}

// A result from a worker that does not hold the attempt's claim is
// refused and recorded as stale.
func TestResultFromNonHolderIsRefused(t *testing.T) {
	b := setup(t)
	release := make(chan struct{})
	var claimed atomic.Bool
	slow := worker.HandlerFunc(func(ctx context.Context, in intent.Intent) error {
		claimed.Store(true)
		select {
		case <-release:
		case <-ctx.Done():
		}
		return nil
	})
	startWorker(t, b.url, "holder", catalog{slow}, b.cfg)
	ids := b.submitN(t, "query_knowledge", 1)
	waitFor(t, 10*time.Second, "the holder started", claimed.Load)
	body, _ := json.Marshal(map[string]any{"id": ids[0], "attempt": 1, "worker": "impostor", "host": "elsewhere", "token": 1})
	m, err := b.nc.Request("grace.ctl.result", body, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	var rr struct {
		Accepted bool   `json:"accepted"`
		Reason   string `json:"reason"`
	}
	if err := json.Unmarshal(m.Data, &rr); err != nil {
		t.Fatal(err)
	}
	if rr.Accepted {
		t.Fatal("a result from a worker without the claim was accepted")
	}
	close(release)
	waitFor(t, 10*time.Second, "the holder's result", func() bool { return b.allIn(ids, intent.StateCompleted) })
	waitFor(t, 5*time.Second, "the stale record", func() bool { return b.count(ids[0], engine.WhatStaleDiscarded) == 1 })
}

// catalog serves one handler for every type.
type catalog struct{ h worker.Handler }

func (c catalog) For(string) (worker.Handler, time.Duration) { return c.h, 0 }
func (catalog) Kind(string) string                           { return "test" }

// A permanent failure on a remote worker fails the intent without retry; a
// transient one is retried as a new attempt.
func TestRemoteFailuresKeepTheirKind(t *testing.T) {
	b := setup(t)
	var calls atomic.Int32
	h := worker.HandlerFunc(func(_ context.Context, in intent.Intent) error {
		calls.Add(1)
		if in.Type == "generate_summary" {
			return worker.Permanent(errors.New("bad input"))
		}
		if in.Attempts == 1 {
			return errors.New("flaky")
		}
		return nil
	})
	startWorker(t, b.url, "w", catalog{h}, b.cfg)
	perm := b.submitN(t, "generate_summary", 1)
	flaky := b.submitN(t, "query_knowledge", 1)
	waitFor(t, 15*time.Second, "outcomes", func() bool {
		return b.allIn(perm, intent.StateFailed) && b.allIn(flaky, intent.StateCompleted)
	})
	for _, in := range b.store.Intents() {
		if in.ID == flaky[0] && in.Attempts != 2 {
			t.Errorf("flaky intent took %d attempts, want 2", in.Attempts)
		}
		if in.ID == perm[0] && in.Attempts != 1 {
			t.Errorf("permanently failing intent took %d attempts, want 1", in.Attempts)
		}
	}
}

// A worker shutting down with a task that outlasts its drain gives the
// task back: the release and the worker's departure are on the record,
// and another worker completes the task at once, without waiting for the
// ack wait.
func TestShutdownGivesRunningTasksBack(t *testing.T) {
	b := setup(t)
	started := make(chan string, 1)
	_, stop := startWorker(t, b.url, "leaving", blocking{started: started}, b.cfg)
	ids := b.submitN(t, "query_knowledge", 1)
	select {
	case <-started:
	case <-time.After(10 * time.Second):
		t.Fatal("the task never started")
	}
	stop() // drains for 1s, then cancels and gives the task back
	waitFor(t, 5*time.Second, "the release record", func() bool { return b.count(ids[0], dist.WhatRemoteReleased) == 1 })
	waitFor(t, 5*time.Second, "the departure record", func() bool { return b.store.Count(dist.WhatRemoteLeft) == 1 })
	startWorker(t, b.url, "next", registry(t, b.cfg), b.cfg)
	waitFor(t, b.cfg.Backend.NATS.AckWait/2, "the task completed by the next worker well within the ack wait", func() bool {
		return b.allIn(ids, intent.StateCompleted)
	})
	if n := b.count(ids[0], dist.WhatRemoteRedelivered); n != 0 {
		t.Errorf("%d redelivery records; a released task is claimed afresh", n)
	}
	for _, w := range b.eng.Snapshot().Workers {
		if w.Name == "leaving" && w.Healthy {
			t.Error("the departed worker is still listed healthy")
		}
	}
}

// Cancelling an intent a remote worker is running stops its handler there
// (the worker is told on grace.ctl.cancel), the intent stays cancelled,
// and the worker is free for the next task.
func TestCancelStopsARemoteAttempt(t *testing.T) {
	b := setup(t)
	started, stopped := make(chan string, 2), make(chan error, 2)
	startWorker(t, b.url, "remote", stopping{started: started, stopped: stopped}, b.cfg)
	ids := b.submitN(t, "query_knowledge", 1)
	select {
	case id := <-started:
		if id != ids[0] {
			t.Fatalf("started %s, want %s", id, ids[0])
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the remote worker never started the task")
	}
	in, err := b.eng.Cancel(t.Context(), ids[0], "alice", "wrong target")
	if err != nil || in.State != intent.StateCancelled {
		t.Fatalf("cancel: %+v, %v", in, err)
	}
	select {
	case err := <-stopped:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("the remote handler ended with %v, want its context cancelled", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the remote handler was not stopped")
	}
	// Both ends say so: the remote worker's late result is refused, and
	// the engine's slot discards what the dispatcher returned.
	waitFor(t, 5*time.Second, "the discarded results on the record", func() bool {
		byCancel := 0
		for _, r := range b.store.RecordsFor(ids[0]) {
			if r.What == engine.WhatStaleDiscarded && r.Context["cancelled_by"] == "alice" {
				byCancel++
			}
		}
		return byCancel == 1 && b.count(ids[0], engine.WhatStaleDiscarded) == 2
	})
	b.submitN(t, "query_knowledge", 1)
	select {
	case <-started:
	case <-time.After(10 * time.Second):
		t.Fatal("the remote worker did not take the next task")
	}
	if !b.allIn(ids, intent.StateCancelled) {
		t.Fatalf("the cancelled intent is no longer cancelled")
	}
}

// stopping is a handler that signals when it starts and when its context
// ends (with the context's error), and returns then.
type stopping struct {
	started chan string
	stopped chan error
}

func (h stopping) For(string) (worker.Handler, time.Duration) {
	return worker.HandlerFunc(func(ctx context.Context, in intent.Intent) error {
		h.started <- in.ID
		<-ctx.Done()
		h.stopped <- ctx.Err()
		return ctx.Err()
	}), 0
}
func (stopping) Kind(string) string { return "stopping" }
