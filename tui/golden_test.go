package tui

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/exp/golden"
	"github.com/charmbracelet/x/exp/teatest"

	"grace/engine"
)

// goldenModel is the console over the fixture engine, with a queue-depth
// history already recorded and a refresh slow enough that only the first
// snapshot lands during the test.
func goldenModel(t *testing.T) (*model, *fakeAPI) {
	t.Helper()
	api := newFakeAPI()
	api.setSnapshot(fixtureSnapshot())
	api.setPending(fixturePending())
	api.tier1 = fixtureTier1()
	api.narratives = fixtureNarratives(600)
	api.audit = fixtureAudit()
	m := New(api, Options{Operator: "ops", Refresh: time.Hour, Now: func() time.Time { return fixedNow }}).(*model)
	t.Cleanup(m.cancel)
	seedDepth(m, depthHistory(239))
	return m, api
}

// waitFor waits until the program has drawn want.
func waitFor(t *testing.T, tm *teatest.TestModel, want string) {
	t.Helper()
	teatest.WaitFor(t, tm.Output(), func(out []byte) bool {
		return bytes.Contains(out, []byte(want))
	}, teatest.WithDuration(5*time.Second), teatest.WithCheckInterval(10*time.Millisecond))
}

// finalView quits the program (ctrl+c, which works even in a prompt) and
// returns its last frame.
func finalView(t *testing.T, tm *teatest.TestModel) []byte {
	t.Helper()
	tm.Send(tea.KeyMsg{Type: tea.KeyCtrlC})
	return []byte(tm.FinalModel(t, teatest.WithFinalTimeout(5*time.Second)).View())
}

// step is keys to type ("\r" is enter) and text to wait for afterwards.
type step struct{ keys, wait string }

// TestGolden renders each screen at 80×24 and 160×48 through a real Bubble
// Tea program and compares the last frame with testdata/TestGolden/*.golden
// (go test -run TestGolden -update rewrites them).
func TestGolden(t *testing.T) {
	sizes := [][2]int{{80, 24}, {160, 48}}
	screens := []struct {
		name  string
		steps []step
	}{
		{"dashboard", nil},
		{"dashboard_layer2", nil},
		{"approvals", []step{{"2", "agent:janitor"}}},
		{"detail", []step{{"2", "agent:janitor"}, {"j\r", "REASONING"}}},
		{"review", []step{{"2", "agent:janitor"}, {"l", "agent:tuner"}}},
		{"review_detail", []step{{"2", "agent:janitor"}, {"l", "agent:tuner"}, {"j\r", "awaiting review"}}},
		{"narratives", []step{{"4", "loaded, more below"}}},
		{"narratives_search", []step{{"4", "loaded, more below"}, {"/approved actor:ops\r", "actor ops · newest first"}}},
		{"narratives_detail", []step{{"4", "loaded, more below"}, {"\rv", "audit chain intact"}}},
		{"story", []step{{"4", "loaded, more below"}, {"s", "5 records"}}},
		{"help", []step{{"4", "loaded, more below"}, {"?", "Search syntax"}}},
		{"command", []step{{":sea", "sea"}}},
		{"dashboard_kernels", nil},
		{"alerts", []step{{"5", "Scheduler/dispatch_latency"}}},
	}
	for _, size := range sizes {
		for _, s := range screens {
			t.Run(fmt.Sprintf("%s_%dx%d", s.name, size[0], size[1]), func(t *testing.T) {
				m, api := goldenModel(t)
				if s.name == "dashboard_layer2" {
					snap := fixtureSnapshot()
					snap.Health, snap.Layer2 = fixtureHealth(), fixtureLayer2()
					api.setSnapshot(snap)
				}
				if s.name == "dashboard_kernels" || s.name == "alerts" {
					api.setSnapshot(alertsSnapshot())
				}
				tm := teatest.NewTestModel(t, m, teatest.WithInitialTermSize(size[0], size[1]))
				waitFor(t, tm, "● live")
				if s.name == "alerts" {
					api.events <- resolvedEvent()
				}
				for _, st := range s.steps {
					typeKeys(tm, st.keys)
					waitFor(t, tm, st.wait)
				}
				out := finalView(t, tm)
				checkBounds(t, string(out), size[0], size[1])
				golden.RequireEqual(t, out)
			})
		}
	}
}

// typeKeys sends keys to the program one by one; "\r" is enter.
func typeKeys(tm *teatest.TestModel, keys string) {
	for _, r := range keys {
		if r == '\r' {
			tm.Send(tea.KeyMsg{Type: tea.KeyEnter})
			continue
		}
		tm.Send(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{r}})
	}
}

// arrival starts the console over the fixture engine and sends a Tier 0
// arrival through the real subscription.
func arrival(t *testing.T) (*teatest.TestModel, *fakeAPI, string) {
	t.Helper()
	m, api := goldenModel(t)
	tm := teatest.NewTestModel(t, m, teatest.WithInitialTermSize(80, 24))
	waitFor(t, tm, "● live")
	it := pendingIntent("int_01JPBNEW0000000000000000AA", "deploy_production", "agent:release-bot", 90*time.Second)
	api.setPending(append(fixturePending(), it))
	api.events <- engine.Event{Kind: "intent", Intent: it}
	waitFor(t, tm, "Approval needed")
	return tm, api, it.ID
}

// TestGoldenPopup shows a Tier 0 arrival over the dashboard.
func TestGoldenPopup(t *testing.T) {
	tm, _, _ := arrival(t)
	golden.RequireEqual(t, finalView(t, tm))
}

// TestApproveThroughProgram approves an arrival with a then y in a running
// program: the event comes through the subscription, the approval through
// the engine API, the outcome onto the status line.
func TestApproveThroughProgram(t *testing.T) {
	tm, api, id := arrival(t)
	tm.Type("ay")
	waitFor(t, tm, "approved "+id)
	out := finalView(t, tm)
	approves, _ := api.calls()
	if len(approves) != 1 || approves[0].ID != id || approves[0].Operator != "ops" {
		t.Fatalf("approves %+v, want one approval of %s by ops", approves, id)
	}
	if bytes.Contains(out, []byte("Approval needed")) {
		t.Errorf("popup still shown after the approval:\n%s", out)
	}
}
