package main

import (
	"context"
	"log/slog"

	"github.com/spf13/cobra"

	"grace/engine"
	"grace/engine/clock"
	"grace/engine/intent"
)

// routeCommand is "grace intent route": the governance decision only.
func (a *app) routeCommand() *cobra.Command {
	var f submissionFlags
	cmd := &cobra.Command{
		Use:   "route --type T [--actor A] [--payload J] [--context J]",
		Short: "Show the governance decision for an intent; nothing is stored",
		Long: `Show the governance router's decision for an intent: autonomy tier,
mission alignment, whether it needs a vote or a human, and where it goes.
Nothing is stored and the database is not opened.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.runRoute(cmd, &f)
		},
	}
	f.add(cmd, false)
	a.addJSONFlag(cmd)
	return cmd
}

func (a *app) runRoute(cmd *cobra.Command, f *submissionFlags) error {
	cfg, err := a.config(cmd)
	if err != nil {
		return err
	}
	sub, err := f.submission()
	if err != nil {
		return err
	}
	d, err := routeOnly(cmd.Context(), cfg, sub)
	if err != nil {
		return err
	}
	if a.json {
		return a.writeJSON(d)
	}
	a.table(decisionRows(d))
	return nil
}

// routeOnly is the governance decision for sub from an engine that is
// never started, over an empty stand-in for the database: routing needs
// only the config, and nothing is opened, created or stored. Invalid input
// is an *engine.ValidationError.
func routeOnly(ctx context.Context, cfg engine.Config, sub intent.Submission) (intent.Decision, error) {
	eng, err := engine.New(cfg, engine.Deps{
		Store: emptyStore{}, Journal: emptyStore{}, Searcher: emptyStore{},
		Clock: clock.Real{}, Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		return intent.Decision{}, err
	}
	return eng.Route(ctx, sub)
}
