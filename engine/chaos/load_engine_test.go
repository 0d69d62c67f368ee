package chaos_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"

	"grace/engine"
	"grace/engine/chaos"
	"grace/scenarios"
)

// A scenario whose parameters, as its file gives them, make a config the
// engine under test refuses (a task timeout of 0, 20,000 workers, a burst
// of 0) was loaded, listed and offered to the loop, and refused only when
// run, as "new engine: workers.task_timeout (0s) must be positive", naming
// neither the file nor the parameter. It is refused at load now, naming
// the file, the parameter's field and its value, and the engine's reason.
func TestParseRefusesParametersTheEngineUnderTestWouldRefuse(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, id string
		replace  []string
		field    string
		want     string
	}{
		{"task timeout 0", "L2_runaway_handler",
			[]string{"task_timeout_ms: {base: 500, growth: 1, max: 500}", "task_timeout_ms: {base: 0}"},
			"parameters.task_timeout_ms.base", "(0) makes a config the engine under test refuses: workers.task_timeout (0s) must be positive"},
		// Rounded to whole milliseconds, 0.4 is 0.
		{"abandon after 0.4ms", "L2_runaway_handler",
			[]string{"abandon_after_ms: {base: 1000, growth: 1, max: 1000}", "abandon_after_ms: {base: 0.4}"},
			"parameters.abandon_after_ms.base", "(0.4) makes a config the engine under test refuses: workers.abandon_after (0s) must be positive"},
		{"auto resume 0", "L2_scheduler_pause_during_load",
			[]string{"auto_resume_after_ms: {base: 300}", "auto_resume_after_ms: {base: 0}"},
			"parameters.auto_resume_after_ms.base", "(0) makes a config the engine under test refuses: scheduler.auto_resume_after (0s) must be positive"},
		{"burst 0", "L2_HTM_queue_flood_stress",
			[]string{"rate_limit_burst: {base: 2000}", "rate_limit_burst: {base: 0}"},
			"parameters.rate_limit_burst.base", "(0) makes a config the engine under test refuses: htm.rate_limit.global_burst (0) must be at least 1"},
		{"20,000 workers", "L2_worker_dropout_chaos",
			[]string{"workers: {base: 8, growth: 1.5, max: 32}", "workers: {base: 20000}"},
			"parameters.workers.base", "(20000) makes a config the engine under test refuses: workers.count (20000) must be at most 10000"},
		// A max is in the file too: one the engine refuses is a typo,
		// whatever difficulty reaches it.
		{"a max of 20,000 workers", "L2_worker_dropout_chaos",
			[]string{"workers: {base: 8, growth: 1.5, max: 32}", "workers: {base: 8, growth: 2, max: 20000}"},
			"parameters.workers.max", "(20000), reached at difficulty 13, makes a config the engine under test refuses: workers.count (20000) must be at most 10000"},
		// Each level is a policy rule and a topic: checking a config
		// 5,000 levels deep alone took minutes.
		{"a cascade 5,000 deep", "L2_event_policy_cascade",
			[]string{"depth: {base: 12, growth: 1.5, max: 100}", "depth: {base: 5000}"},
			"parameters.depth.base", "(5000) must be at most 1000: each level of the cascade is a policy rule and a mesh topic of the engine under test"},
		{"a cascade up to 1e9 deep", "L2_event_policy_cascade",
			[]string{"depth: {base: 12, growth: 1.5, max: 100}", "depth: {base: 12, growth: 2, max: 1e9}"},
			"parameters.depth.max", "(1e+09) must be at most 1000"},
	}
	for _, tc := range cases {
		_, err := chaos.Parse("mine.yaml", libraryFile(t, tc.id, tc.replace...))
		var fe *chaos.FileError
		if !errors.As(err, &fe) {
			t.Errorf("%s: Parse = %v; want it refused", tc.name, err)
			continue
		}
		msg := fe.Error()
		if fe.File != "mine.yaml" || fe.Field != tc.field || !strings.Contains(msg, tc.want) || strings.Contains(msg, "\n") {
			t.Errorf("%s: refused as %q (field %q); want one line naming mine.yaml, field %q and %q", tc.name, msg, fe.Field, tc.field, tc.want)
		}
	}

	// In chaos.scenarios_dir the file is listed as not loaded, and the
	// built-in scenario it meant to override stays.
	dir := t.TempDir()
	body := libraryFile(t, "L2_runaway_handler", "task_timeout_ms: {base: 500, growth: 1, max: 500}", "task_timeout_ms: {base: 0}")
	if err := os.WriteFile(filepath.Join(dir, "runaway.yaml"), body, 0o600); err != nil {
		t.Fatal(err)
	}
	lib, err := chaos.LoadLibrary(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := "scenario runaway.yaml: parameters.task_timeout_ms.base: (0) makes a config the engine under test refuses: workers.task_timeout (0s) must be positive"
	if len(lib.Refused) != 1 || lib.Refused[0].Error() != want {
		t.Errorf("refused %v; want %q", lib.Refused, want)
	}
	if sc := lib.Get("L2_runaway_handler"); sc == nil || sc.Source != "L2_runaway_handler.yaml" {
		t.Errorf("the built-in L2_runaway_handler: %+v; want it kept", sc)
	}
}

// paramLine is one parameter of a scenario file, on a line of its own.
var paramLine = regexp.MustCompile(`(?m)^  ([a-z_]+): \{base: [^}]*\}$`)

// Whatever value a built-in scenario's parameter is given (none, a
// fraction that rounds to none, more than the engine's limits), the file
// is either refused naming that parameter, or loaded and its engine under
// test's config at difficulty 1 is one the engine takes: no file that
// loads fails every run at its own values.
func TestNoScenarioThatLoadsMakesAConfigTheEngineRefuses(t *testing.T) {
	t.Parallel()
	names, err := fs.Glob(scenarios.Library, "*.yaml")
	if err != nil || len(names) == 0 {
		t.Fatalf("built-in scenarios: %v, %v", names, err)
	}
	dir := t.TempDir()
	checked := 0
	for _, name := range names {
		b, err := scenarios.Library.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range paramLine.FindAllSubmatch(b, -1) {
			param := string(m[1])
			for _, v := range []string{"0", "0.3", "20000"} {
				line := fmt.Sprintf("  %s: {base: %s}", param, v)
				body := strings.Replace(string(b), string(m[0]), line, 1)
				sc, err := chaos.Parse(name, []byte(body))
				if err != nil {
					var fe *chaos.FileError
					if !errors.As(err, &fe) || !strings.HasPrefix(fe.Field, "parameters."+param) {
						t.Errorf("%s with %q: refused as %v; want the refusal to name parameters.%s", name, line, err, param)
					}
					continue
				}
				checked++
				if err := chaos.IsolatedConfig(engine.Default(), dir, sc, 1).Validate(); err != nil {
					t.Errorf("%s with %q: loaded, but the engine under test refuses its config:\n%v", name, line, err)
				}
			}
		}
	}
	if checked == 0 {
		t.Fatal("no variant loaded: nothing checked")
	}
}

// A file whose values the engine takes may grow, at a difficulty a run
// asks for, past what it takes (here 20 workers doubling a level, with no
// max: 10,240 at difficulty 10). That is the run's to refuse, as it was,
// but before anything runs and naming the scenario, difficulty, parameter,
// value and file, not as the isolated engine's "new engine: workers.count
// (10240) must be at most 10000": an operator's request is refused on its
// difficulty, and a loop run fails that scenario alone, opening no engine.
func TestADifficultyPastWhatTheEngineTakesIsRefusedBeforeTheRun(t *testing.T) {
	t.Parallel()
	var opened atomic.Int32
	b := setupService(t, serviceSetup{open: func(context.Context, engine.Config, *slog.Logger) (chaos.Target, error) {
		opened.Add(1)
		return nil, errors.New("no engine in this test")
	}})
	body := libraryFile(t, "L2_runaway_handler", "id: L2_runaway_handler", "id: ZZ_many_workers",
		"workers: {base: 4, growth: 1.25, max: 16}", "workers: {base: 20, growth: 2}")
	sc, err := chaos.Parse("many.yaml", body)
	if err != nil {
		t.Fatalf("Parse: %v; want it loaded (20 workers at difficulty 1)", err)
	}
	b.lib.Scenarios = append(b.lib.Scenarios, sc)
	const want = "scenario ZZ_many_workers at difficulty 10 scales parameters.workers to 10240, which makes a config the engine under test refuses: workers.count (10240) must be at most 10000 (lower the difficulty, or change the parameter in many.yaml)"

	ctx := context.Background()
	_, err = b.svc.StartChaos(ctx, engine.ChaosRequest{Scenarios: []string{sc.ID}, Difficulty: 10, Operator: "alice"})
	var re *engine.ChaosRequestError
	if !errors.As(err, &re) || re.Field != "difficulty" || re.Reason != want {
		t.Fatalf("an operator asking for difficulty 10: %v; want the request refused on difficulty: %s", err, want)
	}

	// Escalated to 10 by the loop.
	if err := b.st.SaveScenarioState(ctx, chaos.ScenarioState{Scenario: sc.ID, Difficulty: 10, Runs: 45, LastVerdict: engine.ChaosPassed}); err != nil {
		t.Fatal(err)
	}
	run, err := b.svc.RunLoop(ctx, engine.ChaosRequest{Scenarios: []string{sc.ID}}, nil)
	if err != nil {
		t.Fatalf("loop run: %v; want the scenario failed alone", err)
	}
	if len(run.Scenarios) != 1 || run.Scenarios[0].Passed || !strings.Contains(run.Scenarios[0].Error, "its parameters cannot be met: "+want) {
		t.Fatalf("loop run: %+v; want the scenario failed with %q", run.Scenarios, want)
	}
	if n := opened.Load(); n != 0 {
		t.Errorf("%d engines opened for a run whose config the engine refuses", n)
	}
}
