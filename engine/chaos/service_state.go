package chaos

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"grace/engine"
)

// validate checks req and returns the scenario IDs it covers, in run
// order, or a *engine.ChaosRequestError naming the field at fault.
func (s *Service) validate(req engine.ChaosRequest) ([]string, error) {
	bad := func(field, format string, a ...any) error {
		return &engine.ChaosRequestError{Field: field, Reason: fmt.Sprintf(format, a...)}
	}
	ways := 0
	for _, b := range []bool{len(req.Scenarios) > 0, req.All, req.Category != ""} {
		if b {
			ways++
		}
	}
	switch {
	case ways == 0:
		return nil, bad("scenarios", "name scenario IDs, all, or a category")
	case ways > 1:
		return nil, bad("scenarios", "name scenario IDs, all, or a category: only one of them")
	case req.Difficulty < 0:
		return nil, bad("difficulty", "%d is below 0 (0 runs each scenario at its current difficulty)", req.Difficulty)
	case s.maxDifficulty() > 0 && req.Difficulty > s.maxDifficulty():
		return nil, bad("difficulty", "%d is above the maximum, %d (chaos.loop.max_difficulty)", req.Difficulty, s.maxDifficulty())
	case req.Category != "" && !slices.Contains(Categories, req.Category):
		return nil, bad("category", "%q is not one of %s", req.Category, strings.Join(Categories, ", "))
	case req.Trigger != "" && req.Trigger != engine.ChaosTriggerOperator && req.Trigger != engine.ChaosTriggerLoop:
		return nil, bad("trigger", "%q is not %s or %s", req.Trigger, engine.ChaosTriggerOperator, engine.ChaosTriggerLoop)
	case req.Live && s.opts.Main == nil:
		return nil, bad("live", "there is no live engine here (grace chaos run runs isolated engines; run against a server for live)")
	}
	var ids []string
	for _, id := range req.Scenarios {
		if s.opts.Library.Get(id) == nil {
			return nil, bad("scenarios", "%s in the library", s.opts.Library.NotFound(id))
		}
		if !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	for _, sc := range s.opts.Library.Scenarios {
		if req.All || (req.Category != "" && sc.Category == req.Category) {
			ids = append(ids, sc.ID)
		}
	}
	if len(ids) == 0 {
		return nil, bad("category", "no scenario in category %s", req.Category)
	}
	if req.Live {
		for _, id := range ids {
			if why := NeedsIsolation(s.opts.Runner.Config, s.opts.Library.Get(id), max(req.Difficulty, 1)); why != "" {
				return nil, bad("scenarios", "%s", why)
			}
		}
	}
	return ids, nil
}

// maxDifficulty is the highest difficulty a run may ask for
// (chaos.loop.max_difficulty), 0 for no bound.
func (s *Service) maxDifficulty() int { return s.opts.Runner.Config.Chaos.Loop.MaxDifficulty }

// ChaosScenarios lists the library with each scenario's standing, sorted
// by category then ID.
func (s *Service) ChaosScenarios(ctx context.Context) ([]engine.ChaosScenario, error) {
	states, err := s.opts.Store.ScenarioStates(ctx)
	if err != nil {
		return nil, fmt.Errorf("chaos scenarios: %w", err)
	}
	out := make([]engine.ChaosScenario, 0, len(s.opts.Library.Scenarios))
	for _, sc := range s.opts.Library.Scenarios {
		st := states[sc.ID]
		c := engine.ChaosScenario{ID: sc.ID, Category: sc.Category, Description: sc.Description,
			Safeguards: nonNil(sc.Safeguards.Expected), Invariants: nonNil(sc.Invariants), Source: sc.Source, Faults: []string{},
			Difficulty: max(st.Difficulty, 1), Streak: st.Streak, LastVerdict: st.LastVerdict, Runs: st.Runs}
		for _, f := range sc.Faults {
			c.Faults = append(c.Faults, f.Kind)
		}
		if st.LastRunAt > 0 {
			c.LastRunAt = msTime(st.LastRunAt)
		}
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Category != out[j].Category {
			return out[i].Category < out[j].Category
		}
		return out[i].ID < out[j].ID
	})
	return out, nil
}

// ChaosStatus returns the resilience score over the stored runs, the
// loop's state (disabled until the loop sets it), the run in progress and
// the loop's findings and knowledge.
func (s *Service) ChaosStatus(ctx context.Context) (engine.ChaosStatus, error) {
	var st engine.ChaosStatus
	var err error
	if st.Score, err = StoredScore(ctx, s.opts.Store, s.opts.Library.ScoreLevel(s.maxDifficulty())); err != nil {
		return st, fmt.Errorf("chaos status: %w", err)
	}
	if st.Findings, err = s.opts.Store.Findings(ctx); err != nil {
		return st, fmt.Errorf("chaos status: %w", err)
	}
	if st.Knowledge, err = s.opts.Store.Knowledge(ctx); err != nil {
		return st, fmt.Errorf("chaos status: %w", err)
	}
	s.mu.Lock()
	f := s.loopState
	if s.cur != nil {
		run := cloneRun(s.cur.run)
		st.Running = &run
	}
	s.mu.Unlock()
	if f != nil {
		st.Loop = f()
	}
	return st, nil
}

// StoredScore is the resilience score over the newest 500 runs in rs
// (see Score; level as Score takes it).
func StoredScore(ctx context.Context, rs RunStore, level func(engine.ChaosResult) int) (engine.ResilienceScore, error) {
	runs, err := rs.ChaosRuns(ctx, scoreRuns)
	if err != nil {
		return engine.ResilienceScore{}, fmt.Errorf("resilience score: %w", err)
	}
	return Score(runs, level), nil
}

// scoreRuns is how many stored runs, newest first, the score reads.
const scoreRuns = 500

// scoreWindow is how many finished runs of each scenario the score counts.
const scoreWindow = 10

// Score is the resilience score of runs (newest first), in the manner of
// Litmus: a weighted pass rate. For each scenario, its last 10 finished
// results count (a result is finished when the scenario reached a
// verdict; a scenario cut off by a halt has none), each weighted by the
// level it ran at, so that a pass at a harder level counts more:
//
//	score = 100 × Σ(level × passed) / Σ level
//
// overall and per category (over the results of that category's
// scenarios). The level of a result is level(result) (Library.ScoreLevel:
// the level its parameters actually took), its difficulty when level is
// nil; below 1 it counts as 1. Runs counts the results the score is over;
// with none, every figure is 0.
func Score(runs []engine.ChaosRun, level func(engine.ChaosResult) int) engine.ResilienceScore {
	if level == nil {
		level = func(res engine.ChaosResult) int { return res.Difficulty }
	}
	type sum struct{ passed, total float64 }
	seen := map[string]int{}
	var all sum
	cats := map[string]*sum{}
	out := engine.ResilienceScore{ByCategory: map[string]float64{}}
	for _, run := range runs {
		for _, res := range run.Scenarios {
			if seen[res.ID] >= scoreWindow {
				continue
			}
			seen[res.ID]++
			out.Runs++
			w := float64(max(level(res), 1))
			c := cats[res.Category]
			if c == nil {
				c = &sum{}
				cats[res.Category] = c
			}
			c.total += w
			all.total += w
			if res.Passed {
				c.passed += w
				all.passed += w
			}
		}
	}
	if all.total > 0 {
		out.Overall = 100 * all.passed / all.total
	}
	for name, c := range cats {
		out.ByCategory[name] = 100 * c.passed / c.total
	}
	return out
}

// prune removes the oldest run folders beyond KeepRuns (run IDs sort by
// start). A folder that cannot be removed is logged.
func (s *Service) prune() {
	if s.opts.KeepRuns <= 0 {
		return
	}
	entries, err := os.ReadDir(s.runsDir())
	if err != nil {
		return
	}
	var dirs []string
	for _, e := range entries {
		if e.IsDir() {
			dirs = append(dirs, e.Name())
		}
	}
	sort.Strings(dirs)
	for len(dirs) > s.opts.KeepRuns {
		p := filepath.Join(s.runsDir(), dirs[0])
		if err := os.RemoveAll(p); err != nil {
			s.opts.Logger.Warn("remove an old chaos run folder", "dir", p, "err", err)
		}
		dirs = dirs[1:]
	}
}

// msTime is t in Unix milliseconds as a UTC time.
func msTime(ms int64) time.Time { return time.UnixMilli(ms).UTC() }

// maxScaledParameter bounds a scenario's parameter once scaled by a
// difficulty: beyond it (or infinite) the counts the runner derives from
// it do not fit the engine's limits, so the run is refused.
const maxScaledParameter = 1e9

// checkScale refuses a run in which a scenario's parameter, at the
// difficulty it would run at, grows beyond maxScaledParameter (a
// parameter with growth and no max in a file of chaos.scenarios_dir, or
// a large difficulty) or, for an isolated run, to a value that makes a
// config the engine under test refuses (configProblemAt), naming the
// scenario, parameter, difficulty and file.
func (s *Service) checkScale(ids []string, diff map[string]int, live bool) error {
	for _, id := range ids {
		if sc := s.opts.Library.Get(id); sc != nil {
			why := scaleProblem(sc, diff[id])
			if why == "" && !live {
				why = configProblemAt(s.opts.Runner.Config, sc, diff[id])
			}
			if why != "" {
				return &engine.ChaosRequestError{Field: "difficulty", Reason: why}
			}
		}
	}
	return nil
}

// scaleProblem says which of sc's parameters, at difficulty d, grows
// beyond maxScaledParameter (or is not a number) or its ceiling
// (paramCeilings), or returns "".
func scaleProblem(sc *Scenario, d int) string {
	for _, name := range sortedKeys(sc.Parameters) {
		v := sc.Parameters[name].At(d)
		if math.IsNaN(v) || v > maxScaledParameter {
			return fmt.Sprintf("scenario %s at difficulty %d scales parameters.%s to %g, beyond %g (lower the difficulty, or give the parameter a max in %s)",
				sc.ID, d, name, v, float64(maxScaledParameter), orDefault(sc.Source, "its file"))
		}
		if c, ok := paramCeilings[name]; ok && v > c.limit {
			return fmt.Sprintf("scenario %s at difficulty %d scales parameters.%s to %g, beyond %g: %s (lower the difficulty, or give the parameter a max in %s)",
				sc.ID, d, name, v, c.limit, c.why, orDefault(sc.Source, "its file"))
		}
	}
	return ""
}

// checkLive refuses a live run of a scenario that, at the difficulty it
// would run at (its current one when the request names none), needs an
// isolated engine: validate checks the request's difficulty, which is 0
// for "each scenario's current", and a scenario escalated by the loop may
// need isolation only at its higher level.
func (s *Service) checkLive(ids []string, diff map[string]int) error {
	for _, id := range ids {
		if sc := s.opts.Library.Get(id); sc != nil {
			if why := NeedsIsolation(s.opts.Runner.Config, sc, diff[id]); why != "" {
				return &engine.ChaosRequestError{Field: "scenarios", Reason: fmt.Sprintf("%s (at its difficulty %d)", why, diff[id])}
			}
		}
	}
	return nil
}
