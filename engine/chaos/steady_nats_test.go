package chaos_test

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"grace/engine"
	"grace/engine/chaos"
)

// fakeRemote is a nats dispatcher's worker list as the engine's snapshot
// reads it (Deps.Remote), fixed by the test.
type fakeRemote []engine.WorkerInfo

func (f fakeRemote) Workers(time.Time) []engine.WorkerInfo { return f }

// remoteListTarget is the isolated record with a fixed remote worker list.
type remoteListTarget struct {
	chaos.Target
	remote fakeRemote
}

func (t remoteListTarget) Deps() engine.Deps {
	d := t.Target.Deps()
	d.Remote = t.remote
	return d
}

// remoteWorkers lists n remote workers, the first unhealthy of them lost.
func remoteWorkers(n, unhealthy int) fakeRemote {
	out := make(fakeRemote, n)
	for i := range out {
		out[i] = engine.WorkerInfo{Name: fmt.Sprintf("remote-%d", i+1), Host: "host-a", Healthy: i >= unhealthy}
	}
	return out
}

// TestWorkersFullOnNATSCountsRemoteWorkers: on backend.kind nats the
// engine's own pool (the dispatcher's slots, workers.count of them, never
// lost) does not satisfy workers_full; only healthy remote workers do.
func TestWorkersFullOnNATSCountsRemoteWorkers(t *testing.T) {
	lib, err := chaos.LoadLibrary("")
	if err != nil {
		t.Fatal(err)
	}
	cfg := engine.Default()
	cfg.Backend.Kind = engine.BackendNATS
	for _, tc := range []struct {
		name   string
		remote fakeRemote
		want   string // in the error; "" for a run that starts
	}{
		{"pool slots only", nil, "0 of 8 healthy remote workers on nats"},
		{"one remote worker lost", remoteWorkers(8, 1), "7 of 8 healthy remote workers on nats"},
		{"all remote workers healthy", remoteWorkers(8, 0), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			open := func(ctx context.Context, c engine.Config, log *slog.Logger) (chaos.Target, error) {
				tg, err := openTarget(ctx, c, log)
				if err != nil {
					return nil, err
				}
				return remoteListTarget{Target: tg, remote: tc.remote}, nil
			}
			rn := &chaos.Runner{Config: cfg, Open: open, TempDir: t.TempDir(), Deadline: 2 * time.Second}
			sc := lib.Get("L2_worker_dropout_chaos")
			sc.SteadyState = []string{chaos.SteadyWorkersFull}
			res, err := rn.Run(context.Background(), sc, 1)
			if tc.want != "" {
				if err == nil || !strings.Contains(err.Error(), "steady state before the faults") || !strings.Contains(err.Error(), tc.want) {
					t.Fatalf("want the steady state before to fail with %q, got err %v", tc.want, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("run: %v", err)
			}
			notes := strings.Join(res.Notes, "\n")
			for _, when := range []string{"before", "after"} {
				if !strings.Contains(notes, "workers_full "+when+" the faults on nats: 8 healthy remote workers of 8 wanted: remote-1,") {
					t.Errorf("no workers_full %s note counting the remote workers: %q", when, res.Notes)
				}
			}
			if f := strings.Join(res.Failures, "\n"); strings.Contains(f, "remote workers") {
				t.Errorf("workers_full failed with every remote worker healthy: %v", res.Failures)
			}
		})
	}
}
