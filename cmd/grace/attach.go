package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"grace/engine"
	"grace/engine/httpapi"
	"grace/tui"
)

// runAttached runs the console against the engine of a running grace
// serve at rawURL, through the HTTP API. It first asks who the token is:
// an unknown token or an agent's is refused before the terminal is taken;
// a viewer's opens the console read-only; a configured identity approves
// under its own name, the local token under the login name.
func (a *app) runAttached(cmd *cobra.Command, rawURL string, readOnly bool) error {
	cfg, err := a.config(cmd)
	if err != nil {
		return err
	}
	if err := checkServerURL("--attach", rawURL); err != nil {
		return err
	}
	var logOut *lazyFile
	if p := logPath(cfg); p != "" {
		logOut = &lazyFile{path: p}
		defer logOut.Close()
	}
	log := consoleLogger(cfg, logOut)
	ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer stop()

	tok, err := clientToken(cfg)
	if err != nil {
		return err
	}
	c := httpapi.NewClient(rawURL, tok, &http.Client{Timeout: clientTimeout})
	c.Operator = operatorName()
	wctx, cancel := context.WithTimeout(ctx, clientTimeout)
	who, err := c.WhoAmI(wctx)
	cancel()
	var he *httpapi.Error
	switch {
	case errors.As(err, &he) && he.Code == httpapi.CodeUnauthorized:
		return fmt.Errorf("attach to %s: the server refused the API token (set api.token or GRACE_API_TOKEN to an identity's token): %w", rawURL, err)
	case err != nil:
		return fmt.Errorf("attach to %s: %w", rawURL, err)
	case who.Role == engine.RoleAgent:
		return fmt.Errorf("attach to %s: the token is the agent %s's; the console needs an operator's or a viewer's", rawURL, who.Name)
	}
	// Said as the embedded console says it, once the token is known to
	// open a console (it failed in the terminal library: "console: run
	// console: could not open a new TTY").
	if err := checkTerminal(); err != nil {
		return err
	}
	operator := who.Name
	if who.Local {
		operator = operatorName()
	}
	if who.Role != engine.RoleOperator {
		readOnly = true
	}
	log.Info("console attached", "server", rawURL, "identity", who.Name, "role", who.Role, "readonly", readOnly)
	err = tui.Run(ctx, httpapi.NewRemote(c), consoleOptions(cfg, operator, readOnly, log))
	if err != nil {
		log.Error("console ended with an error", "err", err)
		return fmt.Errorf("console: %w", err)
	}
	return nil
}
