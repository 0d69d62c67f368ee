package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"grace/engine"
)

// serveCommand is "grace serve": the engine headless with its HTTP API.
func (a *app) serveCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "serve",
		Short: "Run the engine headless with its HTTP API (api.listen, 127.0.0.1:7420 by default)",
		Long: `Run the engine headless: the store, the engine, the demo cortex when
cortex.enabled, and the HTTP API on api.listen. Logs go to stderr.
SIGINT or SIGTERM shuts down gracefully: requests in flight finish, the
engine stops, the store closes. SIGHUP reloads who may use the API (the
identities section, or api.token without one) from the config file and
the environment, on the record as access_changed: a removed token is
refused at once and its event streams end. A config that does not load
is refused and the identities in use stay; other settings take effect at
the next start.`,
		Args: cobra.NoArgs,
		RunE: a.runServe,
	}
}

func (a *app) runServe(cmd *cobra.Command, _ []string) error {
	cfg, err := a.config(cmd)
	if err != nil {
		return err
	}
	log := newLogger(a.stderr, cfg.Log.Level, noFloor)
	ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)

	sys, err := startSystem(ctx, cfg, log, systemOptions{RequireAPI: true, ConfigFile: configFileUsed(a.configFile)})
	if err != nil {
		if stoppedWhileStarting(ctx, cmd.Context()) {
			log.Info("stopped while starting", "cause", "signal", "interrupted", err)
			return nil
		}
		return err
	}
	log.Info("grace serving", "db", cfg.DB, "api", sys.apiAddr, "cortex", cfg.Cortex.Enabled)
	var serveErr error
wait:
	for {
		select {
		case <-ctx.Done():
			log.Info("shutting down", "cause", "signal")
			break wait
		case serveErr = <-sys.serveErr:
			break wait
		case <-hup:
			a.reloadAccess(ctx, cmd, sys, log)
		}
	}
	stop()
	sys.stop()
	if serveErr != nil {
		return fmt.Errorf("HTTP API: %w", serveErr)
	}
	return nil
}

// reloadAccess reloads the API's identities (SIGHUP): the config is read
// again as at start (file < environment < --set), and the handler given
// its identities, or its local token when it has none. A config that does
// not load, or that would leave an API beyond loopback without identities,
// is refused, logged, and changes nothing. The change goes on the record.
func (a *app) reloadAccess(ctx context.Context, cmd *cobra.Command, sys *system, log *slog.Logger) {
	source := "the defaults and environment"
	if a.configFile != "" {
		source = a.configFile
	}
	cfg, err := loadConfig(configInput{
		File: a.configFile, DB: a.db, HasDB: cmd.Flags().Changed("db"), Sets: a.sets,
		Warn: func(w string) { log.Warn("reload: " + w) },
	})
	if err != nil {
		log.Error("SIGHUP: reload refused; the identities in use are unchanged", "config", source, "err", err)
		return
	}
	if len(cfg.Identities) == 0 && !engine.LoopbackAddr(sys.apiAddr) {
		log.Error("SIGHUP: reload refused; the identities in use are unchanged",
			"err", fmt.Sprintf("the API listens on %s, beyond loopback, and the config names no identities", sys.apiAddr))
		return
	}
	access, err := prepareAccess(cfg, log)
	if err != nil {
		log.Error("SIGHUP: reload refused; the identities in use are unchanged", "config", source, "err", err)
		return
	}
	change := sys.handler.SetAccess(access.identities, access.localToken)
	log.Info("SIGHUP: identities reloaded", "config", source, "change", change.String())
	if err := sys.eng.RecordAccessChange(ctx, change, "grace serve (SIGHUP)", source); err != nil {
		log.Error("SIGHUP: record the access change", "err", err)
	}
}

// stoppedWhileStarting reports whether a start that failed was stopped by
// a signal (ctx, the signal's context, ended; parent, the command's, did
// not): a clean stop, as after starting (what had started is stopped, and
// nothing is left half done: migrations are transactions), not a failure.
func stoppedWhileStarting(ctx, parent context.Context) bool {
	return ctx.Err() != nil && parent.Err() == nil
}
