package tui

import (
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"

	"grace/engine"
)

// TestPauseActorCommand: ":pause actor:A REASON" quarantines one actor and
// ":resume actor:A" resumes it; the Queue panel says which actor waits and
// why; an empty actor or a missing reason is refused without asking the
// engine, and a read-only console refuses.
func TestPauseActorCommand(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for line, want := range map[string]string{
		"pause actor:":                  ":pause actor: needs an actor, as in :pause actor:agent.builder",
		"pause actor:agent.runaway":     ":pause needs a reason, as in :pause actor:agent.runaway runaway loop",
		"pause actor:agent.runaway   ":  ":pause needs a reason, as in :pause actor:agent.runaway runaway loop",
		"resume actor: the whole thing": ":resume actor: needs an actor, as in :resume actor:agent.builder",
	} {
		b.run(t, b.command(t, line))
		if len(b.api.scheduleCalls()) != 0 || b.statusText() != want {
			t.Fatalf(":%s: calls %+v, status %q, want %q", line, b.api.scheduleCalls(), b.statusText(), want)
		}
	}
	b.run(t, b.command(t, "pause actor:agent.runaway loops on summaries"))
	if got := b.api.scheduleCalls(); len(got) != 1 || got[0] != (decisionCall{ID: "pause actor:agent.runaway", Operator: "ops", Reason: "loops on summaries"}) {
		t.Fatalf("pause calls: %+v", got)
	}
	if st := b.statusText(); st != "actor agent.runaway paused: its intents wait until :resume actor:agent.runaway (loops on summaries)" {
		t.Fatalf(":pause actor: status %q", st)
	}
	b.send(snapshotMsg{snap: b.api.Snapshot()})
	b.send(tea.WindowSizeMsg{Width: 160, Height: 48})
	if v := b.view(); !strings.Contains(v, "▲ actor agent.runaway (0) paused by ops 0s ago: loops on summaries") || strings.Contains(v, "▲ PAUSED") {
		t.Fatalf("the Queue panel does not say which actor is paused (or the header says all is):\n%s", v)
	}
	b.run(t, b.command(t, "pause actor:agent.runaway again"))
	if st := b.statusText(); b.statusLevel() != levelWarn || !strings.Contains(st, "already paused") {
		t.Fatalf(":pause of a paused actor: status (level %d) %q", b.statusLevel(), st)
	}
	b.run(t, b.command(t, "resume actor:agent.runaway"))
	if st := b.statusText(); st != "actor agent.runaway resumed: dispatching its intents again" || len(b.api.Snapshot().Layer2.PausedActors) != 0 {
		t.Fatalf(":resume actor: status %q", st)
	}
	if got := b.api.scheduleCalls(); got[len(got)-1] != (decisionCall{ID: "resume actor:agent.runaway", Operator: "ops"}) {
		t.Fatalf("resume call: %+v", got[len(got)-1])
	}
	b.run(t, b.command(t, "resume actor:agent.runaway"))
	if st := b.statusText(); !strings.Contains(st, "not paused") {
		t.Fatalf(":resume of an actor not paused: status %q", st)
	}
	ro := setup(t, func(o *Options) { o.ReadOnly = true })
	ro.run(t, ro.command(t, "pause actor:agent.runaway nope"))
	if len(ro.api.scheduleCalls()) != 0 || ro.statusText() != "read-only console: pause is disabled" {
		t.Fatalf("read-only :pause actor: calls %+v, status %q", ro.api.scheduleCalls(), ro.statusText())
	}
}

// TestQueuePanelNamesThePausedActors: paused actors are named beside the
// paused types, each with how many of it wait.
func TestQueuePanelNamesThePausedActors(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.send(tea.WindowSizeMsg{Width: 160, Height: 48})
	snap := fixtureSnapshot()
	snap.Layer2.PausedActors = []engine.ActorPause{
		{Actor: "agent.a", PauseInfo: engine.PauseInfo{By: "ops", Reason: "loops", Since: fixedNow}, Waiting: 2},
		{Actor: "agent.b", PauseInfo: engine.PauseInfo{By: "ops", Reason: "floods", Since: fixedNow}},
	}
	b.send(snapshotMsg{snap: snap})
	if v := b.view(); !strings.Contains(v, "▲ 2 actors paused: actor agent.a (2), actor agent.b (0)") {
		t.Fatalf("the Queue panel does not name the paused actors:\n%s", v)
	}
	snap.Layer2.PausedActors = snap.Layer2.PausedActors[:1]
	snap.Layer2.PausedTypes = []engine.TypePause{{Type: "deploy_model", PauseInfo: engine.PauseInfo{By: "ops", Reason: "canary", Since: fixedNow}, Waiting: 3}}
	b.send(snapshotMsg{snap: snap})
	if v := b.view(); !strings.Contains(v, "▲ 1 type, 1 actor paused: deploy_model (3), actor agent.a (2)") {
		t.Fatalf("the Queue panel does not name a paused type and actor together:\n%s", v)
	}
	b.send(tea.WindowSizeMsg{Width: 80, Height: 24})
	v := b.view()
	if !strings.Contains(v, "▲ 1 type, 1 actor paused:") {
		t.Fatalf("the Queue panel at 80x24:\n%s", v)
	}
	checkBounds(t, v, 80, 24)
}
