package tui

import (
	"fmt"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"grace/engine"
	"grace/engine/intent"
)

const tier0ID = "int_01JPBNEW0000000000000000AA"

func TestTier0EventShowsPopupOnDashboard(t *testing.T) {
	t.Parallel()
	b := setup(t)
	if b.m.popup.visible() {
		t.Fatal("popup visible before any event")
	}
	b.arrive(t, tier0ID)
	if b.m.screens[b.m.active].id() != screenDashboard {
		t.Fatal("the arrival switched screens; it must show where the operator is")
	}
	v := b.view()
	for _, want := range []string{"Approval needed", tier0ID, "agent:release-bot", "0 · human approval", "0.80", "a approve · d deny · esc later"} {
		if !strings.Contains(v, want) {
			t.Errorf("popup lacks %q:\n%s", want, v)
		}
	}
	// The same intent announced again does not pop up twice.
	b.arrive(t, tier0ID)
	if n := len(b.m.popup.queue); n != 1 {
		t.Errorf("popup queue has %d entries after a repeated event, want 1", n)
	}
}

func TestArrivalOnApprovalsScreenIsListedNotPopped(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.run(t, b.press(t, "2"))
	b.api.setPending(append(fixturePending(), pendingIntent(tier0ID, "deploy_production", "agent:release-bot", time.Minute)))
	b.arrive(t, tier0ID)
	if b.m.popup.visible() {
		t.Fatal("popup over the list the operator is working: it would take a and d")
	}
	if got := b.statusText(); !strings.Contains(got, "approval needed: "+tier0ID) {
		t.Errorf("status %q does not announce the arrival", got)
	}
	if !b.m.approvals.knows(tier0ID) {
		t.Error("the arrival is not listed at once")
	}
	// a still means the selected row, not the arrival.
	b.press(t, "a")
	if b.m.approvals.decider.target != fixturePending()[0].ID {
		t.Errorf("a targets %s, want the selected %s", b.m.approvals.decider.target, fixturePending()[0].ID)
	}
}

func TestApproveAsksAndOnlyYesApproves(t *testing.T) {
	t.Parallel()
	for _, answer := range []string{"n", "N", "<enter>", "<esc>", "x", " "} {
		t.Run(answer, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			b.api.setPending([]intent.Intent{pendingIntent(tier0ID, "deploy_production", "agent:release-bot", time.Minute)})
			b.arrive(t, tier0ID)
			b.press(t, "a")
			if !strings.Contains(b.view(), "Approve "+tier0ID+"? (y/N)") {
				t.Fatalf("a did not ask (y/N):\n%s", b.view())
			}
			b.run(t, b.press(t, answer))
			if approves, _ := b.api.calls(); len(approves) != 0 {
				t.Fatalf("answer %q approved: %+v", answer, approves)
			}
			if !b.m.popup.visible() {
				t.Error("popup closed after a cancelled approval; the intent is still pending")
			}
			if !strings.Contains(b.statusText(), "cancelled") {
				t.Errorf("status %q does not say the approval was cancelled", b.statusText())
			}
		})
	}
}

func TestApproveYesApprovesOnceAsOperator(t *testing.T) {
	t.Parallel()
	for _, yes := range []string{"y", "Y"} {
		t.Run(yes, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			b.api.setPending([]intent.Intent{pendingIntent(tier0ID, "deploy_production", "agent:release-bot", time.Minute)})
			b.arrive(t, tier0ID)
			b.run(t, b.press(t, "a", yes))
			approves, denies := b.api.calls()
			want := []decisionCall{{ID: tier0ID, Operator: "ops", Reason: approveReason}}
			if fmt.Sprint(approves) != fmt.Sprint(want) || len(denies) != 0 {
				t.Fatalf("approves %+v denies %+v, want approves %+v", approves, denies, want)
			}
			if b.m.popup.visible() {
				t.Error("popup still visible after the approval")
			}
			if got := b.statusText(); !strings.Contains(got, "approved "+tier0ID) {
				t.Errorf("status %q, want it to say approved %s", got, tier0ID)
			}
		})
	}
}

func TestDenyWithReason(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.api.setPending([]intent.Intent{pendingIntent(tier0ID, "deploy_production", "agent:release-bot", time.Minute)})
	b.arrive(t, tier0ID)
	b.press(t, "d")
	if !strings.Contains(b.view(), "Deny · reason:") {
		t.Fatalf("d did not ask for a reason:\n%s", b.view())
	}
	b.typeText(t, "change freeze until Monday")
	b.run(t, b.press(t, "<enter>"))
	approves, denies := b.api.calls()
	want := []decisionCall{{ID: tier0ID, Operator: "ops", Reason: "change freeze until Monday"}}
	if fmt.Sprint(denies) != fmt.Sprint(want) || len(approves) != 0 {
		t.Fatalf("denies %+v approves %+v, want denies %+v", denies, approves, want)
	}
	if got := b.statusText(); !strings.Contains(got, "denied "+tier0ID) {
		t.Errorf("status %q, want it to say denied", got)
	}
}

func TestDenyRefusesEmptyReason(t *testing.T) {
	t.Parallel()
	for _, typed := range []string{"", "   "} {
		t.Run(fmt.Sprintf("%q", typed), func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			b.arrive(t, tier0ID)
			b.press(t, "d")
			b.typeText(t, typed)
			b.run(t, b.press(t, "<enter>"))
			if _, denies := b.api.calls(); len(denies) != 0 {
				t.Fatalf("denied with an empty reason: %+v", denies)
			}
			if b.statusLevel() != levelError || !strings.Contains(b.statusText(), "reason") {
				t.Errorf("status (level %d) %q, want an error asking for a reason", b.statusLevel(), b.statusText())
			}
			// Still asking; esc cancels.
			if !b.m.popup.prompting() {
				t.Error("the reason prompt closed after the refusal")
			}
			b.press(t, "<esc>")
			if b.m.popup.prompting() || !b.m.popup.visible() {
				t.Error("esc did not cancel the denial back to the popup")
			}
		})
	}
}

func TestReadOnlyDisablesDecisions(t *testing.T) {
	t.Parallel()
	b := setup(t, func(o *Options) { o.ReadOnly = true })
	b.arrive(t, tier0ID)
	for _, k := range []string{"a", "d"} {
		cmd := b.press(t, k)
		b.run(t, cmd)
		if b.m.popup.prompting() {
			t.Fatalf("%s opened a prompt in read-only mode", k)
		}
		if !strings.Contains(b.statusText(), "read-only") {
			t.Errorf("after %s status is %q, want it to say read-only", k, b.statusText())
		}
	}
	b.press(t, "<esc>")
	b.run(t, b.press(t, "2"))
	b.run(t, b.press(t, "a", "y", "d"))
	approves, denies := b.api.calls()
	if len(approves)+len(denies) != 0 {
		t.Fatalf("read-only console decided: approves %+v denies %+v", approves, denies)
	}
	footer := b.view()
	footer = footer[strings.LastIndex(footer, "\n"):]
	if strings.Contains(footer, "approve") || strings.Contains(footer, "deny") {
		t.Errorf("read-only help offers approve or deny: %q", footer)
	}
	b.press(t, "?")
	if v := b.view(); strings.Contains(v, "a approve") || strings.Contains(v, "d deny") {
		t.Errorf("read-only full help offers approve or deny:\n%s", v)
	}
}

func TestNumberKeysAndTabSwitchScreens(t *testing.T) {
	t.Parallel()
	b := setup(t)
	steps := []struct {
		key  string
		want screenID
	}{
		{"2", screenApprovals}, {"1", screenDashboard}, {"<tab>", screenApprovals}, {"<tab>", screenChaos},
		{"<tab>", screenNarratives}, {"<tab>", screenAlerts}, {"<tab>", screenDashboard}, {"<shift+tab>", screenAlerts},
		{"<shift+tab>", screenNarratives}, {"5", screenAlerts}, {"4", screenNarratives}, {"<shift+tab>", screenChaos},
		{"3", screenChaos}, {"<shift+tab>", screenApprovals}, {"2", screenApprovals},
	}
	for _, s := range steps {
		b.run(t, b.press(t, s.key))
		if got := b.m.screens[b.m.active].id(); got != s.want {
			t.Fatalf("after %s the screen is %s, want %s", s.key, got, s.want)
		}
	}
	if v := b.view(); !strings.Contains(v, "[2 Approvals") || !strings.Contains(v, "deploy_production") {
		t.Errorf("approvals screen not shown:\n%s", v)
	}
}

func TestQuitKeys(t *testing.T) {
	t.Parallel()
	for _, k := range []string{"q", "<ctrl+c>"} {
		t.Run(k, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			cmd := b.press(t, k)
			if cmd == nil {
				t.Fatal("no command")
			}
			if _, ok := cmd().(tea.QuitMsg); !ok {
				t.Fatalf("%s did not quit", k)
			}
			if b.m.pc.ctx.Err() == nil {
				t.Error("quitting left the engine requests' context running")
			}
		})
	}
}

func TestQDoesNotQuitWhileTypingAReason(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.arrive(t, tier0ID)
	b.press(t, "d")
	if cmd := b.press(t, "q"); cmd != nil {
		if _, ok := cmd().(tea.QuitMsg); ok {
			t.Fatal("q quit while typing a reason")
		}
	}
	if got := b.m.popup.decider.input.Value(); got != "q" {
		t.Errorf("reason is %q, want %q", got, "q")
	}
}

func TestResizeKeepsEverythingInBounds(t *testing.T) {
	t.Parallel()
	b := setup(t)
	seedDepth(b.m, depthHistory(300))
	b.send(snapshotMsg{snap: alertsSnapshot()})
	b.run(t, b.send(eventsMsg{events: []engine.Event{resolvedEvent()}}))
	b.run(t, b.press(t, "2"))
	for i, size := range [][2]int{{200, 60}, {80, 24}, {160, 48}, {80, 24}} {
		b.send(tea.WindowSizeMsg{Width: size[0], Height: size[1]})
		for _, scr := range []string{"1", "2", "3", "4", "5"} {
			b.run(t, b.press(t, scr))
			if scr == "1" {
				b.arrive(t, fmt.Sprint("int_R", i)) // a popup over the dashboard
			}
			checkBounds(t, b.view(), size[0], size[1])
			if n := strings.Count(b.view(), "\n") + 1; n != size[1] {
				t.Errorf("%dx%d screen %s: %d lines, want exactly %d", size[0], size[1], scr, n, size[1])
			}
		}
	}
}

func TestEveryScreenStateFitsAnySize(t *testing.T) {
	t.Parallel()
	b := setup(t)
	seedDepth(b.m, depthHistory(600))
	b.arrive(t, tier0ID)
	m := b.m
	states := []struct {
		name  string
		enter func()
		is    func() bool
	}{
		{"dashboard with popup", func() {}, func() bool { return m.popup.visible() }},
		{"popup confirm", func() { b.press(t, "a") }, func() bool { return m.popup.decider.stage == stageConfirm }},
		{"popup reason", func() { b.press(t, "n", "d", "w", "h", "y", " ") }, func() bool { return m.popup.decider.stage == stageReason }},
		{"approvals list", func() { b.run(t, b.press(t, "<esc>", "<esc>", "2")) }, func() bool { return m.active == 1 && !m.popup.visible() && len(m.approvals.pending.items) == 3 }},
		{"approvals detail", func() { b.press(t, "j", "<enter>") }, func() bool { return m.approvals.detail }},
		{"detail confirm", func() { b.press(t, "a") }, func() bool { return m.approvals.decider.stage == stageConfirm }},
		{"detail reason", func() { b.press(t, "n", "d", "w", "h", "y") }, func() bool { return m.approvals.decider.stage == stageReason }},
		{"list full help", func() { b.press(t, "<esc>", "<esc>", "?") }, func() bool { return m.showHelp && !m.approvals.detail }},
		{"dashboard full help", func() { b.press(t, "1", "?") }, func() bool { return m.showHelp && m.active == 0 }},
		{"review list", func() { b.run(t, b.press(t, "?", "2", "l")) }, func() bool { return m.approvals.section == sectionReview && len(m.approvals.review.items) == 3 }},
		{"review detail", func() { b.press(t, "<enter>") }, func() bool { return m.approvals.detail }},
		{"review flag", func() { b.press(t, "f", "w", "h", "y") }, func() bool { return m.approvals.decider.stage == stageReason }},
		{"approvals filter", func() { b.press(t, "<esc>", "<esc>", "/", "m", "l") }, func() bool { return m.approvals.filter.editing }},
		{"narratives", func() { b.run(t, b.press(t, "<esc>", "4")) }, func() bool { return m.active == 3 && len(m.narratives.results.entries) > 0 }},
		{"narratives search box", func() { b.press(t, "/", "d", "e") }, func() bool { return m.narratives.editing }},
		{"narratives detail", func() { b.press(t, "<esc>", "<enter>") }, func() bool { return m.narratives.detail }},
		{"narratives verified", func() { b.run(t, b.press(t, "v")) }, func() bool { return m.narratives.verify.done }},
		{"story", func() { b.run(t, b.press(t, "s")) }, func() bool { return m.narratives.story != nil && len(m.narratives.story.list.entries) == 5 }},
		{"command line", func() { b.press(t, ":", "s", "e") }, func() bool { return m.cmd.open }},
		{"dashboard with kernels and alerts", func() {
			b.press(t, "<esc>", "1")
			b.send(snapshotMsg{snap: alertsSnapshot()})
			b.run(t, b.send(eventsMsg{events: []engine.Event{resolvedEvent()}}))
		}, func() bool { return m.active == 0 && len(m.pc.snap.Kernels) == 20 }},
		{"alerts", func() { b.press(t, "5", "G") }, func() bool { return m.active == 4 && m.alerts.cursor == 2 }},
		{"alerts filter", func() { b.press(t, "/", "h", "t") }, func() bool { return m.alerts.filter.editing }},
	}
	for _, s := range states {
		s.enter()
		if !s.is() {
			t.Fatalf("did not reach state %q", s.name)
		}
		for w := 20; w <= 220; w += 13 {
			for h := 5; h <= 70; h += 7 {
				b.send(tea.WindowSizeMsg{Width: w, Height: h})
				v := b.view()
				checkBounds(t, v, w, h)
				if t.Failed() {
					t.Fatalf("%s at %dx%d:\n%s", s.name, w, h, v)
				}
			}
		}
	}
}

func TestApprovalsScreenNavigationAndDetail(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.run(t, b.press(t, "2"))
	items := fixturePending()
	b.press(t, "j")
	if it, _ := b.m.approvals.selected(); it.ID != items[1].ID {
		t.Fatalf("j selected %s, want %s", it.ID, items[1].ID)
	}
	b.press(t, "G")
	if it, _ := b.m.approvals.selected(); it.ID != items[2].ID {
		t.Fatalf("G selected %s, want %s", it.ID, items[2].ID)
	}
	b.press(t, "g", "j", "k", "j")
	b.press(t, "<enter>")
	v := b.view()
	for _, want := range []string{"Intent " + items[1].ID, "agent:janitor", "REASONING", "PAYLOAD", `"service": "billing-api",`, "deadline", "in 55m30s"} {
		if !strings.Contains(v, want) {
			t.Errorf("detail lacks %q:\n%s", want, v)
		}
	}
	// The payload scrolls to its end, and no further.
	b.press(t, "G")
	v = b.view()
	if !strings.Contains(v, `"minutes": 15`) || strings.Contains(v, `"service": "billing-api",`) {
		t.Errorf("G did not scroll the payload to its end:\n%s", v)
	}
	b.press(t, "j", "j", "j")
	if v2 := b.view(); v2 != v {
		t.Errorf("j scrolled past the end of the payload:\n%s", v2)
	}
	b.press(t, "<esc>")
	if b.m.approvals.detail {
		t.Fatal("esc did not leave the detail")
	}
	b.run(t, b.press(t, "a", "y"))
	approves, _ := b.api.calls()
	if len(approves) != 1 || approves[0].ID != items[1].ID {
		t.Fatalf("approves %+v, want exactly the selected %s", approves, items[1].ID)
	}
	if b.m.approvals.knows(items[1].ID) {
		t.Error("approved intent still listed")
	}
	if got := len(b.m.approvals.pending.items); got != 2 {
		t.Errorf("%d items listed after the approval, want 2", got)
	}
}

func TestApproveFailureShowsOnStatusLine(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.api.approveErr = fmt.Errorf("approve %s: %w", tier0ID, engine.ErrNotPending)
	b.arrive(t, tier0ID)
	b.run(t, b.press(t, "a", "y"))
	want := "approve " + tier0ID + " failed: intent is not pending approval"
	if got := b.statusText(); got != want {
		t.Errorf("status %q, want %q", got, want)
	}
	if b.statusLevel() != levelError {
		t.Errorf("status level %d, want error", b.statusLevel())
	}
	if b.m.popup.visible() {
		t.Error("popup kept an intent that is no longer pending")
	}
	if !strings.Contains(b.view(), "Recent decisions") {
		t.Error("the error covered the screen")
	}
}

func TestDecidedElsewhereLeavesPopup(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.arrive(t, tier0ID)
	it := pendingIntent(tier0ID, "deploy_production", "agent:release-bot", time.Minute)
	it.State = intent.StateQueued
	b.send(eventsMsg{events: []engine.Event{{Kind: "intent", Intent: it}}})
	if b.m.popup.visible() {
		t.Fatal("popup still shows an intent approved elsewhere")
	}
	if !strings.Contains(b.statusText(), "decided elsewhere") {
		t.Errorf("status %q does not say it was decided elsewhere", b.statusText())
	}
}

func TestPopupQueuesArrivalsAndEscLeavesThemForLater(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.arrive(t, "int_A")
	b.arrive(t, "int_B")
	if !strings.Contains(b.view(), "1 of 2") {
		t.Fatalf("popup does not count queued arrivals:\n%s", b.view())
	}
	b.press(t, "<esc>")
	if !strings.Contains(b.view(), "int_B") {
		t.Fatalf("esc did not move on to the next arrival:\n%s", b.view())
	}
	b.press(t, "<esc>")
	if b.m.popup.visible() {
		t.Fatal("popup still visible after both were left for later")
	}
	if approves, denies := b.api.calls(); len(approves)+len(denies) != 0 {
		t.Fatal("esc decided something")
	}
}

func TestHelpToggles(t *testing.T) {
	t.Parallel()
	b := setup(t)
	if strings.Contains(b.view(), "shift+tab") {
		t.Fatal("full help shown before ?")
	}
	b.press(t, "?")
	if v := b.view(); !strings.Contains(v, "tab/shift+tab") || !strings.Contains(v, "next, previous") || !strings.Contains(v, "Commands (:)") {
		t.Fatalf("? did not show the full help:\n%s", v)
	}
	checkBounds(t, b.view(), 80, 24)
	b.press(t, "?")
	if strings.Contains(b.view(), "next, previous") {
		t.Fatal("? did not hide the full help")
	}
}

func TestHeaderSaysWhenFiguresAreStale(t *testing.T) {
	t.Parallel()
	b := setup(t, func(o *Options) { o.Refresh = time.Second })
	if v := b.view(); !strings.Contains(v, "● live") {
		t.Fatalf("fresh figures not shown as live:\n%s", v)
	}
	b.clock.advance(12 * time.Second)
	// The console sees time pass on its ticks: the first asks for a
	// snapshot, the second finds it has not come back.
	b.send(tickMsg{at: b.clock.now()})
	b.send(tickMsg{at: b.clock.now()})
	if v := b.view(); !strings.Contains(v, "▲ updated 12s ago") {
		t.Fatalf("stale figures not flagged:\n%s", v)
	}
	b.send(snapshotMsg{snap: fixtureSnapshot()})
	if v := b.view(); !strings.Contains(v, "● live") {
		t.Fatal("a fresh snapshot did not clear the stale flag")
	}
}

func TestBadgeOnEveryScreen(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for _, k := range []string{"1", "2"} {
		b.run(t, b.press(t, k))
		if v := b.view(); !strings.Contains(strings.SplitN(v, "\n", 2)[0], "⚑ 3") {
			t.Errorf("screen %s header lacks the pending badge: %q", k, strings.SplitN(v, "\n", 2)[0])
		}
	}
}

func TestTickTakesOneSnapshotAtATime(t *testing.T) {
	t.Parallel()
	b := setup(t)
	first := b.send(tickMsg{at: fixedNow})
	second := b.send(tickMsg{at: fixedNow})
	if n := countBatch(first); n != 2 {
		t.Errorf("first tick gave %d commands, want 2 (next tick and a snapshot)", n)
	}
	if n := countBatch(second); n != 1 {
		t.Errorf("tick with a snapshot in flight gave %d commands, want 1 (next tick only)", n)
	}
}

// countBatch counts the commands in cmd without running blocking ones.
func countBatch(cmd tea.Cmd) int {
	if cmd == nil {
		return 0
	}
	// tea.Batch of several commands returns a BatchMsg at once; a single
	// command is returned as is. Ticks block, so do not call a lone cmd.
	done := make(chan tea.Msg, 1)
	go func() { done <- cmd() }()
	select {
	case msg := <-done:
		if batch, ok := msg.(tea.BatchMsg); ok {
			return len(batch)
		}
		return 1
	case <-time.After(100 * time.Millisecond):
		return 1
	}
}

func TestEventsStreamCommand(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ch := make(chan engine.Event, 8)
	for i := range 3 {
		ch <- engine.Event{Kind: "intent", Intent: intent.Intent{ID: fmt.Sprint("int_", i)}}
	}
	msg := waitEventsCmd(b.m.pc.ctx, ch)()
	ev, ok := msg.(eventsMsg)
	if !ok || len(ev.events) != 3 {
		t.Fatalf("got %#v, want one batch of 3 events", msg)
	}
	close(ch)
	if _, ok := waitEventsCmd(b.m.pc.ctx, ch)().(eventsClosedMsg); !ok {
		t.Fatal("a closed stream was not reported")
	}
	b.send(eventsClosedMsg{})
	if !strings.Contains(b.statusText(), "event stream closed") {
		t.Errorf("status %q does not report the closed stream", b.statusText())
	}
}

func TestPendingFetchErrorGoesToStatusLine(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.api.mu.Lock()
	b.api.pendingErr = fmt.Errorf("query pending: %w", engine.ErrStopped)
	b.api.mu.Unlock()
	b.run(t, b.press(t, "2"))
	if got := b.statusText(); !strings.Contains(got, "list pending approvals: query pending: engine is not running") {
		t.Errorf("status %q does not name the failed fetch", got)
	}
	if !strings.Contains(b.view(), "Pending approvals") {
		t.Error("a failed fetch covered the screen")
	}
}

func TestTwoFromPopupOpensInboxOnTheArrival(t *testing.T) {
	t.Parallel()
	b := setup(t)
	arrivals := []intent.Intent{
		pendingIntent("int_NEW1", "deploy_production", "agent:release-bot", time.Minute),
		pendingIntent("int_NEW2", "deploy_production", "agent:release-bot", time.Minute),
	}
	b.api.setPending(append(fixturePending(), arrivals...))
	for _, it := range arrivals {
		b.arrive(t, it.ID)
	}
	b.run(t, b.press(t, "2"))
	if b.m.popup.visible() {
		t.Fatal("popup still visible in the inbox")
	}
	if got := b.m.screens[b.m.active].id(); got != screenApprovals {
		t.Fatalf("screen %s, want approvals", got)
	}
	if it, _ := b.m.approvals.selected(); it.ID != "int_NEW1" {
		t.Errorf("selected %q, want the announced int_NEW1", it.ID)
	}
	if !strings.Contains(b.statusText(), "2 arrivals are in the inbox") {
		t.Errorf("status %q", b.statusText())
	}
}

func TestTabToApprovalsAlsoTakesThePopupAlong(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.arrive(t, tier0ID)
	b.run(t, b.press(t, "<tab>"))
	if b.m.active != 1 || b.m.popup.visible() {
		t.Fatalf("after tab: screen %d, popup visible %v; want approvals without the popup", b.m.active, b.m.popup.visible())
	}
}
