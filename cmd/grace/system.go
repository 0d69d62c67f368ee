package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"

	"grace/engine"
	"grace/engine/chaos"
	"grace/engine/clock"
	"grace/engine/cortex"
	"grace/engine/httpapi"
	"grace/engine/notify"
	"grace/engine/watchdog"
	"grace/engine/worker"
	"grace/store"
)

// shutdownTimeout bounds the HTTP drain on shutdown.
const shutdownTimeout = 10 * time.Second

// system is a running Grace: the store, the started engine, the demo cortex
// and the HTTP API, as serve and the console wire them. It owns their
// goroutines; stop ends them all, in reverse order of starting.
type system struct {
	cfg   engine.Config
	log   *slog.Logger
	store *store.Store
	eng   *engine.Engine
	// backend is the nats backend (backend.kind nats), else nil.
	backend *natsBackend
	// chaos is the chaos service over eng (live runs) and store (the
	// runs); stop closes it, halting a run in progress, before eng stops.
	chaos *chaos.Service
	// loop is the autonomous chaos loop (idle unless chaos.loop.enabled).
	loop *chaos.Loop

	srv     *http.Server
	handler *httpapi.Handler // the API's, when it is served
	apiAddr string           // the API's address when it is served
	// apiErr is why the API is not served although api.listen names an
	// address (the console runs without it: the port was taken).
	apiErr error
	// serveErr receives the HTTP server's error if it stops on its own.
	serveErr chan error

	// notifier tells notify.webhooks of alerts and approval requests
	// (nil without webhooks); cancelNotify stops it (notify.go).
	notifier     *notify.Notifier
	cancelNotify context.CancelFunc

	cancelCortex context.CancelFunc
	wg           sync.WaitGroup
	stopOnce     sync.Once
}

// systemOptions says how strict startSystem is about the HTTP API.
type systemOptions struct {
	// RequireAPI makes a listener that cannot be opened an error (serve).
	// Otherwise (the console) it is logged and the system runs without it.
	RequireAPI bool
	// ConfigFile is the config file read (--config, or ./config.yaml when
	// present), if any: start-up errors about its keys that the config's
	// validation cannot see (a webhook's secret_env variable unset) name
	// it as config errors do.
	ConfigFile string
}

// startSystem opens the API listener (first, so that a taken port fails
// before anything is written: no database, no token file), opens the
// store, kills what exec handlers of a previous process on the store that
// was killed outright left running (claimHandlerOwner), makes sure there
// is an API token, starts the engine, serves the API and starts the cortex
// when cortex.enabled; with notify.webhooks, the notifier follows the
// engine's events from before it starts. On error, whatever was started is
// stopped again.
func startSystem(ctx context.Context, cfg engine.Config, log *slog.Logger, opts systemOptions) (_ *system, err error) {
	s := &system{cfg: cfg, log: log, serveErr: make(chan error, 1)}
	var ln net.Listener
	defer func() {
		if err != nil {
			if ln != nil {
				ln.Close()
			}
			s.stop()
		}
	}()
	if cfg.API.Listen == "" {
		log.Info("HTTP API disabled (api.listen is empty)")
	} else {
		var lerr error
		if ln, lerr = net.Listen("tcp", cfg.API.Listen); lerr != nil {
			if opts.RequireAPI {
				if h := liveHolder(cfg.DB); h != nil && errors.Is(lerr, syscall.EADDRINUSE) {
					// Most often this very command started twice: say so, as
					// a second serve on another port is told.
					return nil, fmt.Errorf("HTTP API on %s: %w; the database is in use by another Grace process too: %s (is it already running?)",
						cfg.API.Listen, lerr, h.Who())
				}
				return nil, fmt.Errorf("HTTP API on %s: %w", cfg.API.Listen, lerr)
			}
			log.Warn("HTTP API not started; running without it", "listen", cfg.API.Listen, "err", lerr)
			s.apiErr = lerr
			ln = nil
		}
	}
	if cfg.Backend.Kind != engine.BackendNATS { // handlers run here: their programs must
		if err := checkHandlerPrograms(cfg); err != nil {
			return nil, err
		}
	}
	if err := newNotifier(s, opts.ConfigFile); err != nil {
		return nil, err
	}
	holder := "grace console"
	if opts.RequireAPI {
		holder = "grace serve"
	}
	if ln != nil {
		holder += ", API http://" + ln.Addr().String()
	}
	if s.store, err = openEngineStore(ctx, cfg, holder, log); err != nil {
		return nil, err
	}
	// Ours alone now that the store is locked, and before recovery queues
	// again what was running.
	leftovers := claimHandlerOwner(storeOwner(cfg.DB), log)
	var access apiAccess
	if ln != nil {
		if access, err = prepareAccess(cfg, log); err != nil {
			return nil, err
		}
	}
	if s.backend, err = startBackend(ctx, cfg, s.store, log); err != nil {
		return nil, err
	}
	var watched []watchdog.Component
	if s.notifier != nil {
		watched = append(watched, s.notifier.Component()) // failing webhooks raise an alert
	}
	if s.eng, err = newEngineOn(cfg, s.store, log, s.backend, watched...); err != nil {
		return nil, err
	}
	if err = s.eng.RecordLeftoverHandlers(ctx, leftovers); err != nil {
		return nil, err
	}
	s.startNotifier(ctx)
	// The engine runs until stop, not until ctx ends: on a signal the HTTP
	// API drains first, then the engine stops, then the store closes.
	if err = s.eng.Start(context.WithoutCancel(ctx)); err != nil {
		return nil, fmt.Errorf("start engine: %w", err)
	}
	var lib *chaos.Library
	if s.chaos, lib, err = newChaosService(cfg, s.store, log, chaosServiceOptions{main: s.eng}); err != nil {
		return nil, fmt.Errorf("chaos service: %w", err)
	}
	if s.loop, err = chaos.NewLoop(cfg.Chaos.Loop, chaos.LoopDeps{Library: lib, Runner: s.chaos, Store: s.store,
		Governor: s.eng, Clock: clock.Real{}, Logger: log, DataDir: filepath.Dir(cfg.DB)}); err != nil {
		return nil, fmt.Errorf("chaos loop: %w", err)
	}
	s.chaos.SetLoopState(s.loop.State)
	if err = s.loop.Start(ctx); err != nil {
		return nil, fmt.Errorf("chaos loop: %w", err)
	}
	if ln != nil {
		s.serve(ln, access)
		ln = nil // owned by the server now
	}
	if cfg.Cortex.Enabled {
		s.startCortex(ctx)
	}
	return s, nil
}

// serve runs the HTTP API on ln until stop. Refused requests go on the
// record through the engine.
func (s *system) serve(ln net.Listener, access apiAccess) {
	a := s.cfg.API
	// At most api.max_connections open; at the cap the longest-idle
	// keep-alive connection makes room for a new one (the server tells
	// the listener which are idle: Options.Connections).
	limited := httpapi.LimitListener(ln, a.MaxConnections)
	h := httpapi.NewHandler(s.eng, httpapi.Options{
		Identities:            access.identities,
		Token:                 access.localToken,
		MaxBodyBytes:          a.MaxBodyBytes,
		WriteTimeout:          a.WriteTimeout,
		MaxStreams:            a.MaxStreams,
		MaxStreamsPerIdentity: a.MaxStreamsPerIdentity,
		Logger:                s.log,
		Ready:                 s.ready,
		Refusals:              s.eng,
		Chaos:                 s.chaos, // set before serve: startSystem fails without it
		Store:                 s.storeFigures,
		Connections:           limited,
	})
	s.handler = h
	s.srv = httpapi.NewServerWith(h, s.log, httpapi.Timeouts{
		ReadHeader: a.ReadHeaderTimeout, Read: a.ReadTimeout, Write: a.WriteTimeout, Idle: a.IdleTimeout,
	})
	s.apiAddr = ln.Addr().String()
	s.log.Info("HTTP API listening", "addr", s.apiAddr)
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		if err := s.srv.Serve(limited); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("HTTP API stopped", "err", err)
			s.serveErr <- err
		}
	}()
}

// storeFigures are the store's totals and file sizes, for /metrics.
func (s *system) storeFigures() httpapi.StoreFigures {
	st := s.store.Stats()
	return httpapi.StoreFigures{GroupCommits: st.Batches, Changes: st.Changes, Records: st.Records,
		FailedBatches: st.FailedBatches, IndexLag: st.IndexLag, FileBytes: s.store.FileSizes()}
}

// ready answers /readyz: the engine's readiness, each watched component's,
// and the index lag.
func (s *system) ready() (bool, map[string]string) {
	snap := s.eng.Snapshot()
	checks := map[string]string{"store": "ok", "engine": "ok", "index_lag": strconv.FormatInt(s.store.IndexLag(), 10)}
	if !snap.Ready {
		checks["engine"] = "not ready"
	}
	addComponentChecks(checks, snap.Health)
	return snap.Ready, checks
}

// startCortex runs the demo load generator until stop.
func (s *system) startCortex(ctx context.Context) {
	cctx, cancel := context.WithCancel(ctx)
	s.cancelCortex = cancel
	cx := cortex.New(s.cfg.Cortex, s.eng, cortex.Options{Clock: clock.Real{}, Logger: s.log})
	s.log.Info("demo cortex generating load", "rate", s.cfg.Cortex.Rate)
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		if err := cx.Run(cctx); err != nil && !errors.Is(err, context.Canceled) {
			s.log.Error("cortex stopped", "err", err)
		}
	}()
}

// stop shuts down in reverse order: the cortex, the HTTP API (draining
// requests in flight, up to shutdownTimeout), the engine, the notifier
// (a webhook request in flight gets notify.DefaultShutdownGrace), the
// store. It is safe to call more than once and on a partly started system.
func (s *system) stop() {
	s.stopOnce.Do(func() {
		if s.cancelCortex != nil {
			s.cancelCortex()
		}
		if s.srv != nil {
			ctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
			if err := s.srv.Shutdown(ctx); err != nil {
				s.log.Warn("HTTP API drain cut short", "err", err)
				_ = s.srv.Close()
			}
			cancel()
		}
		s.wg.Wait()
		if s.loop != nil {
			s.loop.Stop()
		}
		if s.chaos != nil {
			s.chaos.Close()
		}
		if s.eng != nil {
			s.eng.Stop()
		}
		s.stopNotifier()
		s.backend.stop()
		if s.store != nil {
			if err := s.store.Close(); err != nil {
				s.log.Error("close store", "err", err)
			}
		}
		if s.eng != nil {
			s.log.Info("stopped")
		}
	})
}

// checkHandlerPrograms refuses exec handlers whose program cannot be run
// on this machine, before anything is written: each of their intents
// would fail.
func checkHandlerPrograms(cfg engine.Config) error {
	reg, err := worker.NewRegistry(cfg.Handlers, worker.Options{Clock: clock.Real{}})
	if err == nil {
		err = reg.CheckPrograms()
	}
	if err != nil {
		return fmt.Errorf("handlers: %w", err)
	}
	return nil
}

// liveHolder names the live process that holds the database at path open
// read-write, as its lock file says, or nil when the file names none that
// still runs. It changes nothing and takes no lock: the file is read, never
// created, and the process named only asked whether it exists.
func liveHolder(path string) *store.InUseError {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil
	}
	b, err := os.ReadFile(abs + ".lock")
	if err != nil {
		return nil
	}
	var h store.InUseError
	if json.Unmarshal(b, &h) != nil || h.PID <= 0 || h.PID == os.Getpid() {
		return nil
	}
	p, err := os.FindProcess(h.PID)
	if err != nil {
		return nil
	}
	if err := p.Signal(syscall.Signal(0)); err != nil && !errors.Is(err, syscall.EPERM) {
		return nil // a holder killed outright leaves its note behind
	}
	return &h
}
