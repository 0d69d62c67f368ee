package main

import (
	"errors"

	"github.com/spf13/cobra"
)

// errChaosUnavailable is every chaos command's answer until the chaos
// runner lands.
var errChaosUnavailable = &exitError{code: exitUsage, err: errors.New("chaos: not available yet (issue 5)")}

// chaosCommand is "grace chaos list|run|history": registered with the flags
// of the CLI contract so scripts parse, but refusing to run until issue 5.
func (a *app) chaosCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "chaos",
		Short: "Chaos scenarios (not available yet)",
		RunE:  groupRun,
	}
	unavailable := func(*cobra.Command, []string) error { return errChaosUnavailable }
	list := &cobra.Command{Use: "list", Short: "List the chaos scenarios", Args: cobra.NoArgs, RunE: unavailable}
	run := &cobra.Command{Use: "run (ID... | --all | --category C) [--difficulty N]", Short: "Run chaos scenarios", RunE: unavailable}
	run.Flags().Bool("all", false, "run every scenario")
	run.Flags().String("category", "", "run the scenarios of one category (dirt, layer2_orchestration, fit, jepsen)")
	run.Flags().Int("difficulty", 1, "difficulty level")
	history := &cobra.Command{Use: "history", Short: "Show past chaos runs", Args: cobra.NoArgs, RunE: unavailable}
	for _, c := range []*cobra.Command{list, run, history} {
		a.addJSONFlag(c)
		cmd.AddCommand(c)
	}
	return cmd
}
