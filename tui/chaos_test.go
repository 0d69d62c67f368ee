package tui

import (
	"slices"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"grace/engine"
	"grace/engine/watchdog"
)

// setupChaos is setup over the fixture engine with the fixture chaos
// service, on the Chaos screen with everything fetched.
func setupChaos(t *testing.T, opts ...func(*Options)) (*testBundle, chaosFake) {
	t.Helper()
	var cf chaosFake
	b := setupWith(t, func(a *fakeAPI) engine.OperatorAPI {
		cf = newChaosFake(a)
		return cf
	}, opts...)
	b.run(t, b.press(t, "3"))
	if !b.m.chaos.scenLoaded || !b.m.chaos.runsLoaded || b.m.pc.chaos.statusAt.IsZero() {
		t.Fatalf("the Chaos screen did not fetch its library, runs and status:\n%s", b.view())
	}
	return b, cf
}

func TestRunAsksThenRunsTheSelectedScenario(t *testing.T) {
	t.Parallel()
	b, cf := setupChaos(t)
	b.press(t, "j") // DIRT_bus_partition
	b.press(t, "r")
	if b.m.chaos.confirm == nil || !strings.Contains(b.view(), "Run DIRT_bus_partition (dirt, difficulty 1) on an isolated engine? (y/N)") {
		t.Fatalf("r did not ask:\n%s", b.view())
	}
	if starts, _ := cf.fakeChaos.calls(); len(starts) != 0 {
		t.Fatalf("r started a run before the y: %+v", starts)
	}
	b.run(t, b.press(t, "y"))
	starts, _ := cf.fakeChaos.calls()
	want := engine.ChaosRequest{Scenarios: []string{"DIRT_bus_partition"}, Operator: "ops", Trigger: engine.ChaosTriggerOperator}
	if len(starts) != 1 || !slices.Equal(starts[0].Scenarios, want.Scenarios) || starts[0].Operator != want.Operator ||
		starts[0].Trigger != want.Trigger || starts[0].All || starts[0].Live {
		t.Fatalf("starts %+v, want one %+v", starts, want)
	}
	if got := b.statusText(); got != "chaos run chr_test0001 started: DIRT_bus_partition" {
		t.Errorf("status %q", got)
	}
	if !strings.Contains(b.view(), "▶ running chr_test0001") {
		t.Errorf("the run in progress is not shown:\n%s", b.view())
	}
	// A second run while one goes is refused in the console already.
	b.press(t, "r")
	if b.m.chaos.confirm != nil || !strings.Contains(b.statusText(), "is in progress") {
		t.Errorf("r during a run: confirm %v, status %q", b.m.chaos.confirm, b.statusText())
	}
}

func TestRunAnsweredNoRunsNothing(t *testing.T) {
	t.Parallel()
	b, cf := setupChaos(t)
	for _, no := range []string{"n", "<esc>", "q", "r"} {
		b.press(t, "r")
		b.run(t, b.press(t, no))
		if b.m.chaos.confirm != nil {
			t.Fatalf("%s left the question open", no)
		}
		if !strings.Contains(b.statusText(), "chaos run cancelled") {
			t.Errorf("%s: status %q", no, b.statusText())
		}
	}
	if starts, _ := cf.fakeChaos.calls(); len(starts) != 0 {
		t.Fatalf("a run was started without y: %+v", starts)
	}
	if b.m.screens[b.m.active].id() != screenChaos {
		t.Error("q as the answer quit the screen")
	}
}

func TestRunAllAndCommandLine(t *testing.T) {
	t.Parallel()
	b, cf := setupChaos(t)
	b.press(t, "R")
	b.run(t, b.press(t, "y"))
	// The run ends.
	cf.fakeChaos.setStatus(fixtureChaosStatus())
	b.run(t, b.send(eventsMsg{events: []engine.Event{{Kind: engine.EventChaos, Chaos: &engine.ChaosProgress{RunID: "chr_test0001", State: engine.ChaosPassed}}}}))
	b.run(t, b.command(t, "chaos run L2_policy_cascade"))
	if b.m.chaos.confirm == nil {
		t.Fatalf(":chaos run did not ask:\n%s", b.view())
	}
	b.run(t, b.press(t, "Y"))
	b.run(t, b.command(t, "chaos run NOPE_unknown"))
	if got := b.statusText(); !strings.HasPrefix(got, "no chaos scenario NOPE_unknown (known: DIRT_critical_kernel_loss,") {
		t.Errorf(":chaos run of an unknown scenario: status %q", got)
	}
	starts, _ := cf.fakeChaos.calls()
	if len(starts) != 2 || !starts[0].All || len(starts[0].Scenarios) != 0 ||
		!slices.Equal(starts[1].Scenarios, []string{"L2_policy_cascade"}) {
		t.Fatalf("starts %+v, want all, then L2_policy_cascade", starts)
	}
	b.run(t, b.command(t, "chaos runs"))
	if b.m.chaos.section != chaosRuns || !strings.Contains(b.view(), "chr_01JPB8OPS0001") {
		t.Errorf(":chaos runs did not show the runs:\n%s", b.view())
	}
}

func TestRunRefusedByTheEngineSaysWhy(t *testing.T) {
	t.Parallel()
	b, cf := setupChaos(t)
	cf.fakeChaos.startErr = engine.ErrChaosBusy
	b.press(t, "r")
	b.run(t, b.press(t, "y"))
	if got := b.statusText(); got != "chaos run of DIRT_critical_kernel_loss refused: a chaos run is already in progress (halt it first, or wait)" {
		t.Errorf("status %q", got)
	}
	if b.m.chaos.starting {
		t.Error("still starting after the refusal")
	}
}

func TestHaltFromAnyScreen(t *testing.T) {
	t.Parallel()
	b, cf := setupChaos(t)
	run := engine.ChaosRun{RunID: "chr_01JPBRUN0001", State: engine.ChaosRunning, Requested: []string{"L2_htm_queue_flood"}}
	cf.fakeChaos.setStatus(func() engine.ChaosStatus { s := fixtureChaosStatus(); s.Running = &run; return s }())
	b.run(t, b.press(t, "4")) // Narratives
	b.run(t, b.send(eventsMsg{events: []engine.Event{progressEvent(run.RunID, "L2_htm_queue_flood", 1, 1, engine.ChaosPhaseInject, []string{"intake_flood"}, nil)}}))
	b.press(t, "H")
	if !b.m.halt.asking || !strings.Contains(b.view(), "Halt chaos run chr_01JPBRUN0001 now and remove its faults? (y/N)") {
		t.Fatalf("H did not ask:\n%s", b.view())
	}
	b.run(t, b.press(t, "n"))
	if _, halts := cf.fakeChaos.calls(); len(halts) != 0 || b.m.halt.asking {
		t.Fatalf("n halted (%v) or left the question open", halts)
	}
	b.press(t, "H")
	b.run(t, b.press(t, "y"))
	if _, halts := cf.fakeChaos.calls(); !slices.Equal(halts, []string{"ops"}) {
		t.Fatalf("halts %v, want one by ops", halts)
	}
	if got := b.statusText(); got != "halted 1 chaos run (chr_01JPBRUN0001)" {
		t.Errorf("status %q", got)
	}
	if _, _, ok := b.m.pc.chaos.live(); ok {
		t.Error("the halted run still shows as running")
	}
	if b.m.screens[b.m.active].id() != screenNarratives {
		t.Error("halting left the screen the operator was on")
	}
	// Nothing running: the halt says so.
	b.run(t, b.command(t, "chaos halt"))
	b.run(t, b.press(t, "y"))
	if got := b.statusText(); got != "nothing to halt: no chaos run was in progress" {
		t.Errorf("second halt: status %q", got)
	}
}

func TestReadOnlyRefusesRunAndHalt(t *testing.T) {
	t.Parallel()
	b, cf := setupChaos(t, func(o *Options) { o.ReadOnly = true })
	for _, k := range []string{"r", "R", "H"} {
		b.run(t, b.press(t, k))
		b.run(t, b.press(t, "y"))
		if !strings.HasPrefix(b.statusText(), "read-only console: ") {
			t.Errorf("%s: status %q", k, b.statusText())
		}
	}
	b.run(t, b.command(t, "chaos run L2_policy_cascade"))
	b.run(t, b.press(t, "y"))
	if starts, halts := cf.fakeChaos.calls(); len(starts)+len(halts) != 0 {
		t.Fatalf("a read-only console ran %+v or halted %v", starts, halts)
	}
	lines := strings.Split(b.view(), "\n")
	if footer := lines[len(lines)-1]; strings.Contains(footer, "run") || strings.Contains(footer, "halt") {
		t.Errorf("the footer offers run or halt in read-only mode: %q", footer)
	}
	b.press(t, "?")
	if v := b.view(); strings.Contains(v, "halt") || strings.Contains(v, ":chaos run") || strings.Contains(v, "run scenario") {
		t.Errorf("the help offers run or halt in read-only mode:\n%s", v)
	}
}

func TestProgressEventsUpdateTheView(t *testing.T) {
	t.Parallel()
	b, cf := setupChaos(t)
	id := "chr_01JPBRUN0001"
	steps := []struct {
		ev   engine.Event
		want []string
	}{
		{progressEvent(id, "L2_htm_queue_flood", 1, 2, engine.ChaosPhaseSteadyBefore, nil, nil),
			[]string{"scenario L2_htm_queue_flood 1/2", "steady state before (1/6)"}},
		{progressEvent(id, "L2_htm_queue_flood", 1, 2, engine.ChaosPhaseWatch, []string{"intake_flood"}, []string{"htm_rate_limit"}),
			[]string{"watch (3/6)", "faults     intake_flood", "safeguards htm_rate_limit"}},
		{progressEvent(id, "L2_policy_cascade", 2, 2, engine.ChaosPhaseInject, []string{"policy_loop"}, nil),
			[]string{"scenario L2_policy_cascade 2/2", "inject (2/6)", "faults     policy_loop"}},
	}
	for _, s := range steps {
		b.run(t, b.send(eventsMsg{events: []engine.Event{s.ev}}))
		v := b.view()
		for _, w := range s.want {
			if !strings.Contains(v, w) {
				t.Fatalf("after %s/%s the view lacks %q:\n%s", s.ev.Chaos.Scenario, s.ev.Chaos.Phase, w, v)
			}
		}
	}
	// The dashboard shows the same run on one line.
	b.run(t, b.press(t, "1"))
	if v := b.view(); !strings.Contains(v, "chaos ▶ L2_policy_cascade 2/2 · inject (2/6) · 1 fault · 0 fired") || !strings.Contains(v, "H halt") {
		t.Errorf("the dashboard lacks the run:\n%s", v)
	}
	// The run ends: its results are fetched and the verdict shown.
	done := fixtureChaosRuns()[0]
	done.RunID = id
	cf.fakeChaos.history = append([]engine.ChaosRun{done}, cf.fakeChaos.history...)
	b.run(t, b.press(t, "3"))
	b.run(t, b.send(eventsMsg{events: []engine.Event{{Kind: engine.EventChaos, Chaos: &engine.ChaosProgress{RunID: id, Phase: engine.ChaosPhaseDone, State: engine.ChaosFailed}}}}))
	v := b.view()
	for _, w := range []string{"Last run", "✗ failed " + id + " · 1 of 2 passed", "✗ DIRT_bus_partition safeguard bus_acl did not fire"} {
		if !strings.Contains(v, w) {
			t.Errorf("after the run ended the view lacks %q:\n%s", w, v)
		}
	}
	if strings.Contains(v, "Run in progress") {
		t.Errorf("the ended run still shows as in progress:\n%s", v)
	}
	if got := b.statusText(); got != "chaos run "+id+" ended: ✗ failed" {
		t.Errorf("status %q", got)
	}
}

func TestNoChaosServiceExplains(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.run(t, b.press(t, "3"))
	v := b.view()
	if b.m.screens[b.m.active].id() != screenChaos || !strings.Contains(v, "▲ chaos is not available on this engine") ||
		!strings.Contains(v, "This engine offers no chaos service") {
		t.Fatalf("no explanation:\n%s", v)
	}
	b.press(t, "r")
	if b.m.chaos.confirm != nil {
		t.Error("r asked to run on an engine without chaos")
	}
	b.run(t, b.press(t, "1"))
	if strings.Contains(b.view(), "chaos ") {
		t.Errorf("the dashboard shows chaos on an engine without it:\n%s", b.view())
	}
}

func TestChaosScreenFitsAnySize(t *testing.T) {
	t.Parallel()
	b, _ := setupChaos(t)
	m := b.m
	states := []struct {
		name  string
		enter func()
	}{
		{"list", func() {}},
		{"running", func() {
			b.send(eventsMsg{events: []engine.Event{progressEvent("chr_x", "L2_htm_queue_flood", 1, 9, engine.ChaosPhaseWatch,
				[]string{"intake_flood", "kill_worker"}, []string{"htm_rate_limit", "htm_load_shedding"})}})
		}},
		{"detail", func() { b.press(t, "G", "<enter>", "G") }},
		{"runs detail", func() { b.press(t, "<esc>", "l", "<enter>") }},
		{"findings detail", func() { b.press(t, "<esc>", "l", "<enter>", "j", "j") }},
		{"knowledge", func() { b.press(t, "<esc>", "l") }},
		{"knowledge detail", func() { b.press(t, "<enter>") }},
		{"dashboard", func() { b.press(t, "1") }},
		{"halt question", func() { b.press(t, "H") }},
	}
	for _, s := range states {
		s.enter()
		for w := 20; w <= 220; w += 13 {
			for h := 5; h <= 70; h += 7 {
				b.send(tea.WindowSizeMsg{Width: w, Height: h})
				v := b.view()
				checkBounds(t, v, w, h)
				if n := strings.Count(v, "\n") + 1; n != h {
					t.Errorf("%s at %dx%d: %d lines", s.name, w, h, n)
				}
				if t.Failed() {
					t.Fatalf("%s at %dx%d (section %s):\n%s", s.name, w, h, m.chaos.section.name(), v)
				}
			}
		}
	}
}

func TestAlertHistoryFromTheWatchdog(t *testing.T) {
	t.Parallel()
	old := watchdog.Alert{ID: "alr_20250314T120000_aa11bb", Key: "trigger_mesh/drops", Component: watchdog.NameMesh,
		Condition: "drops", Severity: watchdog.Warn, Peak: watchdog.Critical, Summary: "Mesh dropped 4,210 events in 1m",
		FirstSeen: fixedNow.Add(-3 * time.Hour), LastSeen: fixedNow.Add(-2 * time.Hour), ResolvedAt: fixedNow.Add(-2 * time.Hour),
		Count: 240, Resolution: "drops back under 1%"}
	var hf healthFake
	b := setupWith(t, func(a *fakeAPI) engine.OperatorAPI {
		hf = healthFake{fakeAPI: a, alerts: []watchdog.Alert{old}}
		return hf
	})
	b.send(snapshotMsg{snap: alertsSnapshot()})
	b.run(t, b.press(t, "5"))
	v := b.view()
	if !strings.Contains(v, "Trigger Mesh/drops") || !strings.Contains(v, "the watchdog's alert history, loaded") {
		t.Fatalf("the resolved alert from the history is not listed:\n%s", v)
	}
	// An alert the console saw resolve is merged with the history.
	b.run(t, b.send(eventsMsg{events: []engine.Event{resolvedEvent()}}))
	if v := b.view(); !strings.Contains(v, "Scheduler/dispatch_latency") || !strings.Contains(v, "Trigger Mesh/drops") {
		t.Errorf("history and events not merged:\n%s", v)
	}
	// Not every frame: a tick within alertHistoryEvery fetches nothing.
	b.clock.advance(time.Second)
	if cmd := b.m.alerts.tick(); cmd != nil {
		t.Error("the alert history was fetched again within a second")
	}
	b.clock.advance(alertHistoryEvery)
	if cmd := b.m.alerts.tick(); cmd == nil {
		t.Error("the alert history was not fetched again after alertHistoryEvery")
	}
}

func TestChaosFilterNarrowsAndRunsTheFilteredScenario(t *testing.T) {
	t.Parallel()
	b, cf := setupChaos(t)
	b.press(t, "/")
	if !b.m.chaos.capturing() || !b.m.chaos.filter.editing {
		t.Fatalf("/ did not open the filter box:\n%s", b.view())
	}
	// Typed live: "layer2" narrows the library to its two Layer 2 scenarios.
	b.press(t, "l", "a", "y", "e", "r", "2")
	view := b.view()
	if !strings.Contains(view, "filter “layer2”: 2/6 shown") || !strings.Contains(view, "Scenarios 2/6") ||
		!strings.Contains(view, "L2_policy_cascade") || strings.Contains(view, "DIRT_bus_partition") {
		t.Fatalf("typing layer2 did not narrow the scenarios:\n%s", view)
	}
	if b.m.chaos.confirm != nil {
		t.Fatal("r typed into the filter asked to run")
	}
	// "cut" is in L2_policy_cascade's description only.
	b.press(t, " ", "c", "u", "t")
	if got := b.m.chaos.shownScenarios(); len(got) != 1 || got[0].ID != "L2_policy_cascade" {
		t.Fatalf("layer2 cut: shown %v, want L2_policy_cascade", got)
	}
	b.press(t, "<enter>")
	if b.m.chaos.capturing() || b.m.chaos.query[chaosScenarios] != "layer2 cut" {
		t.Fatalf("enter did not keep the filter: editing %v, query %q", b.m.chaos.filter.editing, b.m.chaos.query[chaosScenarios])
	}
	// The cursor is on the one row shown, and r runs it.
	b.press(t, "j", "r")
	if b.m.chaos.confirm == nil || !strings.Contains(b.view(), "Run L2_policy_cascade (layer2_orchestration, difficulty 2)") {
		t.Fatalf("r did not ask to run the filtered scenario:\n%s", b.view())
	}
	b.run(t, b.press(t, "y"))
	starts, _ := cf.fakeChaos.calls()
	if len(starts) != 1 || !slices.Equal(starts[0].Scenarios, []string{"L2_policy_cascade"}) {
		t.Fatalf("starts %+v, want L2_policy_cascade", starts)
	}
}

func TestChaosFilterEscClearsThenGoesBack(t *testing.T) {
	t.Parallel()
	b, _ := setupChaos(t)
	// esc while typing clears the filter and closes the box.
	b.press(t, "/", "f", "l", "o", "o", "d")
	if n := b.m.chaos.rowCount(); n != 1 {
		t.Fatalf("flood shows %d scenarios, want 1", n)
	}
	b.press(t, "<esc>")
	if b.m.chaos.capturing() || b.m.chaos.query[chaosScenarios] != "" || b.m.chaos.rowCount() != 6 {
		t.Fatalf("esc in the box: editing %v, query %q, %d shown", b.m.chaos.filter.editing, b.m.chaos.query[chaosScenarios], b.m.chaos.rowCount())
	}
	// A kept filter: the cursor stays on the selected scenario while it is
	// shown, and on a shown row when it is not.
	b.press(t, "G") // L2_policy_cascade
	b.press(t, "/", "d", "i", "r", "t", "<enter>")
	if sc, ok := b.m.chaos.selectedScenario(); !ok || !strings.HasPrefix(sc.ID, "DIRT_") {
		t.Fatalf("selected %q (%v) under the dirt filter", sc.ID, ok)
	}
	b.press(t, "<enter>") // the detail
	b.press(t, "<esc>")   // closes the detail, the filter stays
	if b.m.chaos.detail || b.m.chaos.query[chaosScenarios] != "dirt" {
		t.Fatalf("first esc: detail %v, query %q", b.m.chaos.detail, b.m.chaos.query[chaosScenarios])
	}
	b.press(t, "<esc>") // clears the filter
	if b.m.chaos.query[chaosScenarios] != "" || b.statusText() != "filter cleared" || strings.Contains(b.view(), "filter “") {
		t.Fatalf("second esc: query %q, status %q:\n%s", b.m.chaos.query[chaosScenarios], b.statusText(), b.view())
	}
	if done, _ := b.m.chaos.back(); done {
		t.Error("with no filter and no detail, back still claimed esc")
	}
}

func TestChaosFilterTakesGlobalKeys(t *testing.T) {
	t.Parallel()
	b, _ := setupChaos(t)
	b.press(t, "/", "H", "1", "r")
	if b.m.halt.asking {
		t.Fatal("H typed into the filter opened the halt question")
	}
	if b.m.screens[b.m.active].id() != screenChaos || b.m.chaos.confirm != nil {
		t.Fatal("1 or r typed into the filter acted")
	}
	if got := b.m.chaos.filter.input.Value(); got != "H1r" {
		t.Errorf("filter text %q, want H1r", got)
	}
	if !strings.Contains(b.view(), "nothing matches the filter “H1r” (esc clears it)") {
		t.Errorf("an empty match is not explained:\n%s", b.view())
	}
	// Other sections: the findings filter matches a state, the runs one an
	// operator, the knowledge one a fix; each section keeps its own.
	b.press(t, "<esc>", "l", "/", "o", "p", "s", "<enter>")
	if runs := b.m.chaos.shownRuns(); len(runs) != 1 || runs[0].RunID != "chr_01JPB8OPS0001" {
		t.Errorf("runs filtered by ops: %v", runs)
	}
	b.press(t, "l", "/", "b", "u", "s", "<enter>")
	if fs := b.m.chaos.shownFindings(); len(fs) != 1 || fs[0].Safeguard != "bus_acl" {
		t.Errorf("findings filtered by bus: %v", fs)
	}
	b.press(t, "l", "/", "n", "o", "p", "e", "<enter>")
	if ks := b.m.chaos.shownKnowledge(); len(ks) != 0 || b.m.chaos.rowCount() != 0 {
		t.Errorf("knowledge filtered by nope: %v", ks)
	}
	if b.m.chaos.query[chaosRuns] != "ops" || b.m.chaos.query[chaosScenarios] != "" {
		t.Errorf("queries %q", b.m.chaos.query)
	}
	if !strings.Contains(b.view(), "Runs 1/2") {
		t.Errorf("the tabs do not count the filtered runs:\n%s", b.view())
	}
}
