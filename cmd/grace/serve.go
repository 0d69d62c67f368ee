package main

import (
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
)

// serveCommand is "grace serve": the engine headless with its HTTP API.
func (a *app) serveCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "serve",
		Short: "Run the engine headless with its HTTP API (api.listen, 127.0.0.1:7420 by default)",
		Long: `Run the engine headless: the store, the engine, the demo cortex when
cortex.enabled, and the HTTP API on api.listen. Logs go to stderr.
SIGINT or SIGTERM shuts down gracefully: requests in flight finish, the
engine stops, the store closes.`,
		Args: cobra.NoArgs,
		RunE: a.runServe,
	}
}

func (a *app) runServe(cmd *cobra.Command, _ []string) error {
	cfg, err := a.config(cmd)
	if err != nil {
		return err
	}
	log := newLogger(a.stderr, cfg.Log.Level, 0)
	ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	sys, err := startSystem(ctx, cfg, log, systemOptions{RequireAPI: true})
	if err != nil {
		return err
	}
	log.Info("grace serving", "db", cfg.DB, "api", sys.apiAddr, "cortex", cfg.Cortex.Enabled)
	var serveErr error
	select {
	case <-ctx.Done():
		log.Info("shutting down", "cause", "signal")
	case serveErr = <-sys.serveErr:
	}
	stop()
	sys.stop()
	if serveErr != nil {
		return fmt.Errorf("HTTP API: %w", serveErr)
	}
	return nil
}
