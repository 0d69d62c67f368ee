package tui

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"

	"grace/engine"
	"grace/engine/clarity"
	"grace/engine/intent"
)

// TestKernelGridLeavesNoEmptyColumn: at 120 columns the twenty kernels
// took four rows of six narrow cells, the sixth column empty, and cut
// names such as governance and verification that the empty column had
// room for. The grid uses as many columns as its rows need, each as wide
// as the panel allows.
func TestKernelGridLeavesNoEmptyColumn(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.send(snapshotMsg{snap: alertsSnapshot()})
	for w := 100; w <= 160; w++ {
		b.send(tea.WindowSizeMsg{Width: w, Height: 60})
		lines := strings.Split(ansi.Strip(b.view()), "\n")
		top := -1
		for i, l := range lines {
			if strings.Contains(l, "Layer 1 kernels") {
				top = i
				break
			}
		}
		if top < 0 {
			t.Fatalf("%d columns: no kernel grid:\n%s", w, strings.Join(lines, "\n"))
		}
		first := lines[top+1]
		inner := strings.TrimSuffix(strings.TrimPrefix(first, "│ "), " │")
		if blank := len([]rune(inner)) - len([]rune(strings.TrimRight(inner, " "))); blank >= kernelCellMin {
			t.Errorf("%d columns: the kernel grid's first row ends in %d blank cells, room for another column: %q", w, blank, first)
		}
	}
	b.send(tea.WindowSizeMsg{Width: 120, Height: 60})
	v := ansi.Strip(b.view())
	for _, name := range []string{"●◆ governance", "●  verification", "●  intelligence"} {
		if !strings.Contains(v, name) {
			t.Errorf("at 120 columns the kernel grid cuts %q:\n%s", name, v)
		}
	}
}

// TestApprovalsSectionBarKeepsAGapBeforeItsHint: where the section bar
// only just fit, the hint ran into its last word ("[✓ Tier 1 review
// (64)]h/l switch", "1 still runningh/l switch").
func TestApprovalsSectionBarKeepsAGapBeforeItsHint(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.run(t, b.press(t, "2"))
	b.run(t, b.press(t, "l"))
	for w := 40; w <= 120; w++ {
		b.send(tea.WindowSizeMsg{Width: w, Height: 24})
		bar := strings.Split(ansi.Strip(b.view()), "\n")[1]
		if !strings.Contains(bar, "Pending approvals") {
			t.Fatalf("%d columns: the second line is not the section bar: %q", w, bar)
		}
		if i := strings.Index(bar, "h/l switch"); i > 0 && bar[i-1] != ' ' {
			t.Errorf("%d columns: the hint runs into the tab: %q", w, bar)
		}
	}
}

// TestCommandLineReasonRefusalShows: ":cancel ID" asks for the reason on
// the status line itself, so an empty enter's "cancel needs a reason" had
// nowhere to show: the key seemed to do nothing. It shows under the
// prompt, and goes once the operator types.
func TestCommandLineReasonRefusalShows(t *testing.T) {
	t.Parallel()
	const pending = "int_01JPB7R2C3D4E5F6G7H8J9K0LM"
	for _, size := range [][2]int{{80, 24}, {40, 12}} {
		b := setup(t)
		b.send(tea.WindowSizeMsg{Width: size[0], Height: size[1]})
		for _, verb := range []string{"cancel", "retry"} {
			id := pending
			if verb == "retry" {
				id = "int_01JPB8A2REVIEW0000000000BB"
			}
			b.run(t, b.command(t, verb+" "+id))
			if !b.m.intentCmd.prompting() {
				t.Fatalf(":%s %s did not ask for a reason:\n%s", verb, id, b.view())
			}
			b.run(t, b.press(t, "<enter>"))
			v := ansi.Strip(b.view())
			checkBounds(t, b.view(), size[0], size[1])
			if !strings.Contains(v, verb+" needs a reason") {
				t.Errorf("%dx%d: an empty reason for :%s shows no refusal:\n%s", size[0], size[1], verb, v)
			}
			if !strings.Contains(v, "reason:") {
				t.Errorf("%dx%d: the reason prompt went:\n%s", size[0], size[1], v)
			}
			b.typeText(t, "x")
			if v := ansi.Strip(b.view()); strings.Contains(v, "needs a reason") || !strings.Contains(v, "esc cancel") {
				t.Errorf("%dx%d: typing the reason leaves the refusal, or the keys do not come back:\n%s", size[0], size[1], v)
			}
			b.run(t, b.press(t, "<esc>"))
		}
	}
}

// flakyChaos is the fixture chaos service whose library and history
// cannot be fetched while down is set, as when an attached console's
// server has gone away.
type flakyChaos struct {
	chaosFake
	mu   sync.Mutex
	down bool
}

var errRefused = errors.New("GET http://127.0.0.1:7533/v1/chaos/scenarios: dial tcp 127.0.0.1:7533: connect: connection refused")

func (f *flakyChaos) setDown(down bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.down = down
}

func (f *flakyChaos) isDown() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.down
}

func (f *flakyChaos) ChaosScenarios(ctx context.Context) ([]engine.ChaosScenario, error) {
	if f.isDown() {
		return nil, errRefused
	}
	return f.chaosFake.ChaosScenarios(ctx)
}

func (f *flakyChaos) ChaosHistory(ctx context.Context, limit int) ([]engine.ChaosRun, error) {
	if f.isDown() {
		return nil, errRefused
	}
	return f.chaosFake.ChaosHistory(ctx, limit)
}

// TestChaosLibraryThatCouldNotBeFetched: the Chaos screen shown while
// the server was unreachable said "loading the scenario library…" and
// "loading the runs…" for as long as the operator stayed, the server
// back or not, and r said "select a scenario to run (h/l to Scenarios)"
// on Scenarios. It says the fetch failed and why, asks again each
// refresh, and shows the library once it comes.
func TestChaosLibraryThatCouldNotBeFetched(t *testing.T) {
	t.Parallel()
	var fc *flakyChaos
	b := setupWith(t, func(a *fakeAPI) engine.OperatorAPI {
		fc = &flakyChaos{chaosFake: newChaosFake(a), down: true}
		return fc
	})
	b.run(t, b.press(t, "3"))
	v := ansi.Strip(b.view())
	if strings.Contains(v, "loading the scenario library") || !strings.Contains(v, "Could not fetch the scenario library") ||
		!strings.Contains(v, "connection refused") {
		t.Fatalf("the library could not be fetched and the screen does not say so:\n%s", v)
	}
	b.press(t, "r")
	if got := b.statusText(); got != "no scenario to run: the scenario library could not be fetched" {
		t.Errorf("r without a library: status %q", got)
	}
	b.press(t, "l")
	if v := ansi.Strip(b.view()); strings.Contains(v, "loading the runs") || !strings.Contains(v, "Could not fetch the runs") {
		t.Fatalf("the runs could not be fetched and the screen does not say so:\n%s", v)
	}
	b.press(t, "h")

	fc.setDown(false)
	b.clock.advance(time.Second)
	b.run(t, b.send(tickMsg{at: b.clock.now()}))
	v = ansi.Strip(b.view())
	if !b.m.chaos.scenLoaded || !b.m.chaos.runsLoaded || strings.Contains(v, "Could not fetch") || !strings.Contains(v, "DIRT_bus_partition") {
		t.Fatalf("the server is back and a refresh did not fetch the library and the runs:\n%s", v)
	}
}

// anyCaseIDs is the fake engine finding an intent and its records by an
// ID in any case, as the engine does.
type anyCaseIDs struct{ *fakeAPI }

func canonicalID(id string) string {
	if len(id) > 4 && strings.EqualFold(id[:4], "int_") {
		return "int_" + strings.ToUpper(id[4:])
	}
	return id
}

func (f anyCaseIDs) Get(ctx context.Context, id string) (intent.Intent, error) {
	return f.fakeAPI.Get(ctx, canonicalID(id))
}

func (f anyCaseIDs) Search(ctx context.Context, q clarity.Query) ([]clarity.Entry, error) {
	q.IntentID = canonicalID(q.IntentID)
	return f.fakeAPI.Search(ctx, q)
}

// TestStoryOfAnIDTypedInLowerCase: ":story int_01jpb…" finds the intent
// (IDs are read in any case), but the story kept the ID as typed: its
// title showed it so, and s on one of its records opened the same story
// again rather than saying this is it.
func TestStoryOfAnIDTypedInLowerCase(t *testing.T) {
	t.Parallel()
	b := setupWith(t, func(a *fakeAPI) engine.OperatorAPI { return anyCaseIDs{a} })
	b.run(t, b.command(t, "story "+strings.ToLower(storyIntent)))
	s := b.m.narratives.story
	if s == nil || len(s.list.entries) != 5 {
		t.Fatalf(":story in lower case did not show the intent's five records: %+v", s)
	}
	if v := b.view(); !strings.Contains(v, "Story of "+storyIntent) {
		t.Errorf("the story's title does not name the intent as the engine writes it:\n%s", v)
	}
	seq := b.m.narratives.storySeq
	b.run(t, b.press(t, "s"))
	if b.m.narratives.storySeq != seq || b.statusText() != "this is "+storyIntent+"'s story" {
		t.Errorf("s on a record of the story fetched it again (seq %d → %d), status %q", seq, b.m.narratives.storySeq, b.statusText())
	}
}

// TestAlertsFilterKeepsTheCounts: under a filter the title counted only
// the alerts shown, so a filter that hid the firing ones read
// "0 firing · 0 resolved" while the tab said two were firing.
func TestAlertsFilterKeepsTheCounts(t *testing.T) {
	t.Parallel()
	b := setupAlerts(t)
	b.press(t, "/")
	b.typeText(t, "zzz")
	b.press(t, "<enter>")
	v := b.view()
	if !strings.Contains(v, "2 firing · 1 resolved") || !strings.Contains(v, "filter “zzz”: 0 of 3 shown") {
		t.Errorf("a filter that hides every alert changes the counts:\n%s", v)
	}
	b.press(t, "/")
	b.press(t, "<backspace>", "<backspace>", "<backspace>")
	b.typeText(t, "mesh")
	b.press(t, "<enter>")
	if v := b.view(); !strings.Contains(v, "2 firing · 1 resolved") || !strings.Contains(v, "filter “mesh”: 1 of 3 shown") {
		t.Errorf("the filter mesh:\n%s", v)
	}
}

// TestSchedulerPauseNamesTypeAndActorPausesToo: with the scheduler
// paused the Queue panel said only who paused it, though a type and an
// actor were paused as well and stay paused after :resume.
func TestSchedulerPauseNamesTypeAndActorPausesToo(t *testing.T) {
	t.Parallel()
	b := setup(t)
	snap := fixtureSnapshot()
	snap.Layer2.Paused = true
	snap.Layer2.Pause = &engine.PauseInfo{By: "ops", Reason: "storage migration until 15:00, ask #infra", Since: fixedNow}
	snap.Layer2.PausedTypes = []engine.TypePause{{Type: "deploy_model", PauseInfo: engine.PauseInfo{By: "ops", Reason: "canary", Since: fixedNow}, Waiting: 3}}
	snap.Layer2.PausedActors = []engine.ActorPause{{Actor: "agent.runaway", PauseInfo: engine.PauseInfo{By: "ops", Reason: "loops", Since: fixedNow}, Waiting: 2}}
	b.send(snapshotMsg{snap: snap})
	for _, w := range []int{80, 120} {
		b.send(tea.WindowSizeMsg{Width: w, Height: 24})
		v := ansi.Strip(b.view())
		checkBounds(t, b.view(), w, 24)
		if !strings.Contains(v, "▲ paused by ops 0s ago (and 1 type,") || !strings.Contains(v, "actor): storage") {
			t.Errorf("%d columns: the scheduler's pause hides the type and the actor paused too:\n%s", w, v)
		}
	}
}

// TestChaosRunSuggestsTheScenarioMeant: ":chaos run dirt_bus_partition"
// listed the whole library on the status line, cut at its edge, where
// the CLI asks "did you mean DIRT_bus_partition?".
func TestChaosRunSuggestsTheScenarioMeant(t *testing.T) {
	t.Parallel()
	b, cf := setupChaos(t)
	for typed, want := range map[string]string{
		"dirt_bus_partition": "no chaos scenario dirt_bus_partition: did you mean DIRT_bus_partition? (scenario IDs are case-sensitive)",
		"bus_part":           "no chaos scenario bus_part: did you mean DIRT_bus_partition? (scenario IDs are case-sensitive)",
	} {
		b.run(t, b.command(t, "chaos run "+typed))
		if got := b.statusText(); got != want {
			t.Errorf(":chaos run %s: status %q, want %q", typed, got, want)
		}
		if b.m.chaos.confirm != nil {
			t.Errorf(":chaos run %s asks to run something", typed)
			b.press(t, "n")
		}
	}
	b.run(t, b.command(t, "chaos run NOPE"))
	if got := b.statusText(); !strings.HasPrefix(got, "no chaos scenario NOPE (known: ") {
		t.Errorf(":chaos run NOPE: status %q", got)
	}
	if starts, _ := cf.fakeChaos.calls(); len(starts) != 0 {
		t.Errorf("runs started: %+v", starts)
	}
}

// TestQuestionGoesWhenDecidedElsewhere: the popup withdraws its question
// when its intent is decided elsewhere; the Approvals screen's stayed up
// ("Approve int_…? (y/N)", a denial's reason being typed, and in the Tier
// 1 review list "Acknowledge int_… as reviewed? (y/N)" or a flag's note)
// after the intent had left the list, and y then failed with "intent is
// not pending approval".
func TestQuestionGoesWhenDecidedElsewhere(t *testing.T) {
	t.Parallel()
	cases := []struct {
		section string
		keys    []string
		// elsewhere is the intent as decided elsewhere; want the status.
		elsewhere func(intent.Intent) intent.Intent
		want      string
	}{
		{"", []string{"a"}, queuedElsewhere, " is now queued (decided elsewhere)"},
		{"", []string{"d", "n", "o"}, queuedElsewhere, " is now queued (decided elsewhere)"},
		{"l", []string{"a"}, reviewedElsewhere, " was reviewed elsewhere"},
		{"l", []string{"f", "n", "o"}, reviewedElsewhere, " was reviewed elsewhere"},
	}
	for _, c := range cases {
		b := setup(t)
		b.run(t, b.press(t, "2"))
		if c.section != "" {
			b.run(t, b.press(t, c.section))
		}
		it, ok := b.m.approvals.selected()
		if !ok {
			t.Fatal("no intent selected")
		}
		b.press(t, c.keys...)
		if !b.m.approvals.decider.prompting() {
			t.Fatalf("%v did not ask:\n%s", c.keys, b.view())
		}
		b.api.setPending(fixturePending()[1:])
		b.run(t, b.send(eventsMsg{events: []engine.Event{{Kind: "intent", Intent: c.elsewhere(it)}}}))
		if v := b.view(); b.m.approvals.decider.prompting() || strings.Contains(v, "(y/N)") || strings.Contains(v, "reason:") ||
			strings.Contains(v, "note:") {
			t.Errorf("%v: the question about %s stays after it was decided elsewhere:\n%s", c.keys, it.ID, v)
		}
		if got := b.statusText(); got != it.ID+c.want {
			t.Errorf("%v: status %q", c.keys, got)
		}
		b.run(t, b.press(t, "y"))
		b.run(t, b.press(t, "<enter>"))
		if approves, denies := b.api.calls(); len(approves)+len(denies)+len(b.api.reviewCalls()) != 0 {
			t.Errorf("%v: decisions sent after the intent was decided elsewhere: %+v %+v %+v", c.keys, approves, denies, b.api.reviewCalls())
		}
	}
}

func queuedElsewhere(it intent.Intent) intent.Intent {
	it.State = intent.StateQueued
	return it
}

func reviewedElsewhere(it intent.Intent) intent.Intent {
	it.Reviewed = true
	return it
}
