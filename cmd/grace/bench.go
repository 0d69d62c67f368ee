package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/spf13/cobra"

	"grace/engine"
	"grace/engine/clarity"
	"grace/engine/clock"
	"grace/engine/intent"
	"grace/engine/worker"
	"grace/store"
)

// benchOptions are grace bench's flags.
type benchOptions struct {
	records, intents, searchRows, routeRuns, httpSubmits, httpClients int
	httpRate, httpIntakeRate                                          float64
	only, cpuProfile, httpClient                                      string
}

// check refuses a count or rate a measurement cannot run with, naming the
// flag, before anything is measured.
func (o benchOptions) check() error {
	// The bounds below are far beyond what a machine measures in an
	// afternoon; above them a figure would only exhaust memory.
	for _, f := range []struct {
		name        string
		v, min, max int
	}{
		// The store figures split --records among their phases, and the
		// search figures need words that recur.
		{"--records", o.records, 1000, 100_000_000}, {"--intents", o.intents, 1, 100_000_000},
		{"--search-rows", o.searchRows, 1000, 100_000_000}, {"--route-runs", o.routeRuns, 1, 100_000},
		{"--http-submits", o.httpSubmits, 1, 100_000_000}, {"--http-clients", o.httpClients, 1, 10_000},
	} {
		if f.v < f.min || f.v > f.max {
			return &usageError{fmt.Errorf("%s %d: want %d to %d", f.name, f.v, f.min, f.max)}
		}
	}
	if o.httpClient != "raw" && o.httpClient != "go" {
		return &usageError{fmt.Errorf("--http-client %q: want raw or go", o.httpClient)}
	}
	if !(o.httpRate > 0 && o.httpRate <= 1_000_000) {
		return &usageError{fmt.Errorf("--http-rate %g: want a number of submissions a second above 0 and at most 1000000", o.httpRate)}
	}
	if !(o.httpIntakeRate > 0 && o.httpIntakeRate <= 1_000_000) {
		return &usageError{fmt.Errorf("--http-intake-rate %g: want a number of submissions a second above 0 and at most 1000000", o.httpIntakeRate)}
	}
	return nil
}

// benchResult is one measured figure, in the shape of the CLI contract.
type benchResult struct {
	Name  string  `json:"name"`
	Value float64 `json:"value"`
	Unit  string  `json:"unit"`
	Note  string  `json:"note"`
}

// runBench measures each group in its own temporary data folder.
func (a *app) runBench(cmd *cobra.Command, o benchOptions) error {
	if err := o.check(); err != nil {
		return err
	}
	ctx := cmd.Context()
	tmp, err := os.MkdirTemp("", "grace-bench-")
	if err != nil {
		return fmt.Errorf("bench: temporary folder: %w", err)
	}
	defer os.RemoveAll(tmp)
	if o.cpuProfile != "" {
		stop, err := startCPUProfile(o.cpuProfile)
		if err != nil {
			return err
		}
		defer stop()
	}
	var results []benchResult
	emit := func(r benchResult) {
		results = append(results, r)
		if !a.json {
			fmt.Fprintf(a.stdout, "%-28s %12.2f %-10s %s\n", r.Name, r.Value, r.Unit, r.Note)
		}
	}
	groups := []struct {
		name string
		run  func() error
	}{
		{"store", func() error { return benchStore(ctx, filepath.Join(tmp, "store"), o.records, emit) }},
		{"e2e", func() error { return benchEndToEnd(ctx, filepath.Join(tmp, "e2e"), o.intents, emit) }},
		{"search", func() error { return benchSearch(ctx, filepath.Join(tmp, "search"), o.searchRows, emit) }},
		{"route", func() error { return benchRoute(ctx, o.routeRuns, emit) }},
		{"http", func() error {
			return benchHTTP(ctx, filepath.Join(tmp, "http"), httpBenchPlan{n: o.httpSubmits, clients: o.httpClients, raw: o.httpClient == "raw", rate: o.httpRate, intakeRate: o.httpIntakeRate, paceFor: 5 * time.Second}, emit)
		}},
	}
	if o.only == "nats" { // opt-in: it starts worker processes
		groups = append(groups, struct {
			name string
			run  func() error
		}{"nats", func() error { return benchNATSGroup(ctx, filepath.Join(tmp, "nats"), o.intents, emit) }})
	}
	ran := false
	for _, g := range groups {
		if o.only != "" && o.only != g.name {
			continue
		}
		ran = true
		if err := g.run(); err != nil {
			return fmt.Errorf("bench %s: %w", g.name, err)
		}
	}
	if !ran {
		return &usageError{fmt.Errorf("--only %q: want store, e2e, search, route, http or nats", o.only)}
	}
	if a.json {
		return a.writeJSON(map[string]any{"results": results})
	}
	return nil
}

// benchRecord is a dispatch narrative of realistic size.
func benchRecord(i int) clarity.Record {
	return clarity.Record{
		Who: "htm_orchestrator", What: "intent_dispatched", Where: fmt.Sprintf("worker_%d", i%8+1),
		Why: []string{"worker has the fewest tasks in flight", fmt.Sprintf("queue depth %d/1000 (within limits)", i%1000),
			"load balancing to prevent a hotspot"},
		How: "least_loaded_worker_selection", IntentID: fmt.Sprintf("int_bench_%09d", i), Result: "dispatched",
		Context:    map[string]any{"queue_depth": i % 1000},
		Confidence: 0.9, Risk: 0.1, Transparency: clarity.TransparencyComplete,
	}
}

// benchStore measures durable records per second through the writer, with
// the full-text index held back, then the index catching up.
func benchStore(ctx context.Context, dir string, n int, emit func(benchResult)) error {
	st, err := store.Open(ctx, filepath.Join(dir, "grace.db"), store.Options{IndexInterval: time.Hour})
	if err != nil {
		return err
	}
	defer st.Close()
	// The engine's shape: changes streamed to the writer without waiting,
	// one record each, acknowledged by callback once durable.
	var failed atomic.Pointer[error]
	var wg sync.WaitGroup
	wg.Add(n)
	start := time.Now()
	for i := range n {
		st.ApplyAsync(&intent.Change{Records: []clarity.Record{benchRecord(i)}}, func(_ intent.Result, err error) {
			if err != nil {
				failed.CompareAndSwap(nil, &err)
			}
			wg.Done()
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	if err := failed.Load(); err != nil {
		return *err
	}
	emit(benchResult{"store_records", float64(n) / elapsed.Seconds(), "records/s",
		fmt.Sprintf("%d records streamed one per change, synchronous=FULL, narrative+clarity+audit each", n)})
	// Submitters that each wait for their own commit: intake's shape.
	waiting, err := benchWaitingSubmitters(ctx, st, n/4, 64)
	if err != nil {
		return err
	}
	emit(benchResult{"store_records_waiting", waiting, "records/s",
		fmt.Sprintf("%d records, 64 submitters each waiting for its commit, synchronous=FULL", n/4)})
	life, cpuEach, err := benchLifecycle(ctx, st, n/8, 64)
	if err != nil {
		return err
	}
	emit(benchResult{"store_intent_lifecycles", life, "intents/s",
		fmt.Sprintf("%d intents: create+2 records (64 submitters waiting), then dispatch and completion updates+1 record each streamed; %.0f µs CPU an intent; the ceiling for http_submit", n/8, float64(cpuEach.Microseconds()))})
	lag := st.IndexLag()
	start = time.Now()
	if err := st.FlushIndex(ctx); err != nil {
		return err
	}
	emit(benchResult{"fts_catch_up", float64(lag) / time.Since(start).Seconds(), "records/s",
		fmt.Sprintf("%d waiting rows, bulk INSERT…SELECT into the FTS5 index in its own file (grace.search.db)", lag)})
	return nil
}

// benchWaitingSubmitters writes n records from c goroutines, each waiting
// for its record's commit, and returns records per second.
func benchWaitingSubmitters(ctx context.Context, st *store.Store, n, c int) (float64, error) {
	start := time.Now()
	if err := fanOut(c, n, func(i int) error { return st.Record(ctx, benchRecord(i)) }); err != nil {
		return 0, err
	}
	return float64(n) / time.Since(start).Seconds(), nil
}

// fanOut calls fn(1) … fn(n) from c goroutines, each taking the next i
// until all are done or one fails, and returns the first error.
func fanOut(c, n int, fn func(i int) error) error {
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, c)
	for range c {
		wg.Go(func() {
			for {
				i := int(next.Add(1))
				if i > n {
					return
				}
				if err := fn(i); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	return <-errs
}

// benchEndToEnd submits n Tier 2 intents from 64 submitters to an engine on
// a real store with the no-op handler and waits until all have completed.
func benchEndToEnd(ctx context.Context, dir string, n int, emit func(benchResult)) error {
	cfg := engine.Default()
	cfg.DB = filepath.Join(dir, "grace.db")
	cfg.Cortex.Enabled = false
	// The figure is the engine's own capacity: one actor submits far past
	// htm.rate_limit.actor_rate, so the intake rate limit is switched off.
	cfg.Safeguards[engine.SafeguardRateLimit] = engine.SafeguardConfig{Enabled: false}
	cfg.HTM.Capacity = n + 2
	cfg.HTM.WarnDepth, cfg.HTM.CriticalDepth = n+1, n+2
	cfg.Workers.Count = 16
	cfg.Handlers = map[string]worker.HandlerConfig{"default": {Kind: "noop"}}
	st, err := store.Open(ctx, cfg.DB, storeOptions(cfg, false, false, "grace bench", slog.New(slog.DiscardHandler)))
	if err != nil {
		return err
	}
	defer st.Close()
	log := slog.New(slog.DiscardHandler)
	eng, err := engine.New(cfg, engine.Deps{Store: st, Clock: clock.Real{}, Logger: log})
	if err != nil {
		return err
	}
	if err := eng.Start(ctx); err != nil {
		return err
	}
	defer eng.Stop()
	types := []string{"query_knowledge", "generate_summary", "schedule_task"}
	start := time.Now()
	if err := fanOut(64, n, func(i int) error {
		_, err := eng.Submit(ctx, intent.Submission{Type: types[i%3], Actor: "bench", Priority: 5, Payload: []byte(`{"q":"bench"}`)})
		return err
	}); err != nil {
		return err
	}
	for eng.Snapshot().Completed+eng.Snapshot().Failed < uint64(n) {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(5 * time.Millisecond):
		}
	}
	elapsed := time.Since(start)
	snap := eng.Snapshot()
	if snap.Failed > 0 {
		return fmt.Errorf("%d of %d no-op intents failed", snap.Failed, n)
	}
	emit(benchResult{"e2e_tier2_intents", float64(n) / elapsed.Seconds(), "intents/s",
		fmt.Sprintf("%d Tier 2 intents submit→completed, no-op handler, 16 workers, every decision recorded", n)})
	return nil
}

// benchSearch builds a record of rows narratives and times the queries an
// operator makes, newest first, reporting the median and p95 of each kind.
func benchSearch(ctx context.Context, dir string, rows int, emit func(benchResult)) error {
	st, err := store.Open(ctx, filepath.Join(dir, "grace.db"), store.Options{Synchronous: "NORMAL"})
	if err != nil {
		return err
	}
	defer st.Close()
	actors := []string{"htm_orchestrator", "governance_router", "worker_pool", "unified_logic_hub", "intake"}
	actions := []string{"intent_dispatched", "intent_routed", "intent_completed", "vote_cast", "intent_received"}
	words := []string{"charter", "sandbox", "deploy", "summary", "knowledge", "revenue", "resilience", "latency"}
	const batch = 500
	base := time.Now().Add(-time.Duration(rows) * time.Millisecond)
	for i := 0; i < rows; i += batch {
		recs := make([]clarity.Record, 0, batch)
		for j := i; j < i+batch && j < rows; j++ {
			r := benchRecord(j)
			r.Who, r.What = actors[j%len(actors)], actions[(j/7)%len(actions)]
			r.When = base.Add(time.Duration(j) * time.Millisecond)
			r.Why = append(r.Why, "about "+words[j%len(words)]+" and "+words[(j/3)%len(words)])
			if j%997 == 0 {
				r.Why = append(r.Why, "rare zephyr event")
			}
			recs = append(recs, r)
		}
		if err := st.Record(ctx, recs...); err != nil {
			return err
		}
	}
	if err := st.FlushIndex(ctx); err != nil {
		return err
	}
	since := base.Add(time.Duration(rows/2) * time.Millisecond)
	kinds := []struct {
		name string
		q    clarity.Query
	}{
		{"search_one_word", clarity.Query{Text: "charter", Limit: 50}},
		{"search_two_words", clarity.Query{Text: "charter deploy", Limit: 50}},
		{"search_rare_word", clarity.Query{Text: "zephyr", Limit: 50}},
		{"search_actor_filter", clarity.Query{Actor: "unified_logic_hub", Limit: 50}},
		{"search_action_filter", clarity.Query{Action: "vote_cast", Limit: 50}},
		{"search_time_range", clarity.Query{Since: since, Until: since.Add(time.Minute), Limit: 50}},
	}
	for _, k := range kinds {
		var ds []time.Duration
		for range 60 {
			t0 := time.Now()
			got, err := st.Search(ctx, k.q)
			if err != nil {
				return fmt.Errorf("%s: %w", k.name, err)
			}
			if len(got) == 0 {
				return fmt.Errorf("%s: no results", k.name)
			}
			ds = append(ds, time.Since(t0))
		}
		p50, p95 := percentiles(ds)
		emit(benchResult{k.name + "_p95", ms(p95), "ms",
			fmt.Sprintf("median %.2f ms over %d narratives, newest 50", ms(p50), rows)})
	}
	return nil
}

// benchRoute times "grace intent route" as a whole process, this binary.
func benchRoute(ctx context.Context, runs int, emit func(benchResult)) error {
	self, err := os.Executable()
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "grace-route-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	var ds []time.Duration
	for range runs {
		c := exec.CommandContext(ctx, self, "intent", "route", "--type", "extend_grace",
			"--context", `{"revenue_impact":true}`, "--json", "--db", filepath.Join(dir, "grace.db"))
		c.Dir = dir
		t0 := time.Now()
		if out, err := c.CombinedOutput(); err != nil {
			return fmt.Errorf("intent route: %w: %s", err, out)
		}
		ds = append(ds, time.Since(t0))
	}
	if len(ds) == 0 {
		return errors.New("no runs")
	}
	p50, p95 := percentiles(ds)
	emit(benchResult{"intent_route_process", ms(p50), "ms",
		fmt.Sprintf("median of %d whole-process runs, p95 %.1f ms", runs, ms(p95))})
	return nil
}

// percentiles returns the median and 95th percentile of ds.
func percentiles(ds []time.Duration) (p50, p95 time.Duration) {
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	return ds[len(ds)/2], ds[(len(ds)*95+99)/100-1]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
