package main

import (
	"crypto/rand"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"grace/engine/chaos"
)

// chaosRunOptions are chaos run's arguments and flags.
type chaosRunOptions struct {
	ids        []string
	all        bool
	category   string
	difficulty int
}

// pick chooses the scenarios to run, refusing a command line that names
// none, more than one way, or a scenario or category that is unknown.
func (o chaosRunOptions) pick(lib *chaos.Library) ([]*chaos.Scenario, error) {
	ways := 0
	for _, b := range []bool{len(o.ids) > 0, o.all, o.category != ""} {
		if b {
			ways++
		}
	}
	switch {
	case ways == 0:
		return nil, usageErrorf("chaos run: give scenario IDs, --all or --category")
	case ways > 1:
		return nil, usageErrorf("chaos run: give scenario IDs, --all or --category, only one of them")
	case o.difficulty < 1:
		return nil, usageErrorf("chaos run: --difficulty (%d) must be at least 1", o.difficulty)
	case o.category != "" && !slices.Contains(chaos.Categories, o.category):
		return nil, usageErrorf("chaos run: --category %q is not one of %s", o.category, strings.Join(chaos.Categories, ", "))
	}
	var out []*chaos.Scenario
	for _, id := range o.ids {
		s := lib.Get(id)
		if s == nil {
			return nil, usageErrorf("chaos run: no scenario %q (see grace chaos list)", id)
		}
		out = append(out, s)
	}
	for _, s := range lib.Scenarios {
		if o.all || (o.category != "" && s.Category == o.category) {
			out = append(out, s)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("chaos run: no scenario in category %s", o.category)
	}
	return out, nil
}

// runChaosRun runs the chosen scenarios one after another, each against an
// isolated engine, prints the report and fails (exit 1) when any scenario
// failed. An interrupt halts the run in progress: its faults are rolled
// back and its engine stopped.
func (a *app) runChaosRun(cmd *cobra.Command, o chaosRunOptions) error {
	lib, err := a.loadChaosLibrary(cmd)
	if err != nil {
		return err
	}
	picked, err := o.pick(lib)
	if err != nil {
		return err
	}
	cfg, err := a.config(cmd)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	runner := &chaos.Runner{Config: cfg, Logger: newLogger(a.stderr, cfg.Log.Level, slog.LevelError)}
	rep := chaos.Report{RunID: newRunID(), Scenarios: []chaos.Result{}}
	for i, sc := range picked {
		if !a.json {
			fmt.Fprintf(a.stderr, "[%d/%d] %s (difficulty %d) …\n", i+1, len(picked), sc.ID, o.difficulty)
		}
		res, err := runner.Run(ctx, sc, o.difficulty)
		if err != nil {
			return err
		}
		rep.Scenarios = append(rep.Scenarios, res)
		if !a.json {
			a.printChaosResult(res)
		}
	}
	if a.json {
		if err := a.writeJSON(rep); err != nil {
			return err
		}
	}
	if !rep.Passed() {
		failed := 0
		for _, r := range rep.Scenarios {
			if !r.Passed {
				failed++
			}
		}
		return fmt.Errorf("chaos run %s: %d of %d scenarios failed", rep.RunID, failed, len(rep.Scenarios))
	}
	if !a.json {
		fmt.Fprintf(a.stdout, "chaos run %s: all %d scenarios passed\n", rep.RunID, len(rep.Scenarios))
	}
	return nil
}

// printChaosResult prints one scenario's verdict, safeguards, invariants
// and failures.
func (a *app) printChaosResult(r chaos.Result) {
	verdict := "✓ PASS"
	if !r.Passed {
		verdict = "✗ FAIL"
	}
	fmt.Fprintf(a.stdout, "%s  %s  %s  difficulty %d  %d ms\n", verdict, r.ID, r.Category, r.Difficulty, r.DurationMS)
	for _, s := range r.Safeguards {
		mark := "fired"
		if !s.Fired {
			mark = "did not fire"
		}
		exp := "expected"
		if !s.Expected {
			exp = "also"
		}
		fmt.Fprintf(a.stdout, "    safeguard %-22s %-8s %s\n", s.Name, exp, mark)
	}
	inv := r.Invariants
	fmt.Fprintf(a.stdout, "    invariants: lost %d, duplicated %d, unauthorized executions %d, audit intact %v\n",
		inv.Lost, inv.Duplicated, inv.UnauthorizedExecutions, inv.AuditIntact)
	for _, f := range r.Failures {
		fmt.Fprintf(a.stdout, "    ✗ %s\n", f)
	}
}

// newRunID names a chaos run: its start time and a random suffix.
func newRunID() string {
	return "chaos-" + time.Now().UTC().Format("20060102T150405Z") + "-" + strings.ToLower(rand.Text()[:8])
}
