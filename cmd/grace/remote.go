package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"grace/engine"
	"grace/engine/httpapi"
	"grace/engine/intent"
)

// intentBackend is what the intent commands ask of an engine: a running
// server over HTTP, or the database directly through an engine that is not
// started.
type intentBackend interface {
	Submit(ctx context.Context, sub intent.Submission) (engine.SubmitResult, error)
	List(ctx context.Context, f intent.Filter) ([]intent.Intent, error)
	Approve(ctx context.Context, id, operator, reason string) (intent.Intent, error)
	Deny(ctx context.Context, id, operator, reason string) (intent.Intent, error)
}

// clientTimeout bounds one CLI request to a server.
const clientTimeout = 30 * time.Second

// serverURL is --server, else api.server.
func (a *app) serverURL(cfg engine.Config) string {
	if a.server != "" {
		return a.server
	}
	return cfg.API.Server
}

// withIntents runs fn against the server, or, when no server answers
// (connection refused) or none is configured, against the database in
// direct mode, and then says so on stderr. With identities configured,
// direct mode is for reading only. writes says whether fn changes
// anything (it opens the database read-write and words the notice).
// fn must make its call before printing anything, so that a refused
// connection can be retried directly without double output.
func (a *app) withIntents(cmd *cobra.Command, writes bool, fn func(context.Context, intentBackend) error) error {
	cfg, err := a.config(cmd)
	if err != nil {
		return err
	}
	ctx := cmd.Context()
	url := a.serverURL(cfg)
	if url != "" {
		c := httpapi.NewClient(url, clientToken(cfg), &http.Client{Timeout: clientTimeout})
		c.Operator = operatorName()
		err := fn(ctx, c)
		if !errors.Is(err, syscall.ECONNREFUSED) {
			var he *httpapi.Error
			if errors.As(err, &he) && he.Code == httpapi.CodeUnauthorized {
				return fmt.Errorf("server at %s refused the API token (set api.token, or use the data folder's %s): %w", url, tokenFileName, err)
			}
			return err
		}
	}
	if writes && len(cfg.Identities) > 0 {
		// With identities, who may change what is the API's to decide: a
		// direct write would name its operator or actor unchecked.
		where := url
		if where == "" {
			where = "(api.server is empty)"
		}
		return fmt.Errorf("no server answers at %s and identities are configured: changes go through the HTTP API only (start grace serve)", where)
	}
	log := newLogger(a.stderr, cfg.Log.Level, slog.LevelWarn)
	st, err := openStore(ctx, cfg, !writes, log)
	if err != nil {
		return err
	}
	defer st.Close()
	eng, err := newEngine(cfg, st, log)
	if err != nil {
		return err
	}
	if err := fn(ctx, eng); err != nil {
		return err
	}
	where := "no server at " + url
	if url == "" {
		where = "no server configured (api.server)"
	}
	if writes {
		fmt.Fprintf(a.stderr, "grace: %s; wrote to DB directly — it runs when an engine starts\n", where)
	} else {
		fmt.Fprintf(a.stderr, "grace: %s; read the DB directly\n", where)
	}
	return nil
}
