package tui

import (
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"grace/engine"
)

// TestUnreachableServerMarksEveryDashboardPanel: when an attached
// console's server stops answering, every dashboard panel drawn from the
// last snapshot says it is from then, not only the queue and throughput:
// a Layer 2 panel still saying "✓ ok", kernels "running" and workers
// "busy" read as the engine's state now beside a header that says the
// server is gone.
func TestUnreachableServerMarksEveryDashboardPanel(t *testing.T) {
	t.Parallel()
	b, rf := setupRemote(t)
	snap := alertsSnapshot() // Layer 2, alerts and kernels
	snap.ByType = []engine.TypeFigures{{Type: "query_knowledge", Queued: 12, Completed: 7198}}
	rf.setSnapshot(snap)
	b.refresh(t, 0)
	b.send(tea.WindowSizeMsg{Width: 160, Height: 60})
	if v := b.view(); strings.Contains(v, "as of") {
		t.Fatalf("marked stale while the server answers:\n%s", v)
	}
	rf.setDown(refused("GET", "/v1/telemetry"))
	b.refresh(t, time.Second)
	b.refresh(t, 4*time.Second)
	v := b.view()
	for _, title := range []string{"Queue", "Throughput", "Workers", "Layer 2", "Layer 1 kernels", "Intents by state", "Intents by type"} {
		if !strings.Contains(v, "─ "+title+" ▲ as of 15:09:26") {
			t.Errorf("the %s panel is not marked stale:\n%s", title, v)
		}
	}
	checkBounds(t, v, 160, 60)
	b.send(tea.WindowSizeMsg{Width: 80, Height: 24})
	if v := b.view(); !strings.Contains(v, "Layer 1 kernels ▲ as of 15:09:26") {
		t.Errorf("at 80x24 the kernels panel is not marked stale:\n%s", v)
	}
	checkBounds(t, b.view(), 80, 24)

	rf.setDown(nil)
	b.refresh(t, time.Second)
	if v := b.view(); strings.Contains(v, "as of") {
		t.Errorf("the marks stayed after the server came back:\n%s", v)
	}
}
