package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"

	"grace/engine"
	"grace/engine/chaos"
	"grace/engine/clarity"
	"grace/engine/clock"
	"grace/engine/intent"
	"grace/store"
)

// chaosTarget is an isolated chaos engine's record: a SQLite store of its
// own at the run's cfg.DB (chaos.Target).
type chaosTarget struct {
	st  *store.Store
	log *slog.Logger
}

var _ chaos.Target = chaosTarget{}

// openChaosTarget is the runner's opener (chaos.Runner.Open). On
// backend.kind nats the isolated engine runs on a nats backend of its own
// (chaos_nats.go).
func openChaosTarget(ctx context.Context, cfg engine.Config, log *slog.Logger) (chaos.Target, error) {
	st, err := openStore(ctx, cfg, false, log)
	if err != nil {
		return nil, err
	}
	if cfg.Backend.Kind == engine.BackendNATS {
		return openChaosNATS(ctx, cfg, st, log)
	}
	return chaosTarget{st: st, log: log}, nil
}

// Deps gives the isolated engine the store, as newEngine does.
func (t chaosTarget) Deps() engine.Deps {
	return engine.Deps{Store: t.st, Journal: t.st, Searcher: t.st, Auditor: storeAuditor{t.st}, Clock: clock.Real{}, Logger: t.log}
}

// Search reads the isolated record's narratives.
func (t chaosTarget) Search(ctx context.Context, q clarity.Query) ([]clarity.Entry, error) {
	return t.st.Search(ctx, q)
}

// Get reads one intent of the isolated record.
func (t chaosTarget) Get(ctx context.Context, id string) (intent.Intent, error) {
	return t.st.Get(ctx, id)
}

// List reads the isolated record's intents.
func (t chaosTarget) List(ctx context.Context, f intent.Filter) ([]intent.Intent, error) {
	return t.st.List(ctx, f)
}

// VerifyAudit verifies the isolated record's audit chain.
func (t chaosTarget) VerifyAudit(ctx context.Context) (engine.AuditReport, error) {
	return storeAuditor{t.st}.VerifyAudit(ctx)
}

// Close closes the isolated store.
func (t chaosTarget) Close() error { return t.st.Close() }

// chaosServiceOptions are what newChaosService varies by caller.
type chaosServiceOptions struct {
	// main is the served engine (nil for grace chaos run).
	main *engine.Engine
	// onProgress prints progress (grace chaos run).
	onProgress func(engine.ChaosProgress)
	// engineLog receives the isolated engines' logs (default: log).
	engineLog *slog.Logger
}

// newChaosService builds the chaos service over st (the data folder's
// store, which keeps the runs) with cfg's library and switches. Scenario
// files refused by the loader are logged as warnings.
func newChaosService(cfg engine.Config, st *store.Store, log *slog.Logger, o chaosServiceOptions) (*chaos.Service, *chaos.Library, error) {
	lib, err := chaos.LoadLibrary(cfg.Chaos.ScenariosDir)
	if err != nil {
		return nil, nil, err
	}
	for _, r := range lib.Refused {
		log.Warn("chaos scenario refused; the others load", "err", r)
	}
	svc, err := chaos.NewService(chaos.ServiceOptions{
		Runner:          &chaos.Runner{Config: cfg, Open: openChaosTarget, Logger: cmp.Or(o.engineLog, log)},
		Library:         lib,
		Store:           st,
		Main:            o.main,
		DataDir:         filepath.Dir(cfg.DB),
		KeepRuns:        cfg.Chaos.KeepRuns,
		AbortOnCritical: cfg.Chaos.AbortOnCritical,
		OnProgress:      o.onProgress,
		Logger:          log,
	})
	if err != nil {
		return nil, nil, err
	}
	return svc, lib, nil
}

// chaosRunningDir is where a local chaos run announces itself: a file
// named by its process ID holding the run ID, so that a local grace chaos
// halt can find it and interrupt it (SIGINT).
func chaosRunningDir(cfg engine.Config) string {
	return filepath.Join(filepath.Dir(cfg.DB), "chaos", "running")
}

// announceChaosRun writes <data>/chaos/running/<pid> holding runID and
// returns the func that removes it.
func announceChaosRun(cfg engine.Config, runID string) (func(), error) {
	dir := chaosRunningDir(cfg)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("chaos run: announce the run in %s: %w", dir, err)
	}
	p := filepath.Join(dir, strconv.Itoa(os.Getpid()))
	if err := os.WriteFile(p, []byte(runID+"\n"), 0o600); err != nil {
		return nil, fmt.Errorf("chaos run: announce the run: %w", err)
	}
	return func() {
		_ = os.Remove(p + haltNoteSuffix) // a halt that came too late to be read
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			fmt.Fprintf(os.Stderr, "grace: warning: remove %s: %v\n", p, err)
		}
	}, nil
}
