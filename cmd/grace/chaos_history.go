package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"grace/engine"
	"grace/engine/chaos"
	"grace/store"
)

// chaosHistory is chaos history --json: the stored runs, newest first,
// and the resilience score.
type chaosHistory struct {
	Runs  []engine.ChaosRun      `json:"runs"`
	Score engine.ResilienceScore `json:"score"`
}

// runChaosHistory reads the stored chaos runs from the data folder's
// database (no server needed) and prints one line per run, newest first,
// then the resilience score. A path where there is no database (a slip
// in --db, a folder where nothing ran yet) is an error naming it, as for
// the other read-only commands (narratives search, audit verify): it is
// never taken for a history with no runs.
func (a *app) runChaosHistory(cmd *cobra.Command, limit int) error {
	if limit < 1 {
		return usageErrorf("chaos history: --limit (%d) must be at least 1", limit)
	}
	cfg, err := a.config(cmd)
	if err != nil {
		return err
	}
	out := chaosHistory{Runs: []engine.ChaosRun{}, Score: engine.ResilienceScore{ByCategory: map[string]float64{}}}
	if _, err := os.Stat(cfg.DB); err == nil {
		log := newLogger(a.stderr, cfg.Log.Level, noFloor)
		st, err := openStore(cmd.Context(), cfg, false, log)
		served := errors.Is(err, store.ErrInUse)
		if served { // the running engine there keeps its runs' states
			st, err = openStore(cmd.Context(), cfg, true, log)
		}
		readOnly := served
		if err != nil && !served {
			// A database this user may read but not write (an auditor's
			// account) is read as it is, as the other read-only commands
			// read it; only the interrupted runs stay unmarked.
			if ro, rerr := openStore(cmd.Context(), cfg, true, log); rerr == nil {
				st, err, readOnly = ro, nil, true
			}
		}
		if err != nil {
			return err
		}
		defer func() {
			if cerr := st.Close(); cerr != nil {
				fmt.Fprintf(a.stderr, "grace: warning: close %s: %v\n", cfg.DB, cerr)
			}
		}()
		// A run left running by a process that stopped (a crash) is
		// shown, and kept, as interrupted.
		if !readOnly {
			chaos.MarkInterrupted(cmd.Context(), st, filepath.Dir(cfg.DB), time.Now().UTC(), log)
		}
		if out.Runs, err = st.ChaosRuns(cmd.Context(), limit); err != nil {
			return err
		}
		// The score weighs each result by the level its scenario's
		// parameters took (the refused files are chaos list's to tell).
		lib, err := chaos.LoadLibrary(cfg.Chaos.ScenariosDir)
		if err != nil {
			return err
		}
		if out.Score, err = chaos.StoredScore(cmd.Context(), st, lib.ScoreLevel(cfg.Chaos.Loop.MaxDifficulty)); err != nil {
			return err
		}
	} else if errors.Is(err, fs.ErrNotExist) {
		// A read-only open says so as the other commands say it, and
		// creates nothing.
		st, err := openStore(cmd.Context(), cfg, true, newLogger(a.stderr, cfg.Log.Level, noFloor))
		if err == nil { // made meanwhile: read it again
			_ = st.Close()
			return a.runChaosHistory(cmd, limit)
		}
		return err
	} else {
		return fmt.Errorf("chaos history: %w", err)
	}
	if a.json {
		return a.writeJSON(out)
	}
	if len(out.Runs) == 0 {
		fmt.Fprintln(a.stdout, "no chaos runs yet (grace chaos run ID… runs some)")
		return nil
	}
	rows := [][]string{{"RUN", "WHEN", "BY", "PASSED", "VERDICT"}}
	for _, r := range out.Runs {
		passed := 0
		for _, s := range r.Scenarios {
			if s.Passed {
				passed++
			}
		}
		by := r.Trigger
		if r.Operator != "" {
			by += "/" + r.Operator
		}
		if r.Live {
			by += " (live)"
		}
		verdict := chaosVerdictMark(r.State)
		if r.HaltedBy != "" {
			verdict += " by " + r.HaltedBy
		}
		rows = append(rows, []string{r.RunID, r.StartedAt.Local().Format(time.DateTime), by,
			fmt.Sprintf("%d/%d", passed, len(r.Requested)), verdict})
	}
	a.table(rows)
	fmt.Fprintln(a.stdout)
	fmt.Fprintln(a.stdout, chaosScoreLine(out.Score))
	return nil
}

// chaosVerdictMark is a run state with a symbol, never colour alone.
func chaosVerdictMark(state string) string {
	switch state {
	case engine.ChaosPassed:
		return "✓ passed"
	case engine.ChaosFailed:
		return "✗ failed"
	case engine.ChaosHalted:
		return "■ halted"
	case engine.ChaosRunning:
		return "… running"
	}
	return "! " + state
}

// chaosScoreLine prints the resilience score overall and per category.
func chaosScoreLine(s engine.ResilienceScore) string {
	if s.Runs == 0 {
		return "resilience score: none yet (no scenario has finished)"
	}
	cats := make([]string, 0, len(s.ByCategory))
	for c := range s.ByCategory {
		cats = append(cats, c)
	}
	sort.Strings(cats)
	parts := make([]string, len(cats))
	for i, c := range cats {
		parts[i] = fmt.Sprintf("%s %.1f", c, s.ByCategory[c])
	}
	return fmt.Sprintf("resilience score: %.1f overall over %d scenario runs (%s)", s.Overall, s.Runs, strings.Join(parts, ", "))
}
