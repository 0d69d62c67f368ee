package tui

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"grace/engine"
)

// statusRow is the status line as drawn: the line above the key hints.
func statusRow(v string) string {
	lines := strings.Split(v, "\n")
	return footer(strings.Join(lines[:len(lines)-1], "\n"))
}

// redraw makes the next view draw the frame again, as the next refresh
// would (the clock moved, nothing else did).
func (b *testBundle) redraw() string {
	b.m.frame.stale = true
	return b.view()
}

// TestActionFailureOutranksFetchError: an approval that fails because the
// server is down stays on the status line although the approvals list's
// refetch fails after it; the reason shows, not the intent's ID again.
func TestActionFailureOutranksFetchError(t *testing.T) {
	t.Parallel()
	b, rf := setupRemote(t)
	const id = "int_01JPB7Q4Z8XK3M2N5R6T7V8W9A"
	b.run(t, b.press(t, "2"))
	rf.setDown(refused("POST", "/v1/intents/"+id+"/approve"))
	b.run(t, b.press(t, "a", "y"))
	if got := len(rf.approves); got != 1 {
		t.Fatalf("%d approvals sent, want 1", got)
	}
	want := "approve " + id + " failed: connection refused"
	if got := b.statusText(); got != want {
		t.Fatalf("status %q, want %q", got, want)
	}
	// The list's own fetch failed after it (its error is kept, not shown
	// over the operator's failure).
	if b.m.approvals.pending.fetching || b.m.approvals.pending.failed == "" {
		t.Fatalf("the approvals list was not fetched again (or did not fail)")
	}
	b.clock.advance(actionHold + time.Second)
	if row := statusRow(b.redraw()); !strings.Contains(row, "✗ "+want) {
		t.Errorf("the approval's failure left the status line: %q", row)
	}
}

// TestEngineErrorShowsTheReason: an engine refusal wrapped with the
// decision and the intent's ID ("approve intent int_…: …") shows its
// reason at 80 columns, not the ID a second time.
func TestEngineErrorShowsTheReason(t *testing.T) {
	t.Parallel()
	b := setup(t)
	const id = "int_01JPB7Q4Z8XK3M2N5R6T7V8W9A"
	b.api.approveErr = fmt.Errorf("approve intent %s: %w", id, errors.New("agent:release-bot submitted it and may not approve it"))
	b.run(t, b.press(t, "2", "a", "y"))
	row := statusRow(b.view())
	if strings.Count(row, "int_01JPB7Q4") != 1 || !strings.Contains(row, "failed: agent:release-bot submitted") {
		t.Errorf("the status line repeats the ID or hides the reason: %q", row)
	}
}

// TestSuccessClearsItsError: an error about something goes when the same
// thing next succeeds: a search's error on the next search, the command
// line's refusal on the next command, a fetch's error when the fetch comes
// back (here: after the server returned).
func TestSuccessClearsItsError(t *testing.T) {
	t.Parallel()
	b, rf := setupRemote(t)
	openNarratives(t, b)
	b.run(t, b.command(t, "search since:abc"))
	if st := b.statusText(); !strings.HasPrefix(st, "search: ") {
		t.Fatalf("bad search: status %q", st)
	}
	b.run(t, b.command(t, "search approved"))
	if st := b.statusText(); st != "" {
		t.Errorf("after a search that worked the status still says %q", st)
	}

	b.run(t, b.command(t, "frobnicate"))
	if st := b.statusText(); st != "unknown command :frobnicate (try :help)" {
		t.Fatalf("unknown command: status %q", st)
	}
	b.run(t, b.command(t, "story int_01JPB7Q4Z8XK3M2N5R6T7V8W9A"))
	if st := b.statusText(); strings.Contains(st, "frobnicate") {
		t.Errorf("after :story worked the status still says %q", st)
	}

	// The server goes; the approvals list fails to refresh; it comes back.
	rf.setDown(refused("GET", "/v1/intents"))
	b.refresh(t, time.Second)
	b.run(t, b.press(t, "2"))
	if st := b.statusText(); !strings.Contains(st, "list pending approvals") {
		t.Fatalf("the failed fetch is not said: status %q", st)
	}
	rf.setDown(nil)
	b.refresh(t, time.Second)
	if st := b.statusText(); st != "" {
		t.Errorf("the server is back and the list fetched, yet the status says %q", st)
	}
}

// TestErrorsDoNotStayForEver: an error nobody answers leaves the status
// line after errorTTL.
func TestErrorsDoNotStayForEver(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.run(t, b.command(t, "frobnicate"))
	b.clock.advance(errorTTL - time.Second)
	if st := b.statusText(); st == "" {
		t.Fatal("the error went too soon")
	}
	b.clock.advance(2 * time.Second)
	if row := statusRow(b.redraw()); strings.TrimSpace(row) != "" {
		t.Errorf("the error is still shown after %s: %q", errorTTL+time.Second, row)
	}
}

// TestArrivalDoesNotWipeTheActionResult: with popups off, a Tier 0 arrival
// a second after a retry does not replace the retry's result; it is named
// once the result has had its few seconds.
func TestArrivalDoesNotWipeTheActionResult(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.run(t, b.press(t, "p"))
	const failed = "int_01JPB8A2REVIEW0000000000BB"
	b.run(t, b.command(t, "retry "+failed+" config fixed"))
	result := "retried " + failed + " as int_01JPB9RETRY00000000000001 (queued)"
	if st := b.statusText(); st != result {
		t.Fatalf("retry: status %q", st)
	}
	b.clock.advance(time.Second)
	pendAlso(b, tier0ID)
	b.arrive(t, tier0ID)
	if row := statusRow(b.view()); !strings.Contains(row, "✓ retried "+failed+" as int_01JPB9RETRY") {
		t.Errorf("the arrival replaced the retry's result a second after it: %q", row)
	}
	b.clock.advance(actionHold)
	if row := statusRow(b.redraw()); !strings.Contains(row, "⚑ approval needed: "+tier0ID) {
		t.Errorf("the arrival is never named: %q", row)
	}
}

// TestIntentCommandsStayWhereTyped: ":cancel" and ":retry" keep the
// operator on the screen they were typed on, with the reason asked on the
// status line and the result (a failure too) said there; no Tier 0
// decision is armed under them.
func TestIntentCommandsStayWhereTyped(t *testing.T) {
	t.Parallel()
	b := setup(t)
	openNarratives(t, b)
	const completed, running = "int_01JPB8A1REVIEW0000000000AA", "int_01JPB8A4RUNNING000000000DD"
	b.run(t, b.command(t, "retry "+completed+" why not"))
	if id := b.m.screens[b.m.active].id(); id != screenNarratives {
		t.Fatalf("a failed :retry moved the operator to %s", id)
	}
	if st := b.statusText(); !strings.HasPrefix(st, "retry "+completed+" failed: intent cannot be retried") {
		t.Errorf("status %q", st)
	}
	b.run(t, b.command(t, "cancel "+running))
	v := b.view()
	if !strings.Contains(statusRow(v), "Cancel int_01J…000000DD · reason:") || b.m.screens[b.m.active].id() != screenNarratives {
		t.Fatalf(":cancel without a reason does not ask on the screen it was typed on:\n%s", v)
	}
	b.typeText(t, "wrong model")
	b.run(t, b.press(t, "<enter>"))
	if id := b.m.screens[b.m.active].id(); id != screenNarratives || b.statusText() != "cancelled "+running+" (deploy_model)" {
		t.Errorf("after the reason: screen %s, status %q", id, b.statusText())
	}
	if b.m.approvals.decider.stage != stageIdle || b.m.popup.visible() {
		t.Error("a Tier 0 decision was left armed")
	}
}

// TestNothingSelectedNamesTheFilter: a decision key on a list whose filter
// matches nothing says so, not that nothing awaits.
func TestNothingSelectedNamesTheFilter(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.run(t, b.press(t, "2"))
	b.run(t, b.press(t, "l"))
	b.run(t, b.press(t, "/"))
	b.typeText(t, "zzz")
	b.run(t, b.press(t, "<enter>", "a"))
	if st := b.statusText(); st != "nothing selected: the filter “zzz” matches none of 3 (esc clears it)" {
		t.Errorf("review list: status %q", st)
	}
	b.run(t, b.press(t, "h", "/"))
	b.typeText(t, "zzz")
	b.run(t, b.press(t, "<enter>", "d"))
	if st := b.statusText(); st != "nothing selected: the filter “zzz” matches none of 3 (esc clears it)" {
		t.Errorf("pending list: status %q", st)
	}
}

// TestDashboardAlwaysShowsFiringAlerts: at 80×24 with the chaos line and
// the kernel grid, where the Layer 2 panel has no room, a firing alert is
// still named on the dashboard, and the Alerts tab counts them.
func TestDashboardAlwaysShowsFiringAlerts(t *testing.T) {
	t.Parallel()
	b := setupWith(t, func(a *fakeAPI) engine.OperatorAPI { return newChaosFake(a) })
	b.run(t, b.send(snapshotMsg{snap: alertsSnapshot()}))
	v := b.view()
	if !strings.Contains(v, "✗ 2 alerts firing: Trigger Mesh/dead_letters · Layer 2 ▲ warn") {
		t.Errorf("the dashboard at 80×24 does not name the firing alerts:\n%s", v)
	}
	if !strings.Contains(v, "Layer 1 kernels") || !strings.Contains(v, "chaos ") {
		t.Errorf("the kernel grid or the chaos line gave way:\n%s", v)
	}
	if h := header(v); !strings.Contains(h, "5 Alerts ✗ 2") && !strings.Contains(h, "5 ✗ 2") {
		t.Errorf("the Alerts tab does not count the firing alerts: %q", h)
	}
	checkBounds(t, v, 80, 24)

	// Nothing firing, one component warns: said in one line too.
	s := alertsSnapshot()
	s.Health.Alerts = nil
	b.send(snapshotMsg{snap: s})
	if v := b.view(); !strings.Contains(v, "Layer 2 ▲ warn · HTM Queue depth") {
		t.Errorf("a Layer 2 warning is not shown at 80×24:\n%s", v)
	}
	b.send(tea.WindowSizeMsg{Width: 80, Height: 24})
}
