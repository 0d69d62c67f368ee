package chaos_test

import (
	"context"
	"log/slog"

	"grace/engine"
	"grace/engine/chaos"
	"grace/engine/clock"
	"grace/store"
)

// storeTarget is an isolated engine's record on a real SQLite store, as
// cmd/grace opens it.
type storeTarget struct {
	*store.Store
	log *slog.Logger
}

// openTarget is the tests' Runner.Open.
func openTarget(ctx context.Context, cfg engine.Config, log *slog.Logger) (chaos.Target, error) {
	st, err := store.Open(ctx, cfg.DB, store.Options{Synchronous: cfg.Store.Synchronous, IndexInterval: cfg.Store.IndexInterval,
		Logger: log, Clock: clock.Real{}})
	if err != nil {
		return nil, err
	}
	return storeTarget{Store: st, log: log}, nil
}

func (t storeTarget) Deps() engine.Deps {
	return engine.Deps{Store: t.Store, Journal: t.Store, Searcher: t.Store, Auditor: t, Clock: clock.Real{}, Logger: t.log}
}

func (t storeTarget) VerifyAudit(ctx context.Context) (engine.AuditReport, error) {
	rep, err := t.Store.VerifyAudit(ctx)
	return engine.AuditReport{OK: rep.OK, Entries: rep.Entries, FirstBroken: rep.FirstBroken, Problem: rep.Problem}, err
}
