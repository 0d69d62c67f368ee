package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"os/user"
	"syscall"

	"github.com/spf13/cobra"

	"grace/tui"
)

// consoleCommand is "grace console" (and "grace" alone): the console on an
// embedded engine that also serves the HTTP API.
func (a *app) consoleCommand() *cobra.Command {
	var (
		readOnly bool
		attach   string
	)
	cmd := &cobra.Command{
		Use:   "console",
		Short: "Open the console on an embedded engine (the default command)",
		Long: `Open the console on an embedded engine. The engine also serves the HTTP
API on api.listen (unless it is empty), so agents can submit while you
watch; if the port is taken the console runs without it and says so in
the log. Logs go to log.file in the data folder, never to the terminal.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if attach != "" {
				return &exitError{code: exitUsage, err: errors.New("console --attach: not available yet (issue 7); run the console on the database instead")}
			}
			return a.runConsole(cmd, readOnly)
		},
	}
	cmd.Flags().BoolVar(&readOnly, "readonly", false, "watch only: approve and deny are disabled")
	cmd.Flags().StringVar(&attach, "attach", "", "attach to a running grace serve at this URL (not available yet)")
	return cmd
}

func (a *app) runConsole(cmd *cobra.Command, readOnly bool) error {
	cfg, err := a.config(cmd)
	if err != nil {
		return err
	}
	// The log file is created on the first line logged, so that a start
	// that fails (say, on a file that is not our database) leaves nothing.
	var logOut *lazyFile
	if p := logPath(cfg); p != "" {
		logOut = &lazyFile{path: p}
		defer logOut.Close()
	}
	log := newLogger(io.Discard, cfg.Log.Level, 0)
	if logOut != nil {
		log = newLogger(logOut, cfg.Log.Level, 0)
	}
	ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer stop()

	sys, err := startSystem(ctx, cfg, log, systemOptions{RequireAPI: false})
	if err != nil {
		return err
	}
	defer sys.stop()
	log.Info("console started", "db", cfg.DB, "api", sys.apiAddr, "readonly", readOnly)
	err = tui.Run(ctx, sys.eng, tui.Options{
		Operator: operatorName(),
		ReadOnly: readOnly,
		Refresh:  cfg.Console.Refresh,
		Logger:   log,
	})
	if err != nil {
		log.Error("console ended with an error", "err", err)
		return fmt.Errorf("console: %w", err)
	}
	return nil
}

// operatorName is who approves and denies from this terminal: $USER, else
// the account name, else "operator".
func operatorName() string {
	if u := os.Getenv("USER"); u != "" {
		return u
	}
	if u, err := user.Current(); err == nil && u.Username != "" {
		return u.Username
	}
	return "operator"
}
