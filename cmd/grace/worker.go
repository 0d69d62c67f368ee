package main

import (
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
	"unicode"

	"github.com/spf13/cobra"

	"grace/engine"
	"grace/engine/clock"
	"grace/engine/dist"
	"grace/engine/worker"
)

// maxWorkerSlots bounds --slots: each slot is a goroutine pulling tasks,
// and a count far beyond what one process can run is a typo.
const maxWorkerSlots = 1024

// maxWorkerName bounds --name, which the console lists.
const maxWorkerName = 128

// workerFlags are "grace worker"'s own flags.
type workerFlags struct {
	url   string
	name  string
	slots int
	drain time.Duration
}

// workerCommand is "grace worker": a remote worker for backend.kind nats.
func (a *app) workerCommand() *cobra.Command {
	var f workerFlags
	cmd := &cobra.Command{
		Use:   "worker",
		Short: "Run a worker process that pulls released tasks from NATS JetStream (backend.kind nats)",
		Long: `Run a worker for a control plane started with backend.kind nats: it joins
the pool, pulls released tasks from the JetStream stream (highest priority
band first), runs them with the handlers of its config (--config), heartbeats
so that the console lists it with its host, and reports each result to the
control plane, which records it. The control plane must be running first
(it creates the stream).

A handler that has not returned workers.abandon_after after it was told to
stop (its timeout ran out, the control plane cancelled it) is abandoned: its
slot takes other tasks, and the control plane fails its intent without a
retry (safeguard handler_abandonment).

SIGINT or SIGTERM stops pulling, lets running tasks finish for up to --drain,
gives back those that do not, and exits (waiting at most abandon_after for
handlers that ignore being cancelled). A finished task's result that could
not be delivered by the end of --drain (NATS unreachable) is given up: the
task is delivered again after backend.nats.ack_wait.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return a.runWorker(cmd, f) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.url, "nats", "", "NATS server URL, comma-separated for a cluster (default backend.nats.url unless embedded)")
	fl.StringVar(&f.name, "name", "", "worker name, unique among live workers: refused while another live worker has it (default <host>-<pid>)")
	fl.IntVar(&f.slots, "slots", 1, "tasks run at once (1 to 1024)")
	fl.DurationVar(&f.drain, "drain", 10*time.Second, "on SIGINT/SIGTERM, how long running tasks may finish before they are given back")
	return cmd
}

func (a *app) runWorker(cmd *cobra.Command, f workerFlags) error {
	cfg, err := a.config(cmd)
	if err != nil {
		return err
	}
	url, key := f.url, "--nats"
	if url == "" && cfg.Backend.NATS.URL != engine.NATSEmbedded {
		url, key = cfg.Backend.NATS.URL, "backend.nats.url"
	}
	switch {
	case url == "":
		return usageErrorf("grace worker needs --nats URL (backend.nats.url is %q)", cfg.Backend.NATS.URL)
	case !strings.HasPrefix(url, "nats://") && !strings.HasPrefix(url, "tls://"):
		return usageErrorf("--nats %q must be a nats:// URL", shownNATSURL(url))
	case f.slots < 1 || f.slots > maxWorkerSlots:
		return usageErrorf("--slots (%d) must be 1 to %d", f.slots, maxWorkerSlots)
	case len(f.name) > maxWorkerName || strings.IndexFunc(f.name, func(r rune) bool { return !unicode.IsPrint(r) }) >= 0:
		return usageErrorf("--name %s must be at most %d characters of printable text", quoteClip(f.name, maxWorkerName), maxWorkerName)
	case f.drain < 0:
		return usageErrorf("--drain (%v) must not be negative", f.drain)
	}
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "unknown-host"
	}
	name := f.name
	if name == "" {
		name = fmt.Sprintf("%s-%d", host, os.Getpid())
	}
	log := newLogger(a.stderr, cfg.Log.Level, noFloor).With("worker", name)
	reg, err := worker.NewRegistry(cfg.Handlers, worker.Options{Clock: clock.Real{}})
	if err == nil {
		err = reg.CheckPrograms() // this process runs them
	}
	if err != nil {
		return fmt.Errorf("handlers: %w", err)
	}
	// Before any task is taken: what a worker of this plane killed outright
	// left running must not run beside its task's rerun.
	claimHandlerOwner(workerOwner(url), log)
	ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	nc, err := dialNATS(url, key, "grace-worker-"+name, log)
	if err != nil {
		return err
	}
	defer nc.Close()
	w, err := dist.NewWorker(ctx, nc, dist.WorkerOptions{
		Name: name, Host: host, Handlers: reg, Slots: f.slots, HeartbeatInterval: cfg.Backend.NATS.HeartbeatInterval,
		Drain: f.drain, AbandonAfter: cfg.HandlerAbandonAfter(), Scrub: engine.ErrorScrubber(cfg.Masking.Fields), Logger: log,
	})
	if err != nil {
		if stoppedWhileStarting(ctx, cmd.Context()) {
			// Stopped while it looked for the control plane's queues (a
			// slow or silent NATS): a clean stop, as for serve; no task
			// was taken.
			log.Info("stopped while starting", "cause", "signal", "interrupted", err)
			return nil
		}
		return err
	}
	log.Info("worker running", "nats", shownNATSURL(nc.ConnectedUrl()), "host", host, "slots", f.slots)
	if err := w.Run(ctx); errors.Is(err, dist.ErrNameInUse) {
		return fmt.Errorf("%w; choose another --name, or stop that worker first", err)
	} else if err != nil && !errors.Is(err, ctx.Err()) {
		return err
	}
	if n := w.Runaways(); n > 0 {
		log.Warn("worker stopped with abandoned handlers still running: they end with this process", "runaway_handlers", n)
	}
	log.Info("worker stopped")
	return nil
}
