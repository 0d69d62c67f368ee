package chaos_test

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"grace/engine/chaos"
)

const goodScenario = `id: Good
category: layer2_orchestration
description: proves the loader loads
parameters:
  queued: {base: 10, growth: 2, max: 30}
  auto_resume_after_ms: {base: 100}
faults: [{kind: pause_scheduler}]
safeguards: {expected: [scheduler_auto_resume]}
invariants: [no_lost_intents]
steady_state: [engine_ready, queue_drained]
deadline: 2s
`

// dropoutScenario is a valid scenario whose fault reads a share.
const dropoutScenario = `id: Dropout
category: layer2_orchestration
description: kills a share of the workers
parameters:
  workers: {base: 8}
  kill_share: {base: 0.5}
  tasks: {base: 40}
  handler_latency_ms: {base: 200}
faults: [{kind: kill_workers}]
safeguards: {expected: [worker_reassignment]}
invariants: [no_lost_intents]
`

func TestParseRefusesNamingFileAndField(t *testing.T) {
	t.Parallel()
	replace := func(old, new string) string { return strings.Replace(goodScenario, old, new, 1) }
	for _, tc := range []struct {
		name, body, field, want string
	}{
		{"not yaml", "id: [unclosed", "", "yaml"},
		{"unknown field", goodScenario + "colour: red\n", "colour", `line 12: unknown key "colour"`},
		{"unknown field of a parameter", replace("{base: 10, growth: 2, max: 30}", "{base: 10, growth: 2, max: 30, colour: red}"), "parameters.queued.colour", `unknown key "colour"`},
		{"a key given twice", replace("category: layer2_orchestration", "category: layer2_orchestration\ncategory: fit"), "category", `line 3: key "category" is given twice (first at line 2)`},
		{"a parameter that is not a number", replace("base: 10,", "base: ten,"), "parameters.queued.base", `line 5: "ten" is not a number`},
		{"a list that is not a list", replace("{expected: [scheduler_auto_resume]}", "{expected: scheduler_auto_resume}"), "safeguards.expected", `"scheduler_auto_resume" is not a list`},
		{"faults as a mapping", replace("faults: [{kind: pause_scheduler}]", "faults: {kind: pause_scheduler}"), "faults", "a mapping is not a list of faults"},
		{"a NaN parameter", replace("base: 10,", "base: .nan,"), "parameters.queued.base", "(NaN) must be a finite number"},
		{"an infinite growth", replace("growth: 2,", "growth: .inf,"), "parameters.queued.growth", "(+Inf) must be a finite number"},
		{"a max below the base", replace("max: 30", "max: 5"), "parameters.queued.max", "(5) is below base (10)"},
		{"no invariants", replace("invariants: [no_lost_intents]\n", ""), "invariants", "at least one invariant is required"},
		{"linearizable without a history", replace("[no_lost_intents]", "[no_lost_intents, linearizable]"), "invariants[1]", "would never be checked"},
		{"a steady state that does not drain", replace("[engine_ready, queue_drained]", "[engine_ready]"), "steady_state", "must include queue_drained"},
		{"a share above 1", strings.Replace(dropoutScenario, "kill_share: {base: 0.5}", "kill_share: {base: 1.5}", 1), "parameters.kill_share.base", "must be at most 1"},
		{"a share whose max is above 1", strings.Replace(dropoutScenario, "kill_share: {base: 0.5}", "kill_share: {base: 0.5, growth: 1.5, max: 2}", 1), "parameters.kill_share.max", "must be at most 1"},
		{"a share that grows past 1", strings.Replace(dropoutScenario, "kill_share: {base: 0.5}", "kill_share: {base: 0.5, growth: 2}", 1), "parameters.kill_share.max", "passes 1 at difficulty 3"},
		{"a share at which the fault does nothing", strings.Replace(dropoutScenario, "kill_share: {base: 0.5}", "kill_share: {base: 0}", 1), "parameters.kill_share.base", "the fault does nothing"},
		{"no id", replace("id: Good", "id: ''"), "id", "required"},
		{"id climbing out of the runs folder", replace("id: Good", "id: '..'"), "id", "one word"},
		{"id with a slash", replace("id: Good", "id: a/b"), "id", "one word"},
		{"bad category", replace("category: layer2_orchestration", "category: vibes"), "category", `"vibes"`},
		{"no description", replace("description: proves the loader loads", "description: ''"), "description", "required"},
		{"unknown fault", replace("kind: pause_scheduler", "kind: unplug_datacenter"), "faults[0].kind", "unknown fault"},
		{"unknown safeguard", replace("[scheduler_auto_resume]", "[scheduler_auto_resume, seatbelts]"), "safeguards.expected[1]", `unknown safeguard "seatbelts"`},
		{"unknown parameter", replace("  queued:", "  colour: {base: 1}\n  queued:"), "parameters.colour", "unknown parameter"},
		{"missing parameter", replace("  auto_resume_after_ms: {base: 100}\n", ""), "parameters.auto_resume_after_ms", "required by fault pause_scheduler"},
		{"negative parameter", replace("base: 10,", "base: -10,"), "parameters.queued.base", "must not be negative"},
		{"unknown invariant", replace("[no_lost_intents]", "[no_bugs]"), "invariants[0]", "unknown invariant"},
		{"unknown steady check", replace("[engine_ready,", "[vibes_ok,"), "steady_state[0]", "unknown check"},
		{"bad require", replace("{expected: [scheduler_auto_resume]}", "{expected: [scheduler_auto_resume], require: most}"), "safeguards.require", "all or any"},
		{"bad deadline", replace("deadline: 2s", "deadline: soon"), "deadline", `line 11: "soon" is not a duration`},
		{"a second document", goodScenario + "---\nid: Other\n", "", "a second YAML document starts here"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := chaos.Parse("bad.yaml", []byte(tc.body))
			var fe *chaos.FileError
			if !errors.As(err, &fe) {
				t.Fatalf("Parse = %v, want a *FileError", err)
			}
			if fe.File != "bad.yaml" || fe.Field != tc.field || !strings.Contains(err.Error(), tc.want) ||
				!strings.Contains(err.Error(), "bad.yaml") {
				t.Fatalf("error %q (file %q, field %q); want file bad.yaml, field %q, text %q", err, fe.File, fe.Field, tc.field, tc.want)
			}
		})
	}
}

// TestParseKeepsTheGoodScenarios: the shapes a valid file may take load:
// a share that grows to a max of at most 1, and a file that leaves its
// steady state out gets the default one, which drains the queue.
func TestParseKeepsTheGoodScenarios(t *testing.T) {
	t.Parallel()
	for name, body := range map[string]string{
		"good":            goodScenario,
		"dropout":         dropoutScenario,
		"a growing share": strings.Replace(dropoutScenario, "kill_share: {base: 0.5}", "kill_share: {base: 0.25, growth: 1.5, max: 0.75}", 1),
	} {
		sc, err := chaos.Parse(name+".yaml", []byte(body))
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if !slices.Contains(sc.SteadyState, chaos.SteadyQueueDrained) {
			t.Errorf("%s: steady state %v does not drain the queue", name, sc.SteadyState)
		}
	}
}

func TestLoadKeepsTheGoodFilesAndOverrides(t *testing.T) {
	t.Parallel()
	base := fstest.MapFS{
		"good.yaml":   {Data: []byte(goodScenario)},
		"broken.yaml": {Data: []byte("id: Broken\n  category: [")},
		"notes.txt":   {Data: []byte("not a scenario")},
	}
	override := fstest.MapFS{"mine.yaml": {Data: []byte(strings.Replace(goodScenario, "proves the loader loads", "overridden", 1))}}
	lib, err := chaos.Load(base, override)
	if err != nil {
		t.Fatal(err)
	}
	if len(lib.Scenarios) != 1 || lib.Get("Good") == nil || lib.Get("Good").Description != "overridden" || lib.Get("Good").Source != "mine.yaml" {
		t.Fatalf("scenarios %+v", lib.Scenarios)
	}
	if len(lib.Refused) != 1 || !strings.Contains(lib.Refused[0].Error(), "broken.yaml") {
		t.Fatalf("refused %v", lib.Refused)
	}
	sc := lib.Get("Good")
	if got := sc.Parameters["queued"].At(1); got != 10 {
		t.Errorf("queued at difficulty 1 = %v, want 10", got)
	}
	if got := sc.Parameters["queued"].At(2); got != 20 {
		t.Errorf("queued at difficulty 2 = %v, want 20", got)
	}
	if got := sc.Parameters["queued"].At(5); got != 30 {
		t.Errorf("queued at difficulty 5 = %v, want the max 30", got)
	}
}

func TestEmbeddedLibraryHasTheLayer2Scenarios(t *testing.T) {
	t.Parallel()
	lib, err := chaos.LoadLibrary("")
	if err != nil {
		t.Fatal(err)
	}
	if len(lib.Refused) > 0 {
		t.Fatalf("refused: %v", lib.Refused)
	}
	for _, id := range []string{"L2_HTM_queue_flood_stress", "L2_trigger_mesh_storm", "L2_scheduler_pause_during_load",
		"L2_event_policy_cascade", "L2_worker_dropout_chaos"} {
		sc := lib.Get(id)
		if sc == nil || sc.Category != chaos.CategoryLayer2 || sc.Source != id+".yaml" {
			t.Errorf("scenario %s: %+v", id, sc)
		}
	}
}

func TestLoadRefusesOneIDInTwoFiles(t *testing.T) {
	t.Parallel()
	// Two files of chaos.scenarios_dir with one ID: one of them silently
	// won. Both are refused, each naming the other; the embedded scenario
	// they would override stays, and the other files load.
	dup := strings.Replace(goodScenario, "proves the loader loads", "the other one", 1)
	embedded := fstest.MapFS{"good.yaml": {Data: []byte(goodScenario)}}
	dir := fstest.MapFS{
		"a.yaml":     {Data: []byte(dup)},
		"b.yaml":     {Data: []byte(dup)},
		"other.yaml": {Data: []byte(strings.Replace(goodScenario, "id: Good", "id: Other", 1))},
	}
	lib, err := chaos.Load(embedded, dir)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		`scenario a.yaml: id: "Good" is also the id of b.yaml, case aside: a scenario ID must be unique, so no file with it is loaded`,
		`scenario b.yaml: id: "Good" is also the id of a.yaml, case aside: a scenario ID must be unique, so no file with it is loaded`,
	}
	if len(lib.Refused) != len(want) {
		t.Fatalf("refused %v, want %q", lib.Refused, want)
	}
	for i, w := range want {
		if got := lib.Refused[i].Error(); got != w {
			t.Errorf("refused[%d] = %q, want %q", i, got, w)
		}
	}
	if g := lib.Get("Good"); g == nil || g.Source != "good.yaml" || lib.Get("Other") == nil || len(lib.Scenarios) != 2 {
		t.Fatalf("scenarios %+v", lib.Scenarios)
	}
}

func TestLoadRefusesIDsThatDifferOnlyInCase(t *testing.T) {
	t.Parallel()
	// An override spelled "good" for the library's "Good" ran beside the
	// scenario it was meant to replace; two files "Other" and "OTHER"
	// loaded as two scenarios that an operator cannot tell apart.
	embedded := fstest.MapFS{"good.yaml": {Data: []byte(goodScenario)}}
	dir := fstest.MapFS{
		"override.yaml": {Data: []byte(strings.Replace(goodScenario, "id: Good", "id: good", 1))},
		"o1.yaml":       {Data: []byte(strings.Replace(goodScenario, "id: Good", "id: Other", 1))},
		"o2.yaml":       {Data: []byte(strings.Replace(goodScenario, "id: Good", "id: OTHER", 1))},
	}
	lib, err := chaos.Load(embedded, dir)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		`scenario o1.yaml: id: "Other" is also the id of o2.yaml, case aside: a scenario ID must be unique, so no file with it is loaded`,
		`scenario o2.yaml: id: "OTHER" is also the id of o1.yaml, case aside: a scenario ID must be unique, so no file with it is loaded`,
		`scenario override.yaml: id: "good" differs only in case from Good (good.yaml): to replace that scenario, give its exact ID; to add another, choose an ID that differs by more than case`,
	}
	if len(lib.Refused) != len(want) {
		t.Fatalf("refused %v, want %q", lib.Refused, want)
	}
	for i, w := range want {
		if got := lib.Refused[i].Error(); got != w {
			t.Errorf("refused[%d] = %q, want %q", i, got, w)
		}
	}
	if len(lib.Scenarios) != 1 || lib.Get("Good").Source != "good.yaml" {
		t.Fatalf("scenarios %+v", lib.Scenarios)
	}
}

func TestNotFoundSuggestsTheScenarioMeant(t *testing.T) {
	t.Parallel()
	lib, err := chaos.LoadLibrary("")
	if err != nil {
		t.Fatal(err)
	}
	for id, want := range map[string]string{
		"l2_htm_queue_flood_stress": `no scenario "l2_htm_queue_flood_stress": did you mean L2_HTM_queue_flood_stress? (scenario IDs are case-sensitive)`,
		"runaway":                   `no scenario "runaway": did you mean L2_runaway_handler? (scenario IDs are case-sensitive)`,
		"L2":                        `no scenario "L2"`, // many hold it: no guess
		"nothing_like_it":           `no scenario "nothing_like_it"`,
	} {
		if got := lib.NotFound(id); got != want {
			t.Errorf("NotFound(%q) = %q, want %q", id, got, want)
		}
	}
}

// TestEmbeddedLibraryNeedsEverySafeguardItNames: a scenario that lists a
// safeguard claims to prove it, so switching that safeguard off must fail
// the scenario; "require: any" would let another one's firing pass it.
func TestEmbeddedLibraryNeedsEverySafeguardItNames(t *testing.T) {
	t.Parallel()
	lib, err := chaos.LoadLibrary("")
	if err != nil {
		t.Fatal(err)
	}
	for _, sc := range lib.Scenarios {
		if sc.Safeguards.Require == "any" && len(sc.Safeguards.Expected) > 1 {
			t.Errorf("%s lists %v with require: any: each must be needed, or not listed", sc.Source, sc.Safeguards.Expected)
		}
	}
}
