package dist_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"grace/engine"
	"grace/engine/dist"
	"grace/engine/intent"
	"grace/engine/watchdog"
)

// finding returns the watchdog's latest finding on condition of component.
func finding(eng *engine.Engine, component, condition string) (watchdog.Finding, bool) {
	for _, c := range eng.Health().Components {
		if c.Name != component {
			continue
		}
		for _, f := range c.Findings {
			if f.Condition == condition {
				return f, true
			}
		}
	}
	return watchdog.Finding{}, false
}

// With no remote worker connected, the scheduler dispatches nothing: the
// intents stay queued with no attempt burned, the watchdog's
// htm_orchestrator is critical saying so (an alert fires), and the hold is
// on the record. A worker joining resumes dispatch, on the record too, and
// every intent completes on its first attempt.
func TestNoRemoteWorkerHoldsDispatch(t *testing.T) {
	srv := startServer(t)
	cfg := testConfig()
	cfg.Watchdog.Interval = watchdog.MinInterval
	b := startControlPlane(t, srv.ClientURL(), cfg)
	ids := b.submitN(t, "query_knowledge", 3)

	waitFor(t, 5*time.Second, "htm_orchestrator critical for lack of remote workers, its alert firing", func() bool {
		f, ok := finding(b.eng, watchdog.NameHTM, "remote_workers")
		firing := false
		for _, a := range b.eng.Health().Alerts {
			firing = firing || (a.Key == watchdog.NameHTM+"/remote_workers" && a.Severity == watchdog.Critical)
		}
		return firing && ok && f.Status == watchdog.Critical && strings.Contains(f.Reason, "No remote worker connected (backend nats)")
	})
	waitFor(t, 5*time.Second, "the hold on the record", func() bool { return b.store.Count(engine.WhatDispatchHeld) == 1 })
	for _, id := range ids {
		in, err := b.eng.Get(context.Background(), id)
		if err != nil || in.State != intent.StateQueued || in.Attempts != 0 {
			t.Fatalf("with no remote worker: %s is %s after %d attempts (%v); want queued, none burned", id, in.State, in.Attempts, err)
		}
	}

	startWorker(t, b.url, "w1", registry(t, b.cfg), b.cfg)
	waitFor(t, 10*time.Second, "the held intents completed", func() bool { return b.allIn(ids, intent.StateCompleted) })
	waitFor(t, 5*time.Second, "the resume on the record", func() bool { return b.store.Count(engine.WhatDispatchResumed) == 1 })
	for _, id := range ids {
		if in, _ := b.eng.Get(context.Background(), id); in.Attempts != 1 {
			t.Errorf("%s completed after %d attempts, want 1", id, in.Attempts)
		}
	}
	waitFor(t, 5*time.Second, "htm_orchestrator's remote_workers finding ok again", func() bool {
		f, ok := finding(b.eng, watchdog.NameHTM, "remote_workers")
		return ok && f.Status == watchdog.OK
	})
	if n := b.store.Count(engine.WhatDispatchHeld); n != 1 {
		t.Errorf("%d dispatch_held records, want 1", n)
	}
}

// An attempt published while a worker was live, which nobody claimed
// before its timeout (its only worker went silent), fails saying so and
// how many remote workers are connected, not naming an empty holder; its
// retry then waits in the queue instead of being burned.
func TestUnclaimedAttemptSaysNobodyClaimedIt(t *testing.T) {
	srv := startServer(t)
	cfg := testConfig()
	cfg.Workers.TaskTimeout = time.Second
	b := startControlPlane(t, srv.ClientURL(), cfg)
	// A worker that announces itself once and never pulls a task.
	hb, _ := json.Marshal(map[string]any{"worker": "ghost", "host": "host-ghost", "pid": 1, "slots": 1})
	if err := b.nc.Publish("grace.workers.heartbeat", hb); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "the ghost joined", func() bool { return b.store.Count(dist.WhatRemoteJoined) == 1 })
	ids := b.submitN(t, "query_knowledge", 1)
	var in intent.Intent
	waitFor(t, 10*time.Second, "the first attempt timed out", func() bool {
		in, _ = b.eng.Get(context.Background(), ids[0])
		return in.LastError != ""
	})
	if !strings.Contains(in.LastError, "no worker claimed it within 1s; 0 remote workers connected") {
		t.Errorf("last_error %q, want it to say no worker claimed it and 0 remote workers are connected", in.LastError)
	}
	waitFor(t, 5*time.Second, "the retry held", func() bool { return b.store.Count(engine.WhatDispatchHeld) == 1 })
	if in, _ := b.eng.Get(context.Background(), ids[0]); in.Attempts != 1 || in.State != intent.StateQueued {
		t.Errorf("after the timeout: %s after %d attempts, want queued after 1", in.State, in.Attempts)
	}
	// No remote worker ran it, and the record does not say one did.
	for _, r := range b.store.RecordsFor(ids[0]) {
		if r.What != engine.WhatRetryScheduled {
			continue
		}
		if why := strings.Join(r.Why, " | "); !strings.Contains(why, "(no remote worker claimed it)") || r.Context["worker"] != "" {
			t.Errorf("retry record why %q context %v; want it to say no remote worker claimed the attempt", why, r.Context)
		}
	}
}

// A worker killed mid-task shows as lost (not busy with the intent that
// completed elsewhere), one that shut down as left, and the lost worker
// and the redelivery count in Layer2's workers_lost and rerouted (which
// /metrics and /v1/telemetry show).
func TestLostAndLeftWorkersShowAsSuch(t *testing.T) {
	b := setup(t)
	started := make(chan string, 1)
	deadNC, _ := startWorker(t, b.url, "doomed", blocking{started: started}, b.cfg)
	_, stopLeaver := startWorker(t, b.url, "leaver", blocking{started: make(chan string, 1)}, b.cfg)
	stopLeaver()
	ids := b.submitN(t, "query_knowledge", 1)
	select {
	case <-started:
	case <-time.After(10 * time.Second):
		t.Fatal("the doomed worker never started the task")
	}
	deadNC.Close() // SIGKILL, as the control plane sees it
	startWorker(t, b.url, "rescuer", registry(t, b.cfg), b.cfg)
	waitFor(t, b.cfg.Backend.NATS.AckWait+10*time.Second, "the task completed elsewhere", func() bool {
		return b.allIn(ids, intent.StateCompleted)
	})
	waitFor(t, 5*time.Second, "the lost worker record", func() bool { return b.store.Count(dist.WhatRemoteLost) == 1 })
	snap := b.eng.Snapshot()
	byName := map[string]engine.WorkerInfo{}
	for _, w := range snap.Workers {
		byName[w.Name] = w
	}
	if w := byName["doomed"]; w.State != engine.RemoteLost || w.Busy || w.Healthy {
		t.Errorf("the killed worker shows as %+v; want state lost, not busy, not healthy", w)
	}
	if w := byName["leaver"]; w.State != engine.RemoteLeft || w.Busy || w.Healthy {
		t.Errorf("the departed worker shows as %+v; want state left, not busy, not healthy", w)
	}
	if w := byName["rescuer"]; w.State != engine.RemoteLive || !w.Healthy {
		t.Errorf("the live worker shows as %+v; want state live, healthy", w)
	}
	if snap.Layer2.WorkersLost != 1 || snap.Layer2.Rerouted != 1 {
		t.Errorf("layer2 workers_lost %d, rerouted %d; want 1 and 1 (the killed worker, its redelivered task)",
			snap.Layer2.WorkersLost, snap.Layer2.Rerouted)
	}
}
