package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"grace/engine"
	"grace/engine/chaos"
)

// chaosRunOptions are chaos run's arguments and flags.
type chaosRunOptions struct {
	ids        []string
	all        bool
	category   string
	difficulty int
	// live runs against the live engine of a running grace serve.
	live bool
}

// pick checks the command line and returns the request it makes,
// refusing one that names no scenario, more than one way, or a category
// that is unknown. A scenario ID the local library lacks is unknownID's
// to refuse: a server may hold it in its own chaos.scenarios_dir.
func (o chaosRunOptions) pick(lib *chaos.Library) (engine.ChaosRequest, error) {
	ways := 0
	for _, b := range []bool{len(o.ids) > 0, o.all, o.category != ""} {
		if b {
			ways++
		}
	}
	switch {
	case ways == 0:
		return engine.ChaosRequest{}, usageErrorf("chaos run: give scenario IDs, --all or --category")
	case ways > 1:
		return engine.ChaosRequest{}, usageErrorf("chaos run: give scenario IDs, --all or --category, only one of them")
	case o.difficulty < 0:
		return engine.ChaosRequest{}, usageErrorf("chaos run: --difficulty (%d) must be 0 (each scenario's current level) or more", o.difficulty)
	case o.category != "" && !slices.Contains(chaos.Categories, o.category):
		return engine.ChaosRequest{}, usageErrorf("chaos run: --category %q is not one of %s", o.category, strings.Join(chaos.Categories, ", "))
	}
	if o.category != "" && !slices.ContainsFunc(lib.Scenarios, func(s *chaos.Scenario) bool { return s.Category == o.category }) {
		return engine.ChaosRequest{}, fmt.Errorf("chaos run: no scenario in category %s", o.category)
	}
	return engine.ChaosRequest{Scenarios: o.ids, All: o.all, Category: o.category, Difficulty: o.difficulty,
		Live: o.live, Trigger: engine.ChaosTriggerOperator, Operator: localOperator()}, nil
}

// unknownID refuses the first scenario ID that the local library lacks,
// or returns nil.
func (o chaosRunOptions) unknownID(lib *chaos.Library) error {
	for _, id := range o.ids {
		if lib.Get(id) == nil {
			return usageErrorf("chaos run: %s (see grace chaos list)", lib.NotFound(id))
		}
	}
	return nil
}

// localOperator names who runs a local chaos run: the login name.
func localOperator() string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return u.Username
	}
	return engine.ChaosTriggerOperator
}

// runChaosRun runs the chosen scenarios one after another, each against
// an isolated engine whose record stays in <data>/chaos/runs/<run_id>/,
// through a chaos service with no live engine that stores the run in the
// data folder's database. It prints a progress line per phase on stderr
// (not with --json), then the report, and fails (exit 1) when any
// scenario failed. An interrupt (a local grace chaos halt sends one)
// halts the run: its faults are rolled back, it is stored as halted and
// the command exits 130.
func (a *app) runChaosRun(cmd *cobra.Command, o chaosRunOptions) error {
	lib, err := a.loadChaosLibrary(cmd)
	if err != nil {
		return err
	}
	req, err := o.pick(lib)
	if err != nil {
		return err
	}
	// A scenario only the server holds (its own chaos.scenarios_dir) is
	// the server's to run; one that neither holds is refused as unknown,
	// without a word of running locally.
	unknown := o.unknownID(lib)
	if handled, err := a.runChaosRemote(cmd, req, unknown == nil); handled { // chaos_remote.go: a server answers
		return err
	}
	if unknown != nil {
		return unknown
	}
	if req.Live {
		// Nothing was run: a live run needs the live engine of a server.
		return usageErrorf("chaos run --live: no grace serve with chaos answered (see --server / api.server); nothing was run")
	}
	cfg, err := a.config(cmd)
	if err != nil {
		return err
	}
	log := newLogger(a.stderr, cfg.Log.Level, slog.LevelError)
	st, err := openEngineStore(cmd.Context(), cfg, "grace chaos run", log)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := st.Close(); cerr != nil {
			fmt.Fprintf(a.stderr, "grace: warning: close %s: %v\n", cfg.DB, cerr)
		}
	}()
	var progress func(engine.ChaosProgress)
	if !a.json {
		progress = a.printChaosProgress
	}
	// The isolated engines' logs (alerts the faults provoke, on purpose)
	// go to a file in the data folder, not between the progress lines.
	engineLogs := &lazyFile{path: filepath.Join(filepath.Dir(cfg.DB), "chaos", "engines.log")}
	defer engineLogs.Close()
	svc, _, err := newChaosService(cfg, st, log, chaosServiceOptions{onProgress: progress,
		engineLog: newLogger(engineLogs, cfg.Log.Level, slog.LevelWarn)})
	if err != nil {
		return err
	}
	defer svc.Close()
	ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	started, err := svc.StartChaos(ctx, req)
	if err != nil {
		var re *engine.ChaosRequestError
		if errors.As(err, &re) {
			return usageErrorf("chaos run: %s: %s", re.Field, re.Reason)
		}
		return err
	}
	unannounce, err := announceChaosRun(cfg, started.RunID)
	if err != nil {
		fmt.Fprintf(a.stderr, "grace: warning: %v (grace chaos halt will not find this run)\n", err)
	} else {
		defer unannounce()
	}
	run, err := svc.Wait(ctx, started.RunID)
	interrupted := err != nil && ctx.Err() != nil
	if interrupted {
		by, why := req.Operator, "interrupted (SIGINT or SIGTERM)"
		if note, ok := readHaltNote(chaosRunningDir(cfg)); ok {
			// Interrupted by grace chaos halt, which said who and why.
			by, why = note.By, note.Reason
			if why == "" {
				why = "grace chaos halt"
			}
		}
		if _, herr := svc.HaltChaos(context.WithoutCancel(ctx), by, why); herr != nil {
			return herr
		}
		run, err = svc.Wait(context.WithoutCancel(ctx), started.RunID)
	}
	if err != nil {
		return err
	}
	if a.json {
		if err := a.writeJSON(run); err != nil {
			return err
		}
	} else {
		for _, r := range run.Scenarios {
			a.printChaosResult(r)
		}
	}
	return chaosRunVerdict(run, !a.json, a.stdout)
}

// chaosRunVerdict turns a finished run into the command's outcome: nil
// when every scenario passed (the line printed when say), exit 130 for a
// halted run, 1 for a failed one or one that could not be carried out.
func chaosRunVerdict(run engine.ChaosRun, say bool, stdout io.Writer) error {
	failed := 0
	for _, r := range run.Scenarios {
		if !r.Passed {
			failed++
		}
	}
	switch run.State {
	case engine.ChaosPassed:
		if say {
			if len(run.Scenarios) == 1 {
				fmt.Fprintf(stdout, "chaos run %s: the scenario passed\n", run.RunID)
			} else {
				fmt.Fprintf(stdout, "chaos run %s: all %d scenarios passed\n", run.RunID, len(run.Scenarios))
			}
		}
		return nil
	case engine.ChaosHalted:
		return &exitError{code: exitInterrupted, err: fmt.Errorf("chaos run %s halted by %s after %d of %d scenarios: faults rolled back, stored as halted (%s)",
			run.RunID, run.HaltedBy, len(run.Scenarios), len(run.Requested), run.Error)}
	case engine.ChaosError:
		return fmt.Errorf("chaos run %s: %d of %d scenarios failed; one could not be carried out: %s", run.RunID, failed, len(run.Scenarios), run.Error)
	}
	return fmt.Errorf("chaos run %s: %d of %d scenarios failed", run.RunID, failed, len(run.Scenarios))
}

// exitInterrupted is the exit code of a run halted by an interrupt.
const exitInterrupted = 130

// printChaosProgress prints one progress line on stderr.
func (a *app) printChaosProgress(p engine.ChaosProgress) {
	if p.Scenario == "" {
		fmt.Fprintf(a.stderr, "chaos run %s: %s\n", p.RunID, p.State)
		return
	}
	line := fmt.Sprintf("[%d/%d] %s  %s", p.Index, p.Total, p.Scenario, p.Phase)
	if len(p.FaultsActive) > 0 {
		line += "  faults: " + strings.Join(p.FaultsActive, ",")
	}
	if len(p.SafeguardsFired) > 0 {
		line += "  fired: " + strings.Join(p.SafeguardsFired, ",")
	}
	if p.Result != nil {
		v := "PASS"
		if !p.Result.Passed {
			v = "FAIL"
		}
		line += fmt.Sprintf("  %s in %d ms", v, p.Result.DurationMS)
	}
	fmt.Fprintln(a.stderr, line)
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
		if !s.Enabled {
			mark += " (switched off)"
		}
		fmt.Fprintf(a.stdout, "    safeguard %-22s %-8s %s\n", s.Name, exp, mark)
	}
	inv := r.Invariants
	unauthorized := strconv.Itoa(inv.UnauthorizedExecutions)
	if slices.Contains(r.Notes, chaos.NoteTier0NotExercised) {
		unauthorized = "- (not exercised: no Tier 0 intent in this run)"
	}
	if r.Error != "" {
		// Nothing was measured: zero counts and "audit intact false"
		// would read as a run that lost nothing but broke the chain.
		fmt.Fprintln(a.stdout, "    invariants: not checked (the scenario could not be carried out)")
	} else {
		fmt.Fprintf(a.stdout, "    invariants: lost %d, duplicated %d, unauthorized executions %s, cancelled revived %d, audit intact %v\n",
			inv.Lost, inv.Duplicated, unauthorized, inv.CancelledRevived, inv.AuditIntact)
	}
	for _, f := range r.Failures {
		fmt.Fprintf(a.stdout, "    ✗ %s\n", f)
	}
}
