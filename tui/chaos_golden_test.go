package tui

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"github.com/charmbracelet/x/exp/golden"
	"github.com/charmbracelet/x/exp/teatest"

	"grace/engine"
)

// chaosGoldenModel is the golden console over the fixture engine with the
// fixture chaos service.
func chaosGoldenModel(t *testing.T) (*model, chaosFake) {
	t.Helper()
	api := newFakeAPI()
	api.setSnapshot(fixtureSnapshot())
	api.setPending(fixturePending())
	api.tier1 = fixtureTier1()
	api.narratives = fixtureNarratives(600)
	api.audit = fixtureAudit()
	cf := newChaosFake(api)
	m := New(cf, Options{Operator: "ops", Refresh: time.Hour, Now: func() time.Time { return fixedNow }}).(*model)
	t.Cleanup(m.cancel)
	seedDepth(m, depthHistory(239))
	return m, cf
}

// TestGoldenChaos renders the Chaos screen's states and the dashboard's
// chaos part at 80×24 and 160×48 through a real Bubble Tea program and
// compares the last frame with testdata/TestGoldenChaos/*.golden (go test
// -run TestGoldenChaos -update rewrites them).
func TestGoldenChaos(t *testing.T) {
	running := progressEvent("chr_01JPBRUN0001", "L2_htm_queue_flood", 2, 3, engine.ChaosPhaseWatch,
		[]string{"intake_flood"}, []string{"htm_rate_limit"})
	ended := engine.Event{Kind: engine.EventChaos, Chaos: &engine.ChaosProgress{RunID: "chr_01JPB9A0LOOP",
		Phase: engine.ChaosPhaseDone, State: engine.ChaosFailed, At: fixedNow}}
	// The scenario list is drawn, its cursor on the first row. (The
	// dashboard's chaos panel may name a scenario before the list has come.)
	const listed = "▸ DIRT_critical_kernel_loss"
	cases := []struct {
		name   string
		events []engine.Event
		steps  []step
	}{
		{"list", nil, []step{{"3", listed}}},
		{"detail", nil, []step{{"3", listed}, {"jjjj\r", "intake_flood"}}},
		{"confirm", nil, []step{{"3", listed}, {"jr", "(y/N)"}}},
		{"running", []engine.Event{running}, []step{{"3", "Run in progress"}}},
		{"verdict", []engine.Event{ended}, []step{{"3", "Last run"}}},
		{"history", nil, []step{{"3", listed}, {"l", "chr_01JPB8OPS0001"}}},
		{"history_detail", nil, []step{{"3", listed}, {"l", "chr_01JPB8OPS0001"}, {"\r", "invariants"}}},
		{"findings", nil, []step{{"3", listed}, {"ll\r", "rollback:"}}},
		{"knowledge", nil, []step{{"3", listed}, {"lll", "htm_load_shedding"}}},
		{"filter", nil, []step{{"3", listed}, {"/layer2", "2/6 shown"}}},
		{"filtered", nil, []step{{"3", listed}, {"/dirt\r", "2/6 shown"}}},
		{"dashboard", nil, nil},
		{"dashboard_running", []engine.Event{running}, []step{{"", "L2_htm_queue_flood 2/3"}}},
		// Alerts firing beside the chaos line and the kernel grid: at
		// 80×24 they keep a line of their own.
		{"dashboard_alerts", nil, nil},
	}
	for _, size := range [][2]int{{80, 24}, {160, 48}} {
		for _, c := range cases {
			t.Run(fmt.Sprintf("%s_%dx%d", c.name, size[0], size[1]), func(t *testing.T) {
				m, cf := chaosGoldenModel(t)
				if c.name == "dashboard_alerts" {
					cf.setSnapshot(alertsSnapshot())
				}
				tm := teatest.NewTestModel(t, m, teatest.WithInitialTermSize(size[0], size[1]))
				// The snapshot and the chaos status have both arrived.
				waitForAll(t, tm, "● live", "loop on")
				for _, ev := range c.events {
					cf.events <- ev
				}
				for _, st := range c.steps {
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

// TestGoldenChaosUnavailable shows the Chaos screen of an engine without
// a chaos service.
func TestGoldenChaosUnavailable(t *testing.T) {
	m, _ := goldenModel(t)
	tm := teatest.NewTestModel(t, m, teatest.WithInitialTermSize(80, 24))
	waitFor(t, tm, "● live")
	typeKeys(tm, "3")
	waitFor(t, tm, "no chaos service")
	golden.RequireEqual(t, finalView(t, tm))
}

// waitForAll waits until the program has drawn every one of want (in one
// frame or over several).
func waitForAll(t *testing.T, tm *teatest.TestModel, want ...string) {
	t.Helper()
	teatest.WaitFor(t, tm.Output(), func(out []byte) bool {
		for _, w := range want {
			if !bytes.Contains(out, []byte(w)) {
				return false
			}
		}
		return true
	}, teatest.WithDuration(5*time.Second), teatest.WithCheckInterval(10*time.Millisecond))
}
