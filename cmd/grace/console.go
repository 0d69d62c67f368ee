package main

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"os/user"
	"runtime"
	"syscall"

	"github.com/spf13/cobra"

	"grace/engine"
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
the log, in the console (the header marks NO API; :messages has why), and
on standard error when it ends. Logs go to log.file in the data folder,
never to the terminal.

With --attach URL the same console runs against the engine of a running
"grace serve" over its HTTP API, with live updates from its event stream.
The token is api.token (GRACE_API_TOKEN), else the data folder's api.token;
approvals are recorded under the token's identity, and a viewer's token
opens the console read-only.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if attach != "" || cmd.Flags().Changed("attach") {
				return a.runAttached(cmd, attach, readOnly)
			}
			return a.runConsole(cmd, readOnly)
		},
	}
	cmd.Flags().BoolVar(&readOnly, "readonly", false, "watch only: approve, deny, review, cancel, retry, pause, resume, chaos run, halt, silence and unsilence are disabled")
	cmd.Flags().StringVar(&attach, "attach", "", "attach to the running grace serve at this URL (e.g. http://127.0.0.1:7420)")
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
	log := consoleLogger(cfg, logOut)
	ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer stop()

	// Without a terminal the console cannot run: say so before the
	// system starts and creates the database and the token.
	if err := checkTerminal(); err != nil {
		return err
	}
	sys, err := startSystem(ctx, cfg, log, systemOptions{RequireAPI: false, ConfigFile: configFileUsed(a.configFile)})
	if err != nil {
		if stoppedWhileStarting(ctx, cmd.Context()) {
			log.Info("stopped while starting", "cause", "signal", "interrupted", err)
			return nil
		}
		return err
	}
	defer sys.stop()
	log.Info("console started", "db", cfg.DB, "api", sys.apiAddr, "readonly", readOnly)
	opts := consoleOptions(cfg, operatorName(), readOnly, log)
	if sys.apiErr != nil { // said in the console as it runs, and on stderr when it ends
		opts.NoAPI = fmt.Sprintf("api.listen %s: %v", cfg.API.Listen, listenCause(sys.apiErr))
	}
	err = tui.Run(ctx, sys.consoleAPI(), opts)
	if sys.apiErr != nil {
		// Said in the log only, it went unseen: the CLI in another
		// terminal then met whatever else holds the port.
		fmt.Fprintf(a.stderr, "grace: this console ran without its HTTP API (api.listen %s: %v): the CLI and agents could not reach its engine; "+
			"stop what holds the port, or give the console another one (--set api.listen=127.0.0.1:PORT)\n", cfg.API.Listen, listenCause(sys.apiErr))
	}
	if err != nil {
		log.Error("console ended with an error", "err", err)
		return fmt.Errorf("console: %w", err)
	}
	return nil
}

// listenCause is why net.Listen failed, without the address it repeats
// ("bind: address already in use").
func listenCause(err error) error {
	if oe := (*net.OpError)(nil); errors.As(err, &oe) && oe.Err != nil {
		return oe.Err
	}
	return err
}

// checkTerminal fails when the console would find no terminal: no
// controlling terminal (/dev/tty) to draw on and read keys from, as under
// cron, systemd or a pipeline started without one.
func checkTerminal() error {
	if runtime.GOOS == "windows" {
		return nil
	}
	tty, err := os.Open("/dev/tty")
	if err != nil {
		return fmt.Errorf("the console needs a terminal (/dev/tty: %v); without one use grace serve and the other commands", unwrapPathError(err))
	}
	return tty.Close()
}

// consoleOptions are the console's options from cfg, the same embedded and
// attached.
func consoleOptions(cfg engine.Config, operator string, readOnly bool, log *slog.Logger) tui.Options {
	return tui.Options{
		Operator:  operator,
		ReadOnly:  readOnly,
		Refresh:   cfg.Console.Refresh,
		Logger:    log,
		Keys:      cfg.Console.Keys,
		PopupsOff: !cfg.Console.Popups,
	}
}

// consoleLogger logs to logOut (the log file), or nowhere: never to the
// terminal the console owns.
func consoleLogger(cfg engine.Config, logOut *lazyFile) *slog.Logger {
	if logOut == nil {
		return newLogger(io.Discard, cfg.Log.Level, noFloor)
	}
	return newLogger(logOut, cfg.Log.Level, noFloor)
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
