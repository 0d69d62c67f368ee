package tui

import (
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"

	"grace/engine"
)

// TestRunDetailWrapsErrorAndFailures: a run's error and a scenario's
// failures end in the part that says what went wrong; at 80 columns the
// run detail wraps them instead of cutting them off.
func TestRunDetailWrapsErrorAndFailures(t *testing.T) {
	t.Parallel()
	const errText = "run DIRT_bus_partition: read the record (intake_rate_limited): search narratives: the store is closed for maintenance"
	const failure = "safeguard bus_acl did not fire: a kernel outside its group published 14 messages on the partitioned bus"
	b := setupWith(t, func(a *fakeAPI) engine.OperatorAPI {
		cf := newChaosFake(a)
		cf.fakeChaos.history[0].Error = errText
		cf.fakeChaos.history[0].Scenarios[1].Failures = []string{failure}
		return cf
	})
	b.run(t, b.press(t, "3"))
	b.run(t, b.press(t, "l", "<enter>"))
	v := ansi.Strip(b.view())
	checkBounds(t, b.view(), 80, 24)
	flat := strings.Join(strings.Fields(strings.NewReplacer("│", " ").Replace(v)), " ")
	for _, want := range []string{"closed for maintenance", "on the partitioned bus"} {
		if !strings.Contains(flat, want) {
			t.Errorf("the run detail cuts off %q:\n%s", want, v)
		}
	}
}

// TestRunDetailDatesAnOlderRun: a run started yesterday shows its date
// with its time of day, not a bare time that reads as today's.
func TestRunDetailDatesAnOlderRun(t *testing.T) {
	t.Parallel()
	b, _ := setupChaos(t)
	b.run(t, b.press(t, "l", "j", "<enter>")) // the operator's run, 26h ago
	if v := ansi.Strip(b.view()); !strings.Contains(v, "when       03-13 13:09:26 (1d02h ago)") {
		t.Errorf("the run detail does not date a run from yesterday:\n%s", v)
	}
}

// TestScenarioTableAt60Columns: in a 60-column terminal the scenario
// table closes up its figures so that LAST RUN still shows whole ("—" for
// never, "3h00m ago") instead of being cut at the panel's edge.
func TestScenarioTableAt60Columns(t *testing.T) {
	t.Parallel()
	b, _ := setupChaos(t)
	b.send(tea.WindowSizeMsg{Width: 60, Height: 15})
	v := ansi.Strip(b.view())
	checkBounds(t, b.view(), 60, 15)
	if !strings.Contains(v, "LAST RUN") || !strings.Contains(v, "  3h00m ago") || !strings.Contains(v, "0          —") {
		t.Errorf("the 60-column scenario table cuts LAST RUN:\n%s", v)
	}
}
