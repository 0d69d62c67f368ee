package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"grace/engine"
	"grace/engine/httpapi"
	"grace/engine/watchdog"
)

// alertsCommand is "grace alerts": the watchdog's alert history, or the
// alerts firing, from a running server or else the database.
func (a *app) alertsCommand() *cobra.Command {
	var firing bool
	cmd := &cobra.Command{
		Use:   "alerts [--firing] [--server URL] [--json]",
		Short: "The watchdog's alerts, newest first: raised, escalated, resolved (the newest 100); silences",
		Long: `Show the watchdog's alert history, newest first: the newest 100 alerts,
each with its key (component/condition), severity and peak, how many checks
found it, whether a silence mutes it (SILENCED: until when, by whom), and
when and how it resolved; --firing shows only those firing.

Asks a running server (api.server, or --server; GET /v1/alerts), else reads
the database: the alerts the last running engine recorded. With --json:
{alerts: [...]}, a silenced one with "silenced": {id, by, ends_at}.

A silence mutes the webhooks of the alerts it matches for a while (the
watchdog still raises and records them); when it ends, what still fires is
sent once more:

  grace alerts silence MATCH --for D | --until T --reason R
  grace alerts silences [--all]
  grace alerts unsilence ID --reason R`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return a.runAlerts(cmd, firing) },
	}
	cmd.Flags().BoolVar(&firing, "firing", false, "only the alerts firing now")
	cmd.PersistentFlags().StringVar(&a.server, "server", "", "URL of a running grace serve (default: config api.server)")
	a.addJSONFlag(cmd)
	cmd.AddCommand(a.silenceCommand(), a.silencesCommand(), a.unsilenceCommand())
	return cmd
}

func (a *app) runAlerts(cmd *cobra.Command, firing bool) error {
	cfg, err := a.config(cmd)
	if err != nil {
		return err
	}
	ctx := cmd.Context()
	var als []watchdog.Alert
	served := false
	if url := a.serverURL(cfg); url != "" {
		tok, err := clientToken(cfg)
		if err != nil {
			return err
		}
		als, err = httpapi.NewClient(url, tok, &http.Client{Timeout: clientTimeout}).Alerts(ctx, firing)
		switch {
		case err == nil:
			served = true
		case errors.Is(err, syscall.ECONNREFUSED):
			fmt.Fprintf(a.stderr, "grace: no server at %s; reading the database %s\n", url, cfg.DB)
		case errors.Is(err, errors.ErrUnsupported):
			fmt.Fprintf(a.stderr, "grace: %v; reading the database %s\n", err, cfg.DB)
		default:
			if refused := a.tokenRefused(url, err); refused != nil {
				return refused
			}
			return fmt.Errorf("alerts at %s: %w", url, err)
		}
	}
	if !served {
		if als, err = storedAlerts(ctx, cfg, newLogger(a.stderr, cfg.Log.Level, slog.LevelWarn), firing); err != nil {
			return err
		}
	}
	if als == nil {
		als = []watchdog.Alert{}
	}
	if a.json {
		return a.writeJSON(httpapi.AlertsResponse{Alerts: als})
	}
	if len(als) == 0 {
		what := "no alerts on record"
		if firing {
			what = "no alerts firing"
		}
		fmt.Fprintln(a.stderr, "grace: "+what) // not a bare header
		return nil
	}
	rows := [][]string{{"FIRST SEEN", "KEY", "SEVERITY", "PEAK", "CHECKS", "STATE", "SILENCED", "SUMMARY"}}
	for _, al := range als {
		state := "firing, last seen " + stamp(al.LastSeen)
		if !al.Firing() {
			state = "resolved " + stamp(al.ResolvedAt)
			if al.Resolution != "" {
				state += ": " + clip(al.Resolution, 40)
			}
		}
		rows = append(rows, []string{stamp(al.FirstSeen), clip(al.Key, 40), al.Severity.String(), al.Peak.String(),
			strconv.Itoa(al.Count), state, silencedCell(al.Silenced), clip(oneLine(al.Summary), 72)})
	}
	a.table(rows)
	return nil
}

// storedAlerts reads the alerts the last running engine recorded in the
// configured database, opened read-only, each firing one marked with the
// stored silence that mutes it now.
func storedAlerts(ctx context.Context, cfg engine.Config, log *slog.Logger, firing bool) ([]watchdog.Alert, error) {
	st, err := openStore(ctx, cfg, true, log)
	if err != nil {
		return nil, err
	}
	defer st.Close()
	als, err := st.Alerts(ctx, watchdog.AlertQuery{Firing: firing})
	if err != nil {
		return nil, err
	}
	ss, err := st.StoredSilences(ctx, watchdog.SilenceQuery{Active: true, Limit: 10_000})
	if err != nil {
		return nil, err
	}
	watchdog.MarkSilenced(als, ss, time.Now())
	return als, nil
}
