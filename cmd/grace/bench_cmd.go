package main

import "github.com/spf13/cobra"

// benchCommand is "grace bench"; its work is runBench (bench.go).
func (a *app) benchCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Measure the store and the engine and print the figures",
		Args:  cobra.NoArgs,
		RunE:  runBench,
	}
	a.addJSONFlag(cmd)
	return cmd
}
