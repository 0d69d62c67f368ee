package tui

import (
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"

	"grace/engine"
	"grace/engine/watchdog"
)

func TestLayer2ShowsOnlyWhatTheWatchdogReports(t *testing.T) {
	t.Parallel()
	b := setup(t)
	if v := b.view(); strings.Contains(v, "Layer 2") || strings.Contains(v, "alerts") {
		t.Fatalf("a Layer 2 panel without a watchdog verdict:\n%s", v)
	}
	snap := fixtureSnapshot()
	snap.Health, snap.Layer2 = fixtureHealth(), fixtureLayer2()
	snap.Health.Components[1].Status = watchdog.Critical
	snap.Health.Components[1].Reason = "Paused for 3m with 1,234 waiting"
	snap.Health.Components = append(snap.Health.Components, watchdog.ComponentReport{
		Name: watchdog.NameMesh, Ready: false, NotReadyReason: "the mesh has not started"},
		// A component beyond the seed's four (retention, notifications) is
		// titled as theirs are: with a capital.
		watchdog.ComponentReport{Name: "retention", Ready: true, Reason: "records older than 1h are pruned"})
	snap.Layer2.Paused = true
	snap.Layer2.Pause = &engine.PauseInfo{By: "ops", Reason: "maintenance", Since: fixedNow}
	b.send(snapshotMsg{snap: snap})
	v := b.view()
	for _, want := range []string{"Layer 2 · ▲ warn", "▲ warn      HTM", "breaches 7", "✗ critical  Scheduler", "Paused for 3m",
		"○ not ready Trigger Mesh", "the mesh has not started", "✓ ok        Retention", "▲ 1 warn · HTM/queue_depth", "▲ PAUSED", "▲ paused by ops 0s ago: maintenance"} {
		if !strings.Contains(v, want) {
			t.Errorf("dashboard lacks %q:\n%s", want, v)
		}
	}
}

// TestQueuePanelCountsWhatIsNotYetDue: queued intents waiting for their
// time (scheduled, or a retry's backoff) are counted beside the depth.
func TestQueuePanelCountsWhatIsNotYetDue(t *testing.T) {
	t.Parallel()
	b := setup(t)
	snap := fixtureSnapshot()
	snap.QueueDepth, snap.QueueDelayed = 13, 2
	b.send(snapshotMsg{snap: snap})
	if v := b.view(); !strings.Contains(v, "depth 13 (2 later)") {
		t.Fatalf("the Queue panel does not count what is not yet due:\n%s", v)
	}
}

// TestFactsLineCountsRunawayHandlers: the Layer 2 facts line warns of
// abandoned handlers still running, and says nothing of them otherwise.
func TestFactsLineCountsRunawayHandlers(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.send(tea.WindowSizeMsg{Width: 160, Height: 48})
	snap := fixtureSnapshot()
	snap.Health, snap.Layer2 = fixtureHealth(), fixtureLayer2()
	b.send(snapshotMsg{snap: snap})
	if v := b.view(); !strings.Contains(v, "rerouted 1") || strings.Contains(v, "runaway") {
		t.Fatalf("facts line without runaways:\n%s", v)
	}
	snap.Layer2.RunawayHandlers = []engine.RunawayHandler{{IntentID: "int_a", Type: "deploy_model"}, {IntentID: "int_b", Type: "deploy_model"}}
	b.send(snapshotMsg{snap: snap})
	if v := b.view(); !strings.Contains(v, "rerouted 1 · ▲ 2 runaway handlers") {
		t.Fatalf("the facts line does not count the runaway handlers:\n%s", v)
	}
}

// TestDashboardBreaksIntentsDownByType: the by-type panel lists the types
// most queued first, and gives way to the recent decisions when short.
func TestDashboardBreaksIntentsDownByType(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.send(tea.WindowSizeMsg{Width: 160, Height: 48})
	if v := b.view(); strings.Contains(v, "Intents by type") {
		t.Fatalf("a by-type panel without figures:\n%s", v)
	}
	snap := fixtureSnapshot()
	snap.ByType = []engine.TypeFigures{
		{Type: "deploy_model", Completed: 40, Failed: 2},
		{Type: "query_knowledge", Queued: 1234, Completed: 7198},
		{Type: engine.OtherTypes, Queued: 3},
	}
	b.send(snapshotMsg{snap: snap})
	v := b.view()
	// The finished counts are the engine's since it started, not the
	// database's: the titles say so, or a dashboard reading 0 beside a
	// database full of finished intents would mislead.
	for _, title := range []string{"Intents by state · finished since start", "Intents by type · queued; completed ✓, failed ✗ since start"} {
		if !strings.Contains(v, title) {
			t.Errorf("the dashboard lacks the title %q:\n%s", title, v)
		}
	}
	if !strings.Contains(v, "Intents by type") ||
		!strings.Contains(v, "query_knowledge 1,234 ✓7,198 ✗0   _other 3 ✓0 ✗0   deploy_model 0 ✓40 ✗2") {
		t.Fatalf("the by-type panel does not list the types, most queued first:\n%s", v)
	}
	b.send(tea.WindowSizeMsg{Width: 80, Height: 24})
	if v := b.view(); strings.Contains(v, "Intents by type") {
		t.Fatalf("the by-type panel took the recent decisions' room at 80x24:\n%s", v)
	}
}

// TestQueuePanelNamesThePausedTypes: several types paused are named, each
// with how many of it wait.
func TestQueuePanelNamesThePausedTypes(t *testing.T) {
	t.Parallel()
	b := setup(t)
	snap := fixtureSnapshot()
	snap.Layer2.PausedTypes = []engine.TypePause{
		{Type: "deploy_model", PauseInfo: engine.PauseInfo{By: "ops", Reason: "canary", Since: fixedNow}, Waiting: 3},
		{Type: "modify_config", PauseInfo: engine.PauseInfo{By: "ops", Reason: "freeze", Since: fixedNow}},
	}
	b.send(snapshotMsg{snap: snap})
	if v := b.view(); !strings.Contains(v, "▲ 2 types paused: deploy_model (3),") || strings.Contains(v, "▲ PAUSED") {
		t.Fatalf("the Queue panel does not name the paused types:\n%s", v)
	}
	b.send(tea.WindowSizeMsg{Width: 160, Height: 48})
	if v := b.view(); !strings.Contains(v, "▲ 2 types paused: deploy_model (3), modify_config (0)") {
		t.Fatalf("the Queue panel does not name the paused types:\n%s", v)
	}
}

// TestQueuePanelWrapsALongPauseReason: at 80 columns a pause's reason too
// long for one line wraps onto a second, taken from the sparkline, so that
// the operator reads why without leaving the dashboard.
func TestQueuePanelWrapsALongPauseReason(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.send(tea.WindowSizeMsg{Width: 80, Height: 24})
	snap := fixtureSnapshot()
	snap.Layer2.Paused = true
	snap.Layer2.Pause = &engine.PauseInfo{By: "ops", Reason: "storage migration until 15:00, ask #infra", Since: fixedNow}
	b.send(snapshotMsg{snap: snap})
	v := b.view()
	if !strings.Contains(v, "▲ paused by ops 0s ago: storage") || !strings.Contains(v, "ask #infra") {
		t.Fatalf("the Queue panel cuts the pause reason at 80 columns:\n%s", v)
	}
	checkBounds(t, v, 80, 24)
}
