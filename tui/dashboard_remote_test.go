package tui

import (
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"

	"grace/engine"
)

// A remote worker (backend.kind nats) is listed with its host.
func TestWorkersPanelShowsRemoteHosts(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.send(tea.WindowSizeMsg{Width: 160, Height: 40}) // wide enough for the Workers panel
	snap := fixtureSnapshot()
	snap.Workers = []engine.WorkerInfo{
		{Name: "worker_1", Healthy: true, Completed: 3},
		{Name: "w2", Host: "gpu7", Healthy: true, Busy: true, IntentID: "int_x", Completed: 9},
	}
	b.send(snapshotMsg{snap: snap})
	v := b.view()
	if !strings.Contains(v, "w2@gpu7") {
		t.Errorf("the Workers panel lacks the remote worker's host (w2@gpu7):\n%s", v)
	}
	if strings.Contains(v, "worker_1@") {
		t.Errorf("a local worker is shown with a host:\n%s", v)
	}
}

// A remote worker killed mid-task is listed as lost and one that shut down
// as left, neither as busy or idle.
func TestWorkersPanelShowsLostAndLeftRemoteWorkers(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.send(tea.WindowSizeMsg{Width: 160, Height: 40})
	snap := fixtureSnapshot()
	snap.Workers = []engine.WorkerInfo{
		{Name: "gone", Host: "h1", State: engine.RemoteLost, Completed: 1},
		{Name: "quit", Host: "h2", State: engine.RemoteLeft, Completed: 2},
	}
	b.send(snapshotMsg{snap: snap})
	v := b.view()
	for _, want := range []string{"✗ gone@h1 lost", "· quit@h2 left"} {
		if !strings.Contains(v, want) {
			t.Errorf("the Workers panel lacks %q:\n%s", want, v)
		}
	}
}
