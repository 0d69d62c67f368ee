package main

import (
	"context"
	"log/slog"
	"os"
	"strings"

	"grace/engine"
	"grace/engine/clock"
	"grace/engine/watchdog"
	"grace/store"
)

// openStore opens the database named by db with the store section of cfg.
// A writable store creates its data folder and database on first use; a
// read-only one requires the database to exist. The store refuses a file
// that is not Grace's SQLite database without touching it, and its errors
// name the path.
//
// A read-write open takes the database's lock for as long as it is open
// (store.ErrInUse): this one, a command's, says it is brief, so that
// another command waits for it; an engine refuses to share the database
// with a running one (openEngineStore).
func openStore(ctx context.Context, cfg engine.Config, readOnly bool, log *slog.Logger) (*store.Store, error) {
	return store.Open(ctx, cfg.DB, storeOptions(cfg, readOnly, !readOnly, commandLine(), log))
}

// openEngineStore opens the database read-write for an engine that runs
// until stopped (grace serve, the console), holder saying which: while it
// runs no other process may write the database, since two engines would
// each take the other's running intents for a crash's leftovers and run
// them again.
func openEngineStore(ctx context.Context, cfg engine.Config, holder string, log *slog.Logger) (*store.Store, error) {
	return store.Open(ctx, cfg.DB, storeOptions(cfg, false, false, holder, log))
}

func storeOptions(cfg engine.Config, readOnly, brief bool, holder string, log *slog.Logger) store.Options {
	return store.Options{
		Synchronous:        cfg.Store.Synchronous,
		BatchMax:           cfg.Store.BatchMax,
		BatchWait:          cfg.Store.BatchWait,
		UpdateWait:         cfg.Store.UpdateWait,
		IndexInterval:      cfg.Store.IndexInterval,
		CheckpointInterval: cfg.Store.CheckpointInterval,
		ReadOnly:           readOnly,
		Holder:             holder,
		Brief:              brief,
		Logger:             log,
		Clock:              clock.Real{},
	}
}

// commandLine names this command for a lock's holder: "grace intent
// submit".
func commandLine() string {
	words := []string{"grace"}
	for _, a := range os.Args[1:] {
		if strings.HasPrefix(a, "-") || len(words) == 3 {
			break
		}
		words = append(words, a)
	}
	return strings.Join(words, " ")
}

// newEngine builds an engine over st that is not started: direct mode, in
// which Submit, Approve, Deny, List, Get and Search work on the database and
// the intents run when an engine starts.
func newEngine(cfg engine.Config, st *store.Store, log *slog.Logger, watched ...watchdog.Component) (*engine.Engine, error) {
	return engine.New(cfg, engine.Deps{Store: st, Journal: st, Searcher: st, Auditor: storeAuditor{st}, Clock: clock.Real{}, Logger: log,
		Components: watched})
}

// storeAuditor gives the engine the store's audit verification.
type storeAuditor struct{ st *store.Store }

// VerifyAudit runs the store's verification and reports it in the
// engine's terms.
func (a storeAuditor) VerifyAudit(ctx context.Context) (engine.AuditReport, error) {
	rep, err := a.st.VerifyAudit(ctx)
	return engine.AuditReport{
		OK: rep.OK, Entries: rep.Entries, HeadSeq: rep.HeadSeq, HeadHash: rep.HeadHash,
		Checkpoints: rep.Checkpoints, FirstBroken: rep.FirstBroken, Problem: rep.Problem,
	}, err
}
