package tui

import (
	"github.com/charmbracelet/bubbles/key"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"grace/engine"
	"grace/engine/watchdog"
)

// fixtureKernels is the twenty Layer 1 kernels in boot order: most
// running, one unresponsive, one recovering after a failure, one stopped.
func fixtureKernels() []engine.KernelInfo {
	names := []string{"memory", "governance", "security", "infrastructure", "self_healing", "verification",
		"crypto", "identity", "librarian", "knowledge", "learning", "intelligence", "sandbox", "code",
		"federation", "telemetry", "scheduler_core", "resource_manager", "clarity", "health_monitor"}
	critical := map[string]bool{"memory": true, "governance": true, "security": true, "infrastructure": true, "self_healing": true}
	out := make([]engine.KernelInfo, len(names))
	for i, n := range names {
		age := int64(200 + 37*i)
		out[i] = engine.KernelInfo{Name: n, Critical: critical[n], State: "running", Incarnation: 1,
			LastHeartbeat: fixedNow.Add(-time.Duration(age) * time.Millisecond), HeartbeatAgeMS: age, Heartbeats: 900}
	}
	out[2].State, out[2].MissedChecks, out[2].HeartbeatAgeMS = "unresponsive", 3, 4200
	out[12].State, out[12].Restarts, out[12].Incarnation = "recovering", 1, 2
	out[14].State = "stopped"
	return out
}

// fixtureResolved is an alert that resolved two minutes before fixedNow.
func fixtureResolved() watchdog.Alert {
	return watchdog.Alert{
		ID: "alr_20250314T145810_77b2e0", Key: "scheduler/dispatch_latency", Component: watchdog.NameScheduler,
		Condition: "dispatch_latency", Severity: watchdog.Warn, Peak: watchdog.Critical,
		Summary:   "p99 dispatch latency 2.4s (objective 500ms)",
		FirstSeen: fixedNow.Add(-11 * time.Minute), LastSeen: fixedNow.Add(-2*time.Minute - 15*time.Second), Count: 9,
		ResolvedAt: fixedNow.Add(-2 * time.Minute), Resolution: "condition cleared",
	}
}

// alertsSnapshot is the busy fixture engine with the watchdog's verdict,
// two alerts firing and the kernels.
func alertsSnapshot() engine.Snapshot {
	snap := fixtureSnapshot()
	snap.Health, snap.Layer2 = fixtureHealth(), fixtureLayer2()
	snap.Health.Alerts = append([]watchdog.Alert{{
		ID: "alr_20250314T150701_a1b2c3", Key: "trigger_mesh/dead_letters", Component: watchdog.NameMesh,
		Condition: "dead_letters", Severity: watchdog.Critical, Peak: watchdog.Critical,
		Summary:   "42 dead letters in the last minute",
		FirstSeen: fixedNow.Add(-2*time.Minute - 25*time.Second), LastSeen: fixedNow.Add(-4 * time.Second), Count: 10,
	}}, snap.Health.Alerts...)
	snap.Kernels = fixtureKernels()
	return snap
}

// resolvedEvent is the watchdog's event for fixtureResolved.
func resolvedEvent() engine.Event {
	return engine.Event{Kind: "alert", Alert: &watchdog.AlertEvent{Change: watchdog.Resolved, Alert: fixtureResolved()}}
}

func TestFiveAndColonAlertsShowTheAlertsScreen(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.run(t, b.press(t, "5"))
	if got := b.m.screens[b.m.active].id(); got != screenAlerts {
		t.Fatalf("after 5 the screen is %s, want alerts", got)
	}
	if v := b.view(); !strings.Contains(v, "[5 Alerts]") || !strings.Contains(v, "no alert firing") {
		t.Errorf("alerts screen not shown:\n%s", v)
	}
	b.run(t, b.press(t, "1"))
	b.run(t, b.command(t, "alerts"))
	if got := b.m.screens[b.m.active].id(); got != screenAlerts || b.m.cmd.open {
		t.Fatalf(":alerts left screen %s (command line open %v), want alerts", got, b.m.cmd.open)
	}
}

// setupAlerts is setup on the Alerts screen with two alerts firing and
// one resolved.
func setupAlerts(t *testing.T) *testBundle {
	t.Helper()
	b := setup(t)
	b.send(snapshotMsg{snap: alertsSnapshot()})
	b.run(t, b.send(eventsMsg{events: []engine.Event{resolvedEvent()}}))
	b.run(t, b.press(t, "5"))
	return b
}

func TestAlertsListFiringAndResolvedNewestFirst(t *testing.T) {
	t.Parallel()
	b := setupAlerts(t)
	v := b.view()
	rows := []string{"✗ critical Trigger Mesh/dead_letters", "▲ warn     HTM/queue_depth", "✓ critical Scheduler/dispatch_latency"}
	last := -1
	for _, r := range rows {
		i := strings.Index(v, r)
		if i < 0 {
			t.Fatalf("alerts screen lacks %q:\n%s", r, v)
		}
		if i < last {
			t.Errorf("%q is out of order (firing newest first, then resolved):\n%s", r, v)
		}
		last = i
	}
	for _, want := range []string{"2 firing · 1 resolved", "15:07:26", "×9", "seen resolving while this console runs"} {
		if !strings.Contains(v, want) {
			t.Errorf("alerts screen lacks %q:\n%s", want, v)
		}
	}

	// j moves to the next alert, whose detail shows below.
	b.press(t, "j")
	if v := b.view(); !strings.Contains(v, "alr_20250314T150220_3f9a1c") {
		t.Errorf("j did not select the second alert:\n%s", v)
	}
	b.press(t, "G")
	if v := b.view(); !strings.Contains(v, "resolved after 9m00s · condition cleared") {
		t.Errorf("G did not select the resolved alert:\n%s", v)
	}

	// The filter narrows the list; esc clears it.
	b.press(t, "/")
	b.typeText(t, "mesh")
	b.press(t, "<enter>")
	if v := b.view(); strings.Contains(v, "HTM/queue_depth") || !strings.Contains(v, "Trigger Mesh/dead_letters") {
		t.Errorf("filter mesh did not narrow the list:\n%s", v)
	}
	b.press(t, "<esc>")
	if v := b.view(); !strings.Contains(v, "HTM/queue_depth") {
		t.Errorf("esc did not clear the filter:\n%s", v)
	}
}

func TestAlertGoneFromSnapshotIsKeptAsResolved(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.send(snapshotMsg{snap: alertsSnapshot()})
	next := alertsSnapshot()
	next.Health.Alerts = next.Health.Alerts[1:] // the mesh alert resolved
	next.Health.CheckedAt = fixedNow.Add(11 * time.Second)
	b.send(snapshotMsg{snap: next})
	b.run(t, b.press(t, "5"))
	v := b.view()
	if !strings.Contains(v, "1 firing · 1 resolved") || !strings.Contains(v, "✓ critical Trigger Mesh/dead_letters") ||
		!strings.Contains(v, "15:09:37") {
		t.Errorf("an alert gone from the firing list is not shown resolved at the check that found it gone:\n%s", v)
	}
}

func TestDashboardKernelGrid(t *testing.T) {
	t.Parallel()
	b := setup(t)
	if v := b.view(); strings.Contains(v, "Layer 1 kernels") {
		t.Fatalf("a kernel grid without kernels:\n%s", v)
	}
	b.send(snapshotMsg{snap: alertsSnapshot()})
	for _, size := range [][2]int{{80, 24}, {160, 48}} {
		b.send(tea.WindowSizeMsg{Width: size[0], Height: size[1]})
		v := b.view()
		checkBounds(t, v, size[0], size[1])
		for _, want := range []string{"Layer 1 kernels", "◆ critical", "●◆ memory", "▲◆ security", "↻  sandbox", "■  federati", "●  health_m"} {
			if !strings.Contains(v, want) {
				t.Errorf("%dx%d dashboard lacks %q:\n%s", size[0], size[1], want, v)
			}
		}
	}
	if v := b.view(); !strings.Contains(v, "17 running · 1 unresponsive · 1 recovering · 1 stopped · ◆ critical") ||
		!strings.Contains(v, "unresponsive     4s") || !strings.Contains(v, "recovering    644ms ↻1") {
		t.Errorf("wide grid lacks state words, ages or restarts:\n%s", v)
	}
}

func TestAlertsKeyClashIsRefusedAndRemapWorks(t *testing.T) {
	t.Parallel()
	if _, err := newKeyMap(false, map[string][]string{"narratives": {"5"}}); err == nil ||
		!strings.Contains(err.Error(), `"5" is bound to both narratives and alerts`) {
		t.Fatalf("binding narratives to 5 gave %v, want a clash with alerts", err)
	}
	k, err := newKeyMap(false, map[string][]string{"alerts": {"A"}})
	if err != nil {
		t.Fatal(err)
	}
	if !key.Matches(keyMsg("A"), k.Alerts) || key.Matches(keyMsg("5"), k.Alerts) {
		t.Fatal("alerts remapped to A: A should open Alerts and 5 no longer")
	}
}
