package main

import "github.com/spf13/cobra"

// benchCommand is "grace bench"; its work is runBench (bench.go).
func (a *app) benchCommand() *cobra.Command {
	var o benchOptions
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Measure the store and the engine and print the figures",
		Long: `Measure Grace on this machine, in a temporary data folder that is removed
afterwards: durable 5W1H records per second through the store's writer,
full-text catch-up, end-to-end Tier 2 intents per second (no-op handler,
every decision recorded), search latency over a large record, the
whole-process latency of "grace intent route", and authenticated
submissions over loopback HTTP (the most per second with the workers
running, the most per second with the scheduler paused, the same in
batches of 100, plain and atomic, and the p99 latency at 10,000 a
second). The HTTP load comes from the same process, on the same cores:
by default from raw keep-alive connections, as lean as wrk's, so that
the figures are the API's rather than Go's http.Client's (--http-client
go measures with that instead). Prints one line per figure,
or {results: [{name, value, unit, note}]} with --json.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return a.runBench(cmd, o) },
	}
	a.addJSONFlag(cmd)
	f := cmd.Flags()
	f.IntVar(&o.records, "records", 200_000, "records written for the store figures")
	f.IntVar(&o.intents, "intents", 100_000, "Tier 2 intents for the end-to-end figure")
	f.IntVar(&o.searchRows, "search-rows", 1_000_000, "narratives in the search fixture")
	f.IntVar(&o.routeRuns, "route-runs", 21, "processes started for the route latency")
	f.IntVar(&o.httpSubmits, "http-submits", 100_000, "authenticated submissions for the HTTP API throughput")
	f.IntVar(&o.httpClients, "http-clients", 256, "keep-alive clients submitting at once for the HTTP API figures")
	f.StringVar(&o.httpClient, "http-client", "raw", "the HTTP API figures' load generator: raw (keep-alive connections written and read as lean as wrk does) or go (Go's http.Client, which costs about three times the CPU a request)")
	f.Float64Var(&o.httpRate, "http-rate", 10_000, "submissions per second for the HTTP API latency (for 5 s)")
	f.Float64Var(&o.httpIntakeRate, "http-intake-rate", 10_000, "submissions per second for the HTTP API latency with the scheduler paused, intake alone (for 5 s)")
	f.StringVar(&o.only, "only", "", "run one group: store, e2e, search, route, http, or nats (only when named: the nats backend with two worker processes)")
	f.StringVar(&o.cpuProfile, "cpuprofile", "", "write a CPU profile of the whole run to this file (read it with go tool pprof)")
	return cmd
}
