package main

import (
	"errors"

	"github.com/spf13/cobra"
)

// errChaosHistoryUnavailable answers chaos history until runs are stored.
var errChaosHistoryUnavailable = &exitError{code: exitUsage, err: errors.New("chaos: history not available yet (issue 5: runs are not stored yet)")}

// chaosCommand is "grace chaos list|run|history".
func (a *app) chaosCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "chaos",
		Short: "Chaos scenarios: list them, run them against an isolated engine",
		RunE:  groupRun,
	}
	list := &cobra.Command{Use: "list", Short: "List the chaos scenarios", Args: cobra.NoArgs, RunE: a.runChaosList}
	var ro chaosRunOptions
	run := &cobra.Command{
		Use:   "run (ID... | --all | --category C) [--difficulty N]",
		Short: "Run chaos scenarios, each against an isolated engine; exit 1 when any fails",
		RunE: func(cmd *cobra.Command, args []string) error {
			ro.ids = args
			return a.runChaosRun(cmd, ro)
		},
	}
	run.Flags().BoolVar(&ro.all, "all", false, "run every scenario")
	run.Flags().StringVar(&ro.category, "category", "", "run the scenarios of one category (dirt, layer2_orchestration, fit, jepsen)")
	run.Flags().IntVar(&ro.difficulty, "difficulty", 1, "difficulty level (1 and up): scales the scenarios' parameters")
	history := &cobra.Command{Use: "history", Short: "Show past chaos runs (not available yet)", Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error { return errChaosHistoryUnavailable }}
	for _, c := range []*cobra.Command{list, run, history} {
		a.addJSONFlag(c)
		cmd.AddCommand(c)
	}
	return cmd
}
