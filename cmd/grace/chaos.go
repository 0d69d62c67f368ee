package main

import (
	"github.com/spf13/cobra"
)

// chaosCommand is "grace chaos list|run|history".
func (a *app) chaosCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "chaos",
		Short: "Chaos scenarios: list them, run them against an isolated engine",
		RunE:  groupRun,
	}
	list := &cobra.Command{Use: "list", Short: "List the chaos scenarios: a running server's when one answers (as chaos run runs them there), else this machine's",
		Args: cobra.NoArgs, RunE: a.runChaosList}
	var ro chaosRunOptions
	run := &cobra.Command{
		Use:   "run (ID... | --all | --category C) [--difficulty N]",
		Short: "Run chaos scenarios, each against an isolated engine; stored; exit 1 when any fails, 130 when halted",
		RunE: func(cmd *cobra.Command, args []string) error {
			ro.ids = args
			return a.runChaosRun(cmd, ro)
		},
	}
	run.Flags().BoolVar(&ro.all, "all", false, "run every scenario")
	run.Flags().StringVar(&ro.category, "category", "", "run the scenarios of one category (dirt, layer2_orchestration, fit, jepsen)")
	run.Flags().IntVar(&ro.difficulty, "difficulty", 0, "difficulty level (1 and up) scaling the scenarios' parameters; 0: each scenario's current level")
	run.Flags().BoolVar(&ro.live, "live", false, "run against the live engine of the grace serve at --server instead of isolated engines (faults rolled back; refused for scenarios that need a reconfigured engine)")
	var limit int
	history := &cobra.Command{Use: "history [--limit N]", Short: "Show stored chaos runs, newest first, and the resilience score", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return a.runChaosHistory(cmd, limit) }}
	history.Flags().IntVar(&limit, "limit", 20, "show at most N runs")
	for _, c := range []*cobra.Command{list, run, history} {
		a.addJSONFlag(c)
		cmd.AddCommand(c)
	}
	run.Flags().StringVar(&a.server, "server", "", "run on the grace serve at this URL when it answers (default: config api.server)")
	list.Flags().StringVar(&a.server, "server", "", "list the scenarios of the grace serve at this URL when it answers, as chaos run would run them (default: config api.server)")
	cmd.AddCommand(a.chaosHaltCommand()) // chaos_halt.go
	return cmd
}
