package dist_test

import (
	"context"
	"testing"
	"time"

	"grace/engine"
	"grace/engine/intent"
	"grace/engine/watchdog"
	"grace/engine/worker"
)

// The snapshot sums up the remote workers (Remote: connected, slots busy
// and in all) and lists each with its process instance and slots, its
// busy ones while it runs an attempt.
func TestSnapshotSumsUpRemoteWorkers(t *testing.T) {
	b := setup(t)
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	slow := worker.HandlerFunc(func(ctx context.Context, in intent.Intent) error {
		select {
		case <-release:
		case <-ctx.Done():
		}
		return nil
	})
	startWorker(t, b.url, "w1", catalog{slow}, b.cfg)
	startWorker(t, b.url, "w2", catalog{slow}, b.cfg)
	ids := b.submitN(t, "query_knowledge", 1)
	var last engine.Snapshot
	ok := func() bool {
		in, err := b.eng.Get(context.Background(), ids[0])
		last = b.eng.Snapshot()
		r := last.Remote
		if err != nil || in.Worker == "" || r == nil || r.Connected != 2 || r.SlotsTotal != 2 || r.SlotsBusy != 1 || r.Backend != "nats" {
			return false
		}
		n := 0
		for _, w := range last.Workers {
			if w.State == "" {
				continue // the control plane's dispatch slots
			}
			n++
			wantBusy := 0
			if w.Name == in.Worker {
				wantBusy = 1
			}
			if w.Instance == "" || w.Slots != 1 || w.SlotsBusy != wantBusy || w.State != engine.RemoteLive {
				return false
			}
		}
		return n == 2
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("the last snapshot has %+v and %+v", last.Remote, last.Workers)
		}
	})
	waitFor(t, 10*time.Second, "two remote workers live, each with an instance and 1 slot, the holder's busy (1 of 2 in all)", ok)
}

// The watchdog checks again as soon as the first remote worker joins: its
// remote_workers finding, critical at start while none was heard, is OK
// without waiting for the next watchdog interval (an hour here), and
// critical again at once when the last one leaves.
func TestRemoteWorkersCheckFollowsJoins(t *testing.T) {
	srv := startServer(t)
	cfg := testConfig()
	cfg.Watchdog.Interval = time.Hour
	b := startControlPlane(t, srv.ClientURL(), cfg)
	if f, ok := finding(b.eng, watchdog.NameHTM, "remote_workers"); !ok || f.Status != watchdog.Critical {
		t.Fatalf("at start, with no worker heard: %+v %v; want critical", f, ok)
	}
	_, stop := startWorker(t, b.url, "w1", registry(t, b.cfg), b.cfg)
	waitFor(t, 5*time.Second, "remote_workers ok once w1 joined", func() bool {
		f, ok := finding(b.eng, watchdog.NameHTM, "remote_workers")
		return ok && f.Status == watchdog.OK
	})
	stop()
	waitFor(t, 5*time.Second, "remote_workers critical once w1 left", func() bool {
		f, ok := finding(b.eng, watchdog.NameHTM, "remote_workers")
		return ok && f.Status == watchdog.Critical
	})
}
