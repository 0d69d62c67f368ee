package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"grace/engine"
	"grace/engine/httpapi"
)

// chaosHaltWait bounds how long an interrupted remote run is waited for
// once the server has been asked to halt it.
const chaosHaltWait = 30 * time.Second

// runChaosRemote runs req on the server at --server (else api.server) when
// one answers, following its progress to the end and printing what a
// local run prints, with the same exit code (1 when a scenario failed).
// handled is false when the run should go locally instead: no server is
// configured, none answers (connection refused), or the one that answers
// has no chaos service; sayLocal notes then that the run goes locally. An
// interrupt asks the server to halt the run, then waits (up to 30 s) for
// it to be rolled back and stored.
func (a *app) runChaosRemote(cmd *cobra.Command, req engine.ChaosRequest, sayLocal bool) (handled bool, err error) {
	cfg, err := a.config(cmd)
	if err != nil {
		return true, err
	}
	url := a.serverURL(cfg)
	if url == "" {
		return false, nil
	}
	tok, err := clientToken(cfg)
	if err != nil {
		return true, err
	}
	c := httpapi.NewClient(url, tok, &http.Client{Timeout: clientTimeout})
	c.Operator = operatorName()
	req.Operator = c.Operator // as intent approve names it; a server with identities records the token's
	ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if keys := engineSets(a.sets); len(keys) > 0 {
		// An override of the engine's config (a safeguard switched off,
		// say) would not reach the server's scenarios: running them there
		// would answer another question than the one asked.
		_, err := c.ChaosStatus(ctx)
		if !errors.Is(err, syscall.ECONNREFUSED) && !errors.Is(err, engine.ErrChaosUnavailable) {
			return true, usageErrorf("chaos run: --set %s would not reach the server at %s, whose scenarios run with its own config; "+
				"nothing was run (change the server's config and reload it, or stop the server to run them here with --set)", strings.Join(keys, ", --set "), url)
		}
	}

	run, err := c.StartChaos(ctx, req)
	var re *engine.ChaosRequestError
	switch {
	case req.Live && (errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, engine.ErrChaosUnavailable)):
		// A live run needs the server's engine: never fall back to a local run.
		return true, usageErrorf("chaos run --live: no grace serve with chaos answered at %s; nothing was run", url)
	case errors.Is(err, syscall.ECONNREFUSED):
		if sayLocal {
			a.notef("no server at %s; running locally, each scenario against an isolated engine", url)
		}
		return false, nil
	case errors.Is(err, engine.ErrChaosUnavailable):
		if sayLocal {
			a.notef("the server at %s has no chaos service; running locally, each scenario against an isolated engine", url)
		}
		return false, nil
	case errors.As(err, &re):
		return true, usageErrorf("chaos run: %s: %s", re.Field, re.Reason)
	case errors.Is(err, engine.ErrChaosBusy):
		return true, fmt.Errorf("chaos run on %s: %w (grace chaos halt stops it)", url, err)
	case a.tokenRefused(url, err) != nil:
		return true, a.tokenRefused(url, err)
	case err != nil:
		return true, fmt.Errorf("chaos run on %s: %w", url, err)
	}
	a.notef("chaos run %s started on %s (%d scenarios)", run.RunID, url, len(run.Requested))

	follow := httpapi.ChaosFollow{}
	if !a.json {
		follow.Progress = a.printChaosProgress
	}
	id := run.RunID
	run, err = c.FollowChaos(ctx, id, follow)
	if err != nil && ctx.Err() != nil && cmd.Context().Err() == nil {
		// Interrupted here: halt the run there, as a local run halts.
		run, err = a.haltRemoteRun(cmd.Context(), c, id, follow)
	}
	var answered *httpapi.Error
	if err != nil && ctx.Err() == nil && !errors.As(err, &answered) {
		// The server went away mid-run: say that the run's end was not
		// seen, and where it is, rather than a bare transport error.
		return true, fmt.Errorf("chaos run %s on %s: lost the server before the run ended, so its outcome is not known here (%w); "+
			"grace chaos history on the server's data folder shows it: halted when the server shut down, interrupted when it crashed", id, url, err)
	}
	if err != nil {
		return true, fmt.Errorf("chaos run on %s: %w", url, err)
	}
	return true, a.reportChaosRun(run)
}

// haltRemoteRun asks the server to halt the run id and waits for it to
// end.
func (a *app) haltRemoteRun(ctx context.Context, c *httpapi.Client, id string, follow httpapi.ChaosFollow) (engine.ChaosRun, error) {
	ctx, cancel := context.WithTimeout(ctx, chaosHaltWait)
	defer cancel()
	a.notef("interrupted: halting chaos run %s on %s", id, c.BaseURL())
	if _, err := c.HaltChaos(ctx, "", "interrupted: grace chaos run at the command line"); err != nil {
		return engine.ChaosRun{}, fmt.Errorf("halt run %s: %w", id, err)
	}
	return c.FollowChaos(ctx, id, follow)
}

// reportChaosRun prints a finished run as a local run is printed (--json:
// the run, whose run_id and scenarios keep the DESIGN.md shape) and
// returns the local run's verdict (chaosRunVerdict), which makes the exit
// code.
func (a *app) reportChaosRun(run engine.ChaosRun) error {
	if a.json {
		if err := a.writeJSON(run); err != nil {
			return err
		}
	} else {
		for _, res := range run.Scenarios {
			a.printChaosResult(res)
		}
	}
	return chaosRunVerdict(run, !a.json, a.stdout)
}

// notef writes a "grace: " notice on stderr unless --json.
func (a *app) notef(format string, args ...any) {
	if !a.json {
		fmt.Fprintf(a.stderr, "grace: "+format+"\n", args...)
	}
}

// engineSets returns the --set overrides (key=value, as given) of keys
// that configure an engine, not the CLI's own reach of it (api, db, log).
func engineSets(sets []string) []string {
	var out []string
	for _, kv := range sets {
		key, _, _ := strings.Cut(kv, "=")
		section, _, _ := strings.Cut(strings.ToLower(strings.TrimSpace(key)), ".")
		switch section {
		case "api", "db", "log":
			continue
		}
		out = append(out, kv)
	}
	return out
}
