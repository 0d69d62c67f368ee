package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"grace/engine"
	"grace/engine/intent"
	"grace/engine/worker"
	"grace/store"
)

// natsBenchWorkers and natsBenchSlots shape the nats figure: two worker
// processes with this many slots each, against as many in-process workers.
const (
	natsBenchWorkers = 2
	natsBenchSlots   = 8
	natsBenchAckWait = 2 * time.Second
)

// benchNATS measures the nats backend against the in-process one: no-op
// intents submit→completed per second with the control plane in this
// process and two "grace worker" processes (16 slots in all), the same with
// 16 in-process workers, and the failover time of a task whose worker is
// killed with SIGKILL (ack wait 2 s). exe is the grace binary run as the
// workers.
func benchNATS(ctx context.Context, dir, exe string, n int, emit func(benchResult)) error {
	cfg := engine.Default()
	cfg.Cortex.Enabled = false
	cfg.Safeguards[engine.SafeguardRateLimit] = engine.SafeguardConfig{Enabled: false}
	cfg.HTM.Capacity = n + 2
	cfg.HTM.WarnDepth, cfg.HTM.CriticalDepth = n+1, n+2
	cfg.Workers.Count = natsBenchWorkers * natsBenchSlots
	cfg.Handlers = map[string]worker.HandlerConfig{
		"default":       {Kind: worker.KindNoop},
		"schedule_task": {Kind: worker.KindSim, Latency: 200 * time.Millisecond},
	}
	cfg.Backend.NATS.AckWait = natsBenchAckWait
	cfg.Backend.NATS.HeartbeatInterval = 200 * time.Millisecond
	cfg.Backend.NATS.Listen = "127.0.0.1:0"
	log := slog.New(slog.DiscardHandler)

	memCfg := cfg
	memCfg.DB = filepath.Join(dir, "memory", "grace.db")
	memRate, err := benchBackend(ctx, memCfg, nil, log, n)
	if err != nil {
		return fmt.Errorf("memory backend: %w", err)
	}

	natsCfg := cfg
	natsCfg.DB = filepath.Join(dir, "nats", "grace.db")
	natsCfg.Backend.Kind = engine.BackendNATS
	var natsRate float64
	var failover []time.Duration
	err = withNATSControlPlane(ctx, natsCfg, log, func(b *natsBackend, eng *engine.Engine, st *store.Store) error {
		workers, err := startBenchWorkers(ctx, dir, exe, b.url, natsCfg)
		defer func() {
			for _, w := range workers {
				_ = w.Process.Kill()
				_ = w.Wait()
			}
		}()
		if err != nil {
			return err
		}
		if err := waitUntil(ctx, 20*time.Second, "two remote workers", func() bool { return healthyRemotes(b, natsBenchWorkers) }); err != nil {
			return err
		}
		if natsRate, err = submitAndDrain(ctx, eng, n); err != nil {
			return err
		}
		failover, err = benchFailover(ctx, b, eng, st, workers)
		return err
	})
	if err != nil {
		return fmt.Errorf("nats backend: %w", err)
	}
	emit(benchResult{"nats_memory_intents", memRate, "intents/s",
		fmt.Sprintf("%d no-op Tier 2 intents submit→completed, in-process backend, %d workers, every decision recorded", n, cfg.Workers.Count)})
	emit(benchResult{"nats_jetstream_intents", natsRate, "intents/s",
		fmt.Sprintf("the same through an embedded JetStream and %d grace worker processes × %d slots (publish, claim, result, ack per task)",
			natsBenchWorkers, natsBenchSlots)})
	slices.Sort(failover)
	emit(benchResult{"nats_failover_max", ms(failover[len(failover)-1]), "ms",
		fmt.Sprintf("SIGKILL of a worker → its %d task(s) completed on the other (200ms handler, ack_wait %v; worst of them)", len(failover), natsBenchAckWait)})
	return nil
}

// benchBackend runs n no-op intents through a fresh engine on cfg's store.
func benchBackend(ctx context.Context, cfg engine.Config, b *natsBackend, log *slog.Logger, n int) (float64, error) {
	if err := os.MkdirAll(filepath.Dir(cfg.DB), 0o700); err != nil {
		return 0, err
	}
	st, err := store.Open(ctx, cfg.DB, store.Options{})
	if err != nil {
		return 0, err
	}
	defer st.Close()
	eng, err := newEngineOn(cfg, st, log, b)
	if err != nil {
		return 0, err
	}
	if err := eng.Start(ctx); err != nil {
		return 0, err
	}
	defer eng.Stop()
	return submitAndDrain(ctx, eng, n)
}

// withNATSControlPlane opens the store, starts the nats backend (embedded
// server) and the engine on it, runs f, and stops them all.
func withNATSControlPlane(ctx context.Context, cfg engine.Config, log *slog.Logger, f func(*natsBackend, *engine.Engine, *store.Store) error) error {
	if err := os.MkdirAll(filepath.Dir(cfg.DB), 0o700); err != nil {
		return err
	}
	st, err := store.Open(ctx, cfg.DB, store.Options{})
	if err != nil {
		return err
	}
	defer st.Close()
	b, err := startBackend(ctx, cfg, st, log)
	if err != nil {
		return err
	}
	defer b.stop()
	eng, err := newEngineOn(cfg, st, log, b)
	if err != nil {
		return err
	}
	if err := eng.Start(ctx); err != nil {
		return err
	}
	defer eng.Stop()
	return f(b, eng, st)
}

// startBenchWorkers starts the worker processes on url with a config file
// holding cfg's handlers.
func startBenchWorkers(ctx context.Context, dir, exe, url string, cfg engine.Config) ([]*exec.Cmd, error) {
	conf := filepath.Join(dir, "worker.yaml")
	body := fmt.Sprintf(`log: {level: error}
backend:
  nats: {heartbeat_interval: %v}
handlers:
  default: {kind: noop}
  schedule_task: {kind: sim, latency: 200ms}
`, cfg.Backend.NATS.HeartbeatInterval)
	if err := os.WriteFile(conf, []byte(body), 0o600); err != nil {
		return nil, err
	}
	var cmds []*exec.Cmd
	for i := range natsBenchWorkers {
		c := exec.CommandContext(ctx, exe, "worker", "--config", conf, "--nats", url,
			"--name", fmt.Sprintf("bench-w%d", i+1), "--slots", fmt.Sprint(natsBenchSlots))
		c.Dir = dir
		if err := c.Start(); err != nil {
			return cmds, fmt.Errorf("start worker process: %w", err)
		}
		cmds = append(cmds, c)
	}
	return cmds, nil
}

func healthyRemotes(b *natsBackend, want int) bool {
	n := 0
	for _, w := range b.disp.Workers(time.Now()) {
		if w.Healthy {
			n++
		}
	}
	return n >= want
}

// submitAndDrain submits n no-op Tier 2 intents from 64 goroutines and
// returns how many per second completed, counting from the first submit.
func submitAndDrain(ctx context.Context, eng *engine.Engine, n int) (float64, error) {
	base := eng.Snapshot()
	done0 := base.Completed + base.Failed
	start := time.Now()
	if err := fanOut(64, n, func(i int) error {
		_, err := eng.Submit(ctx, intent.Submission{Type: "query_knowledge", Actor: "bench", Priority: i % 10, Payload: []byte(`{"q":"bench"}`)})
		return err
	}); err != nil {
		return 0, err
	}
	err := waitUntil(ctx, 10*time.Minute, "every intent to finish", func() bool {
		s := eng.Snapshot()
		return s.Completed+s.Failed-done0 >= uint64(n)
	})
	if err != nil {
		return 0, err
	}
	elapsed := time.Since(start)
	if s := eng.Snapshot(); s.Failed > base.Failed {
		return 0, fmt.Errorf("%d of %d no-op intents failed", s.Failed-base.Failed, n)
	}
	return float64(n) / elapsed.Seconds(), nil
}

// benchFailover submits 200ms tasks until the first worker process holds
// some, kills it with SIGKILL, and returns for each task it held how long
// after the kill the task completed on the other worker.
func benchFailover(ctx context.Context, b *natsBackend, eng *engine.Engine, st *store.Store, workers []*exec.Cmd) ([]time.Duration, error) {
	var ids []string
	for i := range 4 {
		res, err := eng.Submit(ctx, intent.Submission{Type: "schedule_task", Actor: "bench", Priority: 5,
			Payload: []byte(fmt.Sprintf(`{"job":%d}`, i))})
		if err != nil {
			return nil, err
		}
		ids = append(ids, res.Intent.ID)
	}
	var held []string
	err := waitUntil(ctx, 10*time.Second, "bench-w1 to hold a task", func() bool {
		for _, w := range b.disp.Workers(time.Now()) {
			if w.Name == "bench-w1" && w.Busy {
				held = heldBy(b, "bench-w1", ids)
				return len(held) > 0
			}
		}
		return false
	})
	if err != nil {
		return nil, err
	}
	if err := workers[0].Process.Signal(syscall.SIGKILL); err != nil {
		return nil, err
	}
	killed := time.Now()
	_ = workers[0].Wait()
	took := make([]time.Duration, 0, len(held))
	for _, id := range held {
		err := waitUntil(ctx, 30*time.Second, "the killed worker's task "+id, func() bool {
			in, err := st.Get(ctx, id)
			return err == nil && in.State == intent.StateCompleted
		})
		if err != nil {
			return nil, err
		}
		took = append(took, time.Since(killed))
	}
	return took, nil
}

// heldBy returns the intents of ids that worker's heartbeat says it runs.
func heldBy(b *natsBackend, name string, ids []string) []string {
	var out []string
	for _, key := range b.disp.Running(name) {
		id, _, _ := strings.Cut(key, "#")
		if slices.Contains(ids, id) {
			out = append(out, id)
		}
	}
	return out
}

// waitUntil polls cond every 5ms until it holds, ctx ends or limit passes.
func waitUntil(ctx context.Context, limit time.Duration, what string, cond func() bool) error {
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			return errors.New("timed out waiting for " + what)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(5 * time.Millisecond):
		}
	}
	return nil
}

// benchNATSGroup runs benchNATS with this executable as the workers.
func benchNATSGroup(ctx context.Context, dir string, n int, emit func(benchResult)) error {
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("find the grace binary for the worker processes: %w", err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	return benchNATS(ctx, dir, exe, n, emit)
}
