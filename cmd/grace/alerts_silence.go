package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"grace/engine"
	"grace/engine/httpapi"
	"grace/engine/watchdog"
)

// silenceCommand is "grace alerts silence MATCH --for D | --until T
// --reason R": mute the webhooks of the alerts MATCH matches.
func (a *app) silenceCommand() *cobra.Command {
	var forText, untilText, reason string
	cmd := &cobra.Command{
		Use:   "silence MATCH --for D | --until T --reason R [--json]",
		Short: "Mute the webhooks of the alerts MATCH matches for a while (a reason is required)",
		Long: `Silence the alerts MATCH matches on a running server (api.server, or
--server): their webhooks are not told of them until the silence ends; the
watchdog still raises and records them, grace alerts marks them SILENCED.
When the silence ends (at its time, or grace alerts unsilence), what the
webhooks missed is sent once, marked after_silence: each alert that changed
under it (raised, escalated, de-escalated) and still fires, and the
resolution of each alert they were told fired before it. Silences last
across restarts; each is on the record. At most 1000 are active at once.

MATCH is an alert key (scheduler/paused), component/* (every alert of a
component), */condition (a condition of any component), or * (every alert:
a maintenance window; quote it for the shell). --for is how long (2h, 90m,
7d), --until until when (an RFC 3339 time); one of them, at least a minute
and at most 30 days.

  grace alerts silence 'htm_orchestrator/*' --for 2h --reason "queue migration"
  grace alerts silence '*' --until 2026-03-01T06:00:00Z --reason "maintenance window"`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usageErrorf("alerts silence takes one MATCH (an alert key, component/*, */condition or '*'), got %d arguments", len(args))
			}
			match := strings.TrimSpace(args[0])
			if p := watchdog.CheckMatch(match); p != "" {
				return usageErrorf("alerts silence: MATCH %s", p)
			}
			req := engine.SilenceRequest{Match: match, Reason: strings.TrimSpace(reason)}
			forSet, untilSet := cmd.Flags().Changed("for"), cmd.Flags().Changed("until")
			switch {
			case forSet && untilSet:
				return usageErrorf("alerts silence: --for and --until go one at a time: how long (--for 2h) or until when (--until 2026-03-01T06:00:00Z)")
			case !forSet && !untilSet:
				return usageErrorf("alerts silence: --for or --until is required: how long the silence lasts (--for 2h, 90m, 7d) or until when (--until, an RFC 3339 time)")
			case forSet:
				d, err := httpapi.ParseSilenceFor(forText)
				if err != nil {
					return usageErrorf("alerts silence: --%v", err)
				}
				if d > watchdog.MaxSilence {
					return usageErrorf("alerts silence: --for %q: a silence lasts at most 30d", strings.TrimSpace(forText))
				}
				req.For = d
			default:
				t, err := time.Parse(time.RFC3339, strings.TrimSpace(untilText))
				if err != nil {
					return usageErrorf("alerts silence: --until %q: expected an RFC 3339 time like 2026-03-01T06:00:00Z", untilText)
				}
				req.Until = t
			}
			if req.Reason == "" {
				return usageErrorf("alerts silence: --reason is required (it goes on the record), as in --reason \"queue migration\"")
			}
			return a.withSilences(cmd, "silence", func(ctx context.Context, c *httpapi.Client) error {
				s, err := c.SilenceAlerts(ctx, req)
				if errors.Is(err, engine.ErrTooManySilences) {
					return fmt.Errorf("alerts silence: %w (grace alerts silences lists them; grace alerts unsilence ID --reason R ends one)", err)
				}
				if err != nil {
					return flagError("alerts silence", err)
				}
				if a.json {
					return a.writeJSON(s)
				}
				fmt.Fprintf(a.stdout, "silenced %s until %s (%s) by %s: %s\n", s.Match, stamp(s.EndsAt),
					s.EndsAt.Sub(s.CreatedAt).Round(time.Second), s.By, s.ID)
				if als, err := c.Alerts(ctx, true); err == nil {
					var muted []string
					for _, al := range als {
						if al.Silenced != nil && al.Silenced.ID == s.ID {
							muted = append(muted, al.Key)
						}
					}
					if len(muted) > 0 {
						fmt.Fprintf(a.stdout, "mutes %d alert(s) firing now: %s\n", len(muted), strings.Join(muted, ", "))
					}
				}
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&forText, "for", "", "how long the silence lasts: 2h, 90m, 7d (at least 1m, at most 30d)")
	cmd.Flags().StringVar(&untilText, "until", "", "when the silence ends: an RFC 3339 time (1 minute to 30 days ahead)")
	cmd.Flags().StringVar(&reason, "reason", "", "why, for the record (required)")
	a.addJSONFlag(cmd)
	return cmd
}

// silencesCommand is "grace alerts silences [--all]".
func (a *app) silencesCommand() *cobra.Command {
	var all bool
	cmd := &cobra.Command{
		Use:   "silences [--all] [--json]",
		Short: "The active alert silences, newest first; --all adds the ended and expired (the newest 100)",
		Long: `List a running server's alert silences (api.server, or --server), newest
first: each with its ID (for grace alerts unsilence), what it matches, who
made it and why, and when it ends. --all lists the newest 100 of every
state: active, expired and ended (with who ended it and why); an ended
silence is kept 30 days after it ended, then deleted. With no
server answering it reads the database, and says so: what the last engine
kept. With --json: {silences: [...]}.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var ss []watchdog.Silence
			err := a.withSilences(cmd, "silences", func(ctx context.Context, c *httpapi.Client) (err error) {
				ss, err = c.Silences(ctx, all)
				return err
			})
			if ns := (*noSilenceServer)(nil); errors.As(err, &ns) {
				// Read-only: what the last engine kept, as grace alerts does.
				cfg, _ := a.config(cmd)
				fmt.Fprintf(a.stderr, "grace: %s; reading the database %s\n", ns.short, cfg.DB)
				ss, err = storedSilences(cmd.Context(), cfg, newLogger(a.stderr, cfg.Log.Level, slog.LevelWarn), all, time.Now())
			}
			if err != nil {
				return err
			}
			if ss == nil {
				ss = []watchdog.Silence{}
			}
			if a.json {
				return a.writeJSON(httpapi.SilencesResponse{Silences: ss})
			}
			if len(ss) == 0 {
				what := "no active silences"
				if all {
					what = "no silences"
				}
				fmt.Fprintln(a.stderr, "grace: "+what)
				return nil
			}
			rows := [][]string{{"ID", "MATCH", "STATE", "BY", "CREATED", "ENDS", "REASON"}}
			for _, s := range ss {
				ends := stamp(s.EndsAt)
				switch s.State {
				case watchdog.SilenceEnded:
					ends = "ended " + stamp(s.EndedAt) + " by " + s.EndedBy + ": " + clip(s.EndReason, 40)
				case watchdog.SilenceExpired:
					ends = "expired " + stamp(s.EndedAt)
				}
				rows = append(rows, []string{s.ID, clip(s.Match, 40), s.State, s.By, stamp(s.CreatedAt), ends, clip(s.Reason, 60)})
			}
			a.table(rows)
			return nil
		},
	}
	cmd.Flags().BoolVar(&all, "all", false, "include the ended and expired silences (the newest 100 of every state)")
	a.addJSONFlag(cmd)
	return cmd
}

// unsilenceCommand is "grace alerts unsilence ID --reason R".
func (a *app) unsilenceCommand() *cobra.Command {
	var reason string
	cmd := &cobra.Command{
		Use:   "unsilence ID --reason R [--json]",
		Short: "End an alert silence before its time (a reason is required)",
		Long: `End silence ID (grace alerts silences lists them) on a running server
(api.server, or --server): its alerts' webhooks are told of them again, and
what they missed under it (for the alerts no other silence mutes) is sent
once, marked after_silence: each alert that changed under it and still
fires, and the resolution of each alert they were told fired before it.
On the record. A silence that ended or expired already is refused, and
nothing changes.`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usageErrorf("alerts unsilence takes one silence ID (grace alerts silences lists them), got %d arguments", len(args))
			}
			id := strings.TrimSpace(args[0])
			if id == "" {
				return usageErrorf("alerts unsilence: the silence ID is empty (grace alerts silences lists them)")
			}
			if strings.TrimSpace(reason) == "" {
				return usageErrorf("alerts unsilence: --reason is required (it goes on the record), as in --reason \"migration done\"")
			}
			return a.withSilences(cmd, "unsilence", func(ctx context.Context, c *httpapi.Client) error {
				s, err := c.EndSilence(ctx, id, "", strings.TrimSpace(reason))
				if err != nil {
					return flagError("alerts unsilence", err)
				}
				if a.json {
					return a.writeJSON(s)
				}
				fmt.Fprintf(a.stdout, "ended silence %s of %s (by %s, %s early): %s\n", s.ID, s.Match, s.EndedBy,
					s.EndsAt.Sub(s.EndedAt).Round(time.Second), oneLine(s.EndReason))
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&reason, "reason", "", "why, for the record (required)")
	a.addJSONFlag(cmd)
	return cmd
}

// withSilences runs fn against the configured server, as withScheduler
// does: silences live in a running engine, so a server that does not
// answer is an error saying so.
func (a *app) withSilences(cmd *cobra.Command, verb string, fn func(context.Context, *httpapi.Client) error) error {
	cfg, err := a.config(cmd)
	if err != nil {
		return err
	}
	url := a.serverURL(cfg)
	if url == "" {
		return &noSilenceServer{short: "no server configured",
			error: errors.New("no server configured (api.server, or --server): alert silences are kept by grace serve or the console")}
	}
	tok, err := clientToken(cfg)
	if err != nil {
		return err
	}
	c := httpapi.NewClient(url, tok, &http.Client{Timeout: clientTimeout})
	c.Operator = operatorName()
	ctx, cancel := context.WithTimeout(cmd.Context(), clientTimeout)
	defer cancel()
	err = fn(ctx, c)
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return &noSilenceServer{short: "no server at " + url,
			error: fmt.Errorf("no server answers at %s: alert silences are kept by grace serve or the console; start one, or name it with --server", url)}
	case errors.Is(err, errors.ErrUnsupported):
		return fmt.Errorf("alerts %s: %w", verb, err)
	}
	if refused := a.tokenRefused(url, err); refused != nil {
		return refused
	}
	return err
}

// flagError names the command-line flag (or argument) of the field a
// server's error answer names: --for, --until, --reason, MATCH.
func flagError(what string, err error) error {
	var he *httpapi.Error
	if !errors.As(err, &he) {
		return err
	}
	switch he.Field {
	case "match":
		return fmt.Errorf("%s: MATCH: %w", what, err)
	case "for", "until", "reason":
		return fmt.Errorf("%s: --%s: %w", what, he.Field, err)
	}
	return err
}

// silencedCell is the SILENCED column of grace alerts: until when and by
// whom, or "-".
func silencedCell(s *watchdog.SilenceRef) string {
	if s == nil {
		return "-"
	}
	return "until " + stamp(s.EndsAt) + " (" + s.By + ")"
}

// noSilenceServer is withSilences' error when no server is configured or
// none answers; short says which, for a command that reads the database
// instead.
type noSilenceServer struct {
	error
	short string
}

// storedSilences reads the silences the database keeps, as the engine
// would list them at now: the active ones, or with all every state (the
// newest 100 of those ended within 30 days: watchdog.SilenceRetention).
// One whose time has passed while no engine ran shows as expired (the
// next start ends it on the record).
func storedSilences(ctx context.Context, cfg engine.Config, log *slog.Logger, all bool, now time.Time) ([]watchdog.Silence, error) {
	st, err := openStore(ctx, cfg, true, log)
	if err != nil {
		return nil, err
	}
	defer st.Close()
	ss, err := st.StoredSilences(ctx, watchdog.StoredSilencesQuery(all, now))
	if err != nil {
		return nil, err
	}
	return watchdog.SilencesAsOf(ss, all, now), nil
}
