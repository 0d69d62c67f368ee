package tui

import (
	"context"
	"io"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"
)

// header is the first line of the view, as the operator reads it.
func header(v string) string { return ansi.Strip(strings.SplitN(v, "\n", 2)[0]) }

// footer is the last line of the view, as the operator reads it.
func footer(v string) string { return ansi.Strip(v[strings.LastIndex(v, "\n")+1:]) }

// pendAlso makes the fake engine hold the fixture's pending intents plus
// ids, with the snapshot's count to match, as the engine would once they
// have arrived.
func pendAlso(b *testBundle, ids ...string) {
	items := fixturePending()
	for _, id := range ids {
		items = append(items, pendingIntent(id, "deploy_production", "agent:release-bot", time.Minute))
	}
	b.api.setPending(items)
	s := fixtureSnapshot()
	s.PendingApprovals = len(items)
	b.api.setSnapshot(s)
}

func TestPopupsOffArrivalWaitsInTheInbox(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.run(t, b.press(t, "p"))
	if got, want := b.statusText(), "popups off: Tier 0 arrivals wait in the inbox (3) · p turns them on"; got != want {
		t.Errorf("status %q, want %q", got, want)
	}
	pendAlso(b, tier0ID)
	b.arrive(t, tier0ID)
	v := b.view()
	if b.m.popup.visible() || strings.Contains(v, "Approval needed") {
		t.Fatalf("an arrival popped up with popups off:\n%s", v)
	}
	// The operator's action's result holds the line a few seconds, then
	// the arrival is named there.
	if got, want := b.statusText(), "popups off: Tier 0 arrivals wait in the inbox (3) · p turns them on"; got != want {
		t.Errorf("status right after the arrival %q, want the action's result %q", got, want)
	}
	b.clock.advance(actionHold)
	if got, want := b.statusText(), "approval needed: "+tier0ID+" · deploy_production by agent:release-bot"; got != want {
		t.Errorf("status %q, want %q", got, want)
	}
	if !b.m.approvals.knows(tier0ID) {
		t.Error("the arrival is not in the Approvals inbox")
	}
	h := header(v)
	if !strings.Contains(h, "⚑ 4") {
		t.Errorf("the header's badge does not count the arrival: %q", h)
	}
	if !strings.Contains(h, popupsOffMarker) {
		t.Errorf("the header does not say popups are off: %q", h)
	}
	if f := footer(v); !strings.Contains(f, "p popups on") {
		t.Errorf("the footer does not say how to turn popups on: %q", f)
	}
	// The Approvals screen lists it.
	b.run(t, b.press(t, "2"))
	if !strings.Contains(b.view(), clipMiddle(tier0ID, 16)) {
		t.Errorf("the Approvals screen does not list %s:\n%s", tier0ID, b.view())
	}
}

func TestPopupsOffClosesTheOpenPopupWithoutDeciding(t *testing.T) {
	t.Parallel()
	b := setup(t)
	pendAlso(b, "int_A", "int_B")
	b.arrive(t, "int_A")
	b.arrive(t, "int_B")
	if !b.m.popup.visible() {
		t.Fatal("no popup before the toggle")
	}
	b.run(t, b.press(t, "p"))
	if b.m.popup.visible() || strings.Contains(b.view(), "Approval needed") {
		t.Fatalf("popups off left the popup up:\n%s", b.view())
	}
	if approves, denies := b.api.calls(); len(approves)+len(denies) != 0 {
		t.Fatalf("turning popups off decided: approves %+v denies %+v", approves, denies)
	}
	for _, id := range []string{"int_A", "int_B"} {
		if !b.m.approvals.knows(id) {
			t.Errorf("%s left the inbox when popups went off", id)
		}
	}
	if got, want := b.statusText(), "popups off: Tier 0 arrivals wait in the inbox (5) · p turns them on"; got != want {
		t.Errorf("status %q, want %q", got, want)
	}

	// On again: what waits is not replayed, the count is said, and the
	// next arrival pops up alone.
	b.run(t, b.press(t, "p"))
	if b.m.popup.visible() {
		t.Fatalf("turning popups on replayed the arrivals that wait in the inbox:\n%s", b.view())
	}
	if got, want := b.statusText(), "popups on: new arrivals pop up · 5 wait in the inbox · p turns them off"; got != want {
		t.Errorf("status %q, want %q", got, want)
	}
	if h := header(b.view()); strings.Contains(h, popupsOffMarker) {
		t.Errorf("the header still says popups are off: %q", h)
	}
	pendAlso(b, "int_A", "int_B", "int_C")
	b.arrive(t, "int_C")
	if !b.m.popup.visible() || len(b.m.popup.queue) != 1 || b.m.popup.queue[0].ID != "int_C" {
		t.Fatalf("after popups on, the new arrival did not pop up alone (queue %d):\n%s", len(b.m.popup.queue), b.view())
	}
	if v := b.view(); !strings.Contains(v, "int_C") || strings.Contains(v, "1 of") {
		t.Errorf("popup does not show int_C alone:\n%s", v)
	}
}

func TestPopupsKeyWorksOnEveryScreenAndReadOnly(t *testing.T) {
	t.Parallel()
	for _, ro := range []bool{false, true} {
		b := setup(t, func(o *Options) { o.ReadOnly = ro })
		for _, scr := range []string{"1", "2", "3", "4", "5"} {
			b.run(t, b.press(t, scr))
			before := b.m.popupsOff
			b.run(t, b.press(t, "p"))
			if b.m.popupsOff == before {
				t.Errorf("read-only %v, screen %s: p did not toggle popups", ro, scr)
			}
			if !strings.HasPrefix(b.statusText(), "popups ") {
				t.Errorf("read-only %v, screen %s: status %q does not confirm the toggle", ro, scr, b.statusText())
			}
		}
		// The help names it, read-only or not.
		b.press(t, "?")
		if v := ansi.Strip(b.view()); !strings.Contains(v, "approval popups on/off") {
			t.Errorf("read-only %v: the help does not list the popups key:\n%s", ro, v)
		}
	}
}

func TestPopupsKeyIsTextInPrompts(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.arrive(t, tier0ID)
	b.press(t, "d")
	b.typeText(t, "paused for maintenance")
	if b.m.popupsOff || !b.m.popup.visible() {
		t.Fatal("p in a reason turned popups off")
	}
	if got := b.m.popup.decider.input.Value(); got != "paused for maintenance" {
		t.Errorf("reason %q", got)
	}
}

func TestPopupsOffOptionStartsWithThemOff(t *testing.T) {
	t.Parallel()
	b := setup(t, func(o *Options) { o.PopupsOff = true })
	if h := header(b.view()); !strings.Contains(h, popupsOffMarker) {
		t.Errorf("the header does not say popups are off: %q", h)
	}
	b.arrive(t, tier0ID)
	if b.m.popup.visible() {
		t.Fatal("an arrival popped up in a console started with popups off")
	}
	if !strings.Contains(b.statusText(), "approval needed: "+tier0ID) {
		t.Errorf("status %q does not name the arrival", b.statusText())
	}
	b.run(t, b.press(t, "p"))
	b.arrive(t, "int_NEXT")
	if !b.m.popup.visible() || b.m.popup.queue[0].ID != "int_NEXT" {
		t.Fatal("p did not turn popups on")
	}
}

func TestPopupsKeyRemaps(t *testing.T) {
	t.Parallel()
	b := setup(t, func(o *Options) { o.Keys = map[string][]string{"popups": {"m"}} })
	b.arrive(t, tier0ID)
	b.run(t, b.press(t, "p"))
	if b.m.popupsOff || !b.m.popup.visible() {
		t.Fatal("p still turns popups off after popups was remapped to m")
	}
	if v := b.view(); !strings.Contains(v, "m popups off") {
		t.Errorf("the popup does not name the remapped key:\n%s", v)
	}
	b.run(t, b.press(t, "m"))
	if !b.m.popupsOff || b.m.popup.visible() {
		t.Fatal("m does not turn popups off")
	}
	if got := b.statusText(); !strings.HasSuffix(got, "· m turns them on") {
		t.Errorf("status %q does not name the remapped key", got)
	}
	// A key another action uses on some screen is refused.
	for _, k := range []string{"a", "r", "j", "q"} {
		err := Run(context.Background(), newFakeAPI(), Options{Keys: map[string][]string{"popups": {k}},
			Input: strings.NewReader(""), Output: io.Discard})
		if err == nil || !strings.Contains(err.Error(), `"`+k+`" is bound to both`) {
			t.Errorf("popups on %q: error %v, want a clash", k, err)
		}
	}
}

func TestPopupsOffFitsSmallTerminals(t *testing.T) {
	t.Parallel()
	for _, ro := range []bool{false, true} {
		for _, size := range [][2]int{{80, 24}, {60, 15}} {
			b := setup(t, func(o *Options) { o.ReadOnly = ro; o.PopupsOff = true })
			b.send(tea.WindowSizeMsg{Width: size[0], Height: size[1]})
			for _, scr := range []string{"1", "2", "3", "4", "5"} {
				b.run(t, b.press(t, scr))
				v := b.view()
				checkBounds(t, v, size[0], size[1])
				if n := strings.Count(v, "\n") + 1; n != size[1] {
					t.Errorf("%dx%d screen %s: %d lines, want %d", size[0], size[1], scr, n, size[1])
				}
				h := header(v)
				for _, want := range []string{popupsOffMarker, "● live"} {
					if !strings.Contains(h, want) {
						t.Errorf("read-only %v, %dx%d screen %s: header lacks %q: %q", ro, size[0], size[1], scr, want, h)
					}
				}
				// At 60 columns the header keeps what is most important
				// first (freshness, pause, popups off) and may drop
				// READ-ONLY, as it already did under PAUSED; at 80 it
				// has room for all.
				if ro && size[0] >= 80 && !strings.Contains(h, "READ-ONLY") {
					t.Errorf("%dx%d screen %s: header lost READ-ONLY: %q", size[0], size[1], scr, h)
				}
				// The marker is short enough that at 80 columns the tabs
				// keep their names beside it.
				if !ro && size[0] >= 80 && !strings.Contains(h, "Chaos") {
					t.Errorf("80x24 screen %s: the tabs lost their names to the marker: %q", scr, h)
				}
			}
		}
	}
}
