package main

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"grace/engine"
	"grace/engine/httpapi"
)

// chaosHaltReport is what grace chaos halt did (its --json document).
type chaosHaltReport struct {
	// Server is the server's part; nil when none is configured.
	Server *chaosHaltServer `json:"server,omitempty"`
	// Local are the local chaos runs interrupted, Stale the announcements
	// of runs whose process had gone (removed).
	Local []localChaosRun `json:"local"`
	Stale []localChaosRun `json:"stale"`
	// Halted counts every run halted, on the server and here.
	Halted int `json:"halted"`
}

// chaosHaltServer is a server's part of a halt.
type chaosHaltServer struct {
	URL    string   `json:"url"`
	Halted int      `json:"halted"`
	RunIDs []string `json:"run_ids"`
	// Note says why nothing was halted there: no server answers, or it
	// has no chaos service.
	Note string `json:"note,omitempty"`
}

// chaosHaltCommand is "grace chaos halt [--reason R]".
func (a *app) chaosHaltCommand() *cobra.Command {
	var reason string
	cmd := &cobra.Command{
		Use:   "halt [--reason R]",
		Short: "Halt every chaos run at once: on the server, and local grace chaos run processes",
		Long: `Halt every chaos run at once. On the server (--server, else api.server) when
one answers: its running scenarios stop and their faults are rolled back,
on the record under your identity. And here: every grace chaos run of this
data folder (announced in <data folder>/chaos/running/<pid>) is sent an
interrupt, which halts and rolls back its run; announcements whose process
has gone are removed. Exits 0 when nothing was running, and says so.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return a.runChaosHalt(cmd, strings.TrimSpace(reason)) },
	}
	cmd.Flags().StringVar(&reason, "reason", "", "why: goes on the record with the halt")
	cmd.Flags().StringVar(&a.server, "server", "", "URL of a running grace serve (default: config api.server)")
	a.addJSONFlag(cmd)
	return cmd
}

// runChaosHalt halts on the server and locally. Local runs are halted
// even when the server part fails; the command then fails after
// reporting what it did halt.
func (a *app) runChaosHalt(cmd *cobra.Command, reason string) error {
	// Checked here as the server checks it: a reason the server refuses
	// halted the local runs anyway, and reached their record unchecked.
	if err := checkReason("chaos halt", reason); err != nil {
		return err
	}
	cfg, err := a.config(cmd)
	if err != nil {
		return err
	}
	var rep chaosHaltReport
	var errs []error
	if url := a.serverURL(cfg); url != "" {
		srv, err := a.haltOnServer(cmd, cfg, url, reason)
		if err != nil {
			errs = append(errs, err)
		}
		rep.Server = srv
	}
	local, err := haltLocalChaos(chaosRunningDir(cfg), operatorName(), reason)
	if err != nil {
		errs = append(errs, err)
	}
	rep.Local, rep.Stale = local.halted, local.stale
	if rep.Server != nil {
		rep.Halted += rep.Server.Halted
	}
	rep.Halted += len(rep.Local)
	if a.json {
		if err := a.writeJSON(rep); err != nil {
			return err
		}
	} else {
		a.printChaosHalt(rep, len(errs) > 0)
	}
	return errors.Join(errs...)
}

// haltOnServer halts the server's runs. A server that does not answer
// (connection refused) is no error: the result says so.
func (a *app) haltOnServer(cmd *cobra.Command, cfg engine.Config, url, reason string) (*chaosHaltServer, error) {
	tok, err := clientToken(cfg)
	if err != nil {
		return nil, err
	}
	c := httpapi.NewClient(url, tok, &http.Client{Timeout: clientTimeout})
	c.Operator = operatorName()
	res, err := c.HaltChaos(cmd.Context(), "", reason)
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return &chaosHaltServer{URL: url, RunIDs: []string{}, Note: "no server answers (connection refused)"}, nil
	case errors.Is(err, engine.ErrChaosUnavailable):
		return &chaosHaltServer{URL: url, RunIDs: []string{}, Note: "no chaos service on this server"}, nil
	case a.tokenRefused(url, err) != nil:
		return nil, fmt.Errorf("chaos halt: %w", a.tokenRefused(url, err))
	case err != nil:
		return nil, fmt.Errorf("chaos halt on %s: %w", url, err)
	}
	if res.RunIDs == nil {
		res.RunIDs = []string{}
	}
	return &chaosHaltServer{URL: url, Halted: res.Halted, RunIDs: res.RunIDs}, nil
}

// printChaosHalt says what was halted, and that nothing was when so;
// after a failure (the server refused, say) it claims only what it knows:
// that nothing ran here.
func (a *app) printChaosHalt(rep chaosHaltReport, failed bool) {
	if s := rep.Server; s != nil {
		switch {
		case s.Note != "":
			fmt.Fprintf(a.stdout, "server %s: %s\n", s.URL, s.Note)
		case s.Halted == 0:
			fmt.Fprintf(a.stdout, "server %s: no chaos run was running\n", s.URL)
		default:
			fmt.Fprintf(a.stdout, "server %s: halted %s\n", s.URL, strings.Join(s.RunIDs, ", "))
		}
	}
	for _, r := range rep.Local {
		fmt.Fprintf(a.stdout, "local: interrupted grace chaos run (pid %d, run %s); it halts and rolls back\n", r.PID, orDash(r.RunID))
	}
	for _, r := range rep.Stale {
		fmt.Fprintf(a.stdout, "local: removed the announcement of pid %d (run %s): the process had gone\n", r.PID, orDash(r.RunID))
	}
	switch {
	case rep.Halted == 0 && failed:
		fmt.Fprintln(a.stdout, "local: no chaos run of this data folder was running")
	case rep.Halted == 0:
		fmt.Fprintln(a.stdout, "nothing was running: no chaos run halted")
	}
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
