package tui

import (
	"context"
	"io"
	"slices"
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"

	"grace/engine"
)

// command types :line and enter, and runs what it starts.
func (b *testBundle) command(t *testing.T, line string) tea.Cmd {
	t.Helper()
	b.press(t, ":")
	if !b.m.cmd.open {
		t.Fatal(": did not open the command line")
	}
	b.typeText(t, line)
	return b.press(t, "<enter>")
}

func TestCommands(t *testing.T) {
	t.Parallel()
	b := setup(t)
	steps := []struct {
		line   string
		screen screenID
		check  func() bool
	}{
		{"approvals", screenApprovals, func() bool { return b.m.approvals.section == sectionPending }},
		{"review", screenApprovals, func() bool { return b.m.approvals.section == sectionReview && b.m.approvals.review.loaded }},
		{"narratives", screenNarratives, func() bool { return b.m.narratives.results.loaded }},
		{"dashboard", screenDashboard, func() bool { return true }},
		{"search charter actor:governance", screenNarratives, func() bool {
			q := b.m.narratives.query
			return q.Text == "charter" && q.Actor == "governance" && len(b.m.narratives.results.entries) > 0
		}},
		{"verify", screenNarratives, func() bool { return b.m.narratives.verify.done }},
	}
	for _, s := range steps {
		b.run(t, b.command(t, s.line))
		if got := b.m.screens[b.m.active].id(); got != s.screen || !s.check() {
			t.Fatalf(":%s left screen %s (want %s), check %v:\n%s", s.line, got, s.screen, s.check(), b.view())
		}
		if b.m.cmd.open {
			t.Fatalf(":%s left the command line open", s.line)
		}
	}
}

func TestCommandErrorsAndChaos(t *testing.T) {
	t.Parallel()
	b := setup(t)
	// An engine without a chaos service: the screen shows and explains,
	// and running or halting says it is not available.
	b.run(t, b.command(t, "chaos run L2_queue_flood"))
	if got := b.statusText(); got != engine.ErrChaosUnavailable.Error() {
		t.Errorf(":chaos run: status %q", got)
	}
	if id := b.m.screens[b.m.active].id(); id != screenChaos || !strings.Contains(b.view(), "This engine offers no chaos service") {
		t.Errorf(":chaos run left screen %s:\n%s", id, b.view())
	}
	b.run(t, b.press(t, "1"))
	b.run(t, b.command(t, "chaos halt"))
	if got := b.statusText(); got != engine.ErrChaosUnavailable.Error() || b.m.halt.asking {
		t.Errorf(":chaos halt: status %q, asking %v", got, b.m.halt.asking)
	}
	b.run(t, b.command(t, "frobnicate now"))
	if b.statusLevel() != levelError || b.statusText() != "unknown command :frobnicate (try :help)" {
		t.Errorf("unknown command: status (level %d) %q", b.statusLevel(), b.statusText())
	}
	b.run(t, b.command(t, "story"))
	if !strings.Contains(b.statusText(), ":story needs an intent ID") {
		t.Errorf(":story without an ID: status %q", b.statusText())
	}
	b.run(t, b.command(t, "help"))
	if !b.m.showHelp || !strings.Contains(b.view(), "Commands (:)") {
		t.Errorf(":help did not show the help:\n%s", b.view())
	}
}

func TestCommandQuits(t *testing.T) {
	t.Parallel()
	for _, line := range []string{"q", "quit"} {
		b := setup(t)
		cmd := b.command(t, line)
		if cmd == nil {
			t.Fatalf(":%s returned no command", line)
		}
		if _, ok := cmd().(tea.QuitMsg); !ok {
			t.Fatalf(":%s did not quit", line)
		}
	}
}

func TestCommandHistoryAndCompletion(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for _, line := range []string{"approvals", "search denied", "dashboard", "dashboard"} {
		b.run(t, b.command(t, line))
	}
	if got := b.m.cmd.history; !slices.Equal(got, []string{"approvals", "search denied", "dashboard"}) {
		t.Fatalf("history %q: want each command once in order, repeats folded", got)
	}
	b.press(t, ":")
	b.typeText(t, "nar")
	b.send(tea.KeyMsg{Type: tea.KeyUp})
	if got := b.m.cmd.input.Value(); got != "dashboard" {
		t.Fatalf("↑ shows %q, want the last command", got)
	}
	b.send(tea.KeyMsg{Type: tea.KeyUp})
	b.send(tea.KeyMsg{Type: tea.KeyUp})
	b.send(tea.KeyMsg{Type: tea.KeyUp}) // stays at the oldest
	if got := b.m.cmd.input.Value(); got != "approvals" {
		t.Fatalf("↑↑↑↑ shows %q, want the oldest command", got)
	}
	b.send(tea.KeyMsg{Type: tea.KeyDown})
	if got := b.m.cmd.input.Value(); got != "search denied" {
		t.Fatalf("↓ shows %q", got)
	}
	b.send(tea.KeyMsg{Type: tea.KeyDown})
	b.send(tea.KeyMsg{Type: tea.KeyDown})
	if got := b.m.cmd.input.Value(); got != "nar" {
		t.Fatalf("↓ past the newest shows %q, want the line being typed", got)
	}
	b.send(tea.KeyMsg{Type: tea.KeyTab})
	if got := b.m.cmd.input.Value(); got != "narratives " {
		t.Fatalf("tab completed %q", got)
	}
	// Up from an edited history entry and enter runs it.
	b.send(tea.KeyMsg{Type: tea.KeyUp})
	b.send(tea.KeyMsg{Type: tea.KeyUp})
	b.run(t, b.press(t, "<enter>"))
	if b.m.narratives.text != "denied" {
		t.Fatalf("running a recalled command searched %q", b.m.narratives.text)
	}
	// esc closes without running anything.
	b.press(t, ":", "1", "<esc>")
	if b.m.cmd.open || b.m.screens[b.m.active].id() != screenNarratives {
		t.Fatal("esc ran the command or left the line open")
	}
}

func TestColonIsTextInsideAPrompt(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.arrive(t, tier0ID)
	b.press(t, "d")
	b.typeText(t, "see: ticket 7")
	if b.m.cmd.open {
		t.Fatal(": opened the command line while typing a reason")
	}
	if got := b.m.popup.decider.input.Value(); got != "see: ticket 7" {
		t.Errorf("reason %q", got)
	}
}

func TestRemappedKeys(t *testing.T) {
	t.Parallel()
	b := setup(t, func(o *Options) {
		o.Keys = map[string][]string{"quit": {"x"}, "narratives": {"n"}, "approve": {"A"}}
	})
	// The default keys no longer do anything.
	if cmd := b.press(t, "q"); cmd != nil {
		if _, ok := cmd().(tea.QuitMsg); ok {
			t.Fatal("q still quits after quit was remapped to x")
		}
	}
	b.run(t, b.press(t, "4"))
	if b.m.screens[b.m.active].id() != screenDashboard {
		t.Fatal("4 still opens Narratives after it was remapped to n")
	}
	// The new ones do.
	b.run(t, b.press(t, "n"))
	if b.m.screens[b.m.active].id() != screenNarratives {
		t.Fatal("n does not open Narratives")
	}
	v := b.view()
	if !strings.Contains(v, "n Narratives") || !strings.Contains(v, "x quit") {
		t.Errorf("the header and hints do not name the new keys:\n%s", v)
	}
	b.run(t, b.press(t, "2"))
	b.press(t, "a")
	if b.m.approvals.decider.prompting() {
		t.Error("a still approves after approve was remapped to A")
	}
	b.press(t, "A")
	if !b.m.approvals.decider.prompting() {
		t.Error("A does not approve")
	}
	b.press(t, "n")
	cmd := b.press(t, "x")
	if cmd == nil {
		t.Fatal("x returned no command")
	}
	if _, ok := cmd().(tea.QuitMsg); !ok {
		t.Fatal("x does not quit")
	}
}

func TestBadKeyBindingsAreRefused(t *testing.T) {
	t.Parallel()
	cases := []struct {
		keys map[string][]string
		want string
	}{
		{map[string][]string{"quit": {"a"}}, `"a" is bound to both`},
		{map[string][]string{"verify": {"j"}}, `"j" is bound to both`},
		{map[string][]string{"launch": {"l"}}, "console.keys.launch is not a console action"},
		{map[string][]string{"help": {}}, "console.keys.help must list keys"},
	}
	for _, c := range cases {
		err := Run(context.Background(), newFakeAPI(), Options{Keys: c.keys, Input: strings.NewReader(""), Output: io.Discard})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("keys %v: error %v, want %q", c.keys, err, c.want)
		}
	}
	// Approve and acknowledge live in different sections: sharing a key
	// is fine, as in the defaults.
	if _, err := newKeyMap(false, map[string][]string{"acknowledge": {"a"}, "approve": {"a"}}); err != nil {
		t.Errorf("approve and acknowledge on one key refused: %v", err)
	}
}

func TestActionsMatchTheEngineDefaults(t *testing.T) {
	t.Parallel()
	defaults := engine.DefaultConsoleKeys()
	seen := map[string]bool{}
	for _, a := range actions {
		if _, ok := defaults[a.name]; !ok {
			t.Errorf("console action %s has no default in engine.DefaultConsoleKeys", a.name)
		}
		seen[a.name] = true
	}
	for name := range defaults {
		if !seen[name] {
			t.Errorf("engine.DefaultConsoleKeys has %s, which the console does not answer", name)
		}
	}
	if _, err := newKeyMap(false, defaults); err != nil {
		t.Errorf("the defaults are refused: %v", err)
	}
	for _, g := range keyGroups {
		for _, name := range g {
			if _, ok := defaults[name]; !ok {
				t.Errorf("key group names unknown action %s", name)
			}
		}
	}
}

// TestCancelCommand: ":cancel ID reason" cancels at once under the
// console's operator, and the operator stays where they typed it;
// ":cancel ID" asks for the reason on the status line first (esc leaves
// the intent alone); a finished or unknown
// intent's refusal and a missing ID are said on the status line; a
// read-only console refuses without calling the engine.
func TestCancelCommand(t *testing.T) {
	t.Parallel()
	b := setup(t)
	const running, pending = "int_01JPB8A4RUNNING000000000DD", "int_01JPB7R2C3D4E5F6G7H8J9K0LM"

	b.run(t, b.command(t, "cancel "+running+" wrong model version"))
	if got := b.api.cancelCalls(); len(got) != 1 || got[0] != (decisionCall{ID: running, Operator: "ops", Reason: "wrong model version"}) {
		t.Fatalf("cancel calls: %+v", got)
	}
	if id := b.m.screens[b.m.active].id(); id != screenDashboard || b.statusText() != "cancelled "+running+" (deploy_model)" {
		t.Fatalf(":cancel with a reason: screen %s, status %q", id, b.statusText())
	}

	b.run(t, b.command(t, "cancel "+pending))
	if !strings.Contains(b.view(), "Cancel int_01J…H8J9K0LM · reason:") {
		t.Fatalf(":cancel without a reason does not ask for one:\n%s", b.view())
	}
	b.run(t, b.press(t, "<esc>"))
	if n := len(b.api.cancelCalls()); n != 1 || b.statusText() != "cancel cancelled: "+pending+" is unchanged" {
		t.Fatalf("esc at the reason: %d calls, status %q", n, b.statusText())
	}
	b.run(t, b.command(t, "cancel "+pending))
	b.typeText(t, "raised twice")
	b.run(t, b.press(t, "<enter>"))
	if got := b.api.cancelCalls(); len(got) != 2 || got[1].ID != pending || got[1].Reason != "raised twice" {
		t.Fatalf("cancel calls: %+v", got)
	}
	if b.m.approvals.knows(pending) || len(b.m.approvals.pending.items) != 2 {
		t.Fatalf("the cancelled pending intent is still listed: %+v", b.m.approvals.pending.items)
	}

	b.run(t, b.command(t, "cancel int_01JPB8A1REVIEW0000000000AA too late"))
	if st := b.statusText(); b.statusLevel() != levelError ||
		st != "cancel int_01JPB8A1REVIEW0000000000AA failed: intent can no longer be cancelled (it is completed)" {
		t.Fatalf("cancel a finished intent: status (level %d) %q", b.statusLevel(), st)
	}
	b.run(t, b.command(t, "cancel"))
	if !strings.Contains(b.statusText(), ":cancel needs an intent ID") {
		t.Fatalf(":cancel without an ID: status %q", b.statusText())
	}

	ro := setup(t, func(o *Options) { o.ReadOnly = true })
	ro.run(t, ro.command(t, "cancel "+running+" nope"))
	if len(ro.api.cancelCalls()) != 0 || ro.statusText() != "read-only console: cancel is disabled" {
		t.Fatalf("read-only :cancel: calls %+v, status %q", ro.api.cancelCalls(), ro.statusText())
	}
}

// TestRetryCommand: ":retry ID reason" submits a failed intent again and
// says which new intent it became; without a reason it asks for one; asked
// twice it names the first retry; an intent that has not failed is refused
// in a line that says why; a read-only console refuses.
func TestRetryCommand(t *testing.T) {
	t.Parallel()
	b := setup(t)
	const failed, completed = "int_01JPB8A2REVIEW0000000000BB", "int_01JPB8A1REVIEW0000000000AA"
	b.run(t, b.command(t, "retry "+failed+" config fixed"))
	if got := b.api.retryCalls(); len(got) != 1 || got[0] != (decisionCall{ID: failed, Operator: "ops", Reason: "config fixed"}) {
		t.Fatalf("retry calls: %+v", got)
	}
	if st := b.statusText(); st != "retried "+failed+" as int_01JPB9RETRY00000000000001 (queued)" {
		t.Fatalf(":retry with a reason: status %q", st)
	}
	b.run(t, b.command(t, "retry "+failed))
	if !strings.Contains(b.view(), "Retry int_01J…000000BB · reason:") {
		t.Fatalf(":retry without a reason does not ask for one:\n%s", b.view())
	}
	b.typeText(t, "again")
	b.run(t, b.press(t, "<enter>"))
	if st := b.statusText(); st != failed+" was already retried as int_01JPB9RETRY00000000000001 (queued)" {
		t.Fatalf(":retry asked twice: status %q", st)
	}
	b.run(t, b.command(t, "retry "+completed+" why not"))
	if st := b.statusText(); b.statusLevel() != levelError ||
		st != "retry "+completed+" failed: intent cannot be retried (it is completed; only a failed intent can be retried)" {
		t.Fatalf("retry a completed intent: status (level %d) %q", b.statusLevel(), st)
	}
	ro := setup(t, func(o *Options) { o.ReadOnly = true })
	ro.run(t, ro.command(t, "retry "+failed+" nope"))
	if len(ro.api.retryCalls()) != 0 || ro.statusText() != "read-only console: retry is disabled" {
		t.Fatalf("read-only :retry: calls %+v, status %q", ro.api.retryCalls(), ro.statusText())
	}
}

// TestPauseCommand: ":pause REASON" pauses the engine's scheduler under
// the console's operator and ":resume" resumes it, each said on the status
// line; a pause without a reason, a second pause or resume, and a
// read-only console are refused, the first and last without asking the
// engine.
func TestPauseCommand(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.run(t, b.command(t, "pause"))
	if len(b.api.scheduleCalls()) != 0 || b.statusText() != ":pause needs a reason, as in :pause downstream outage (type:T or actor:A first pauses one)" {
		t.Fatalf(":pause without a reason: calls %+v, status %q", b.api.scheduleCalls(), b.statusText())
	}
	b.run(t, b.command(t, "pause downstream outage"))
	if got := b.api.scheduleCalls(); len(got) != 1 || got[0] != (decisionCall{ID: "pause", Operator: "ops", Reason: "downstream outage"}) {
		t.Fatalf("pause calls: %+v", got)
	}
	if st := b.statusText(); st != "scheduler paused: nothing is dispatched until :resume (downstream outage)" {
		t.Fatalf(":pause: status %q", st)
	}
	b.run(t, b.command(t, "pause again"))
	if st := b.statusText(); b.statusLevel() != levelWarn || !strings.Contains(st, "already paused (by ops: downstream outage)") {
		t.Fatalf(":pause of a paused scheduler: status (level %d) %q", b.statusLevel(), st)
	}
	b.run(t, b.command(t, "resume"))
	if st := b.statusText(); st != "scheduler resumed: dispatching again" || b.api.Snapshot().Layer2.Paused {
		t.Fatalf(":resume: status %q", st)
	}
	b.run(t, b.command(t, "resume"))
	if st := b.statusText(); !strings.Contains(st, "not paused") {
		t.Fatalf(":resume of a running scheduler: status %q", st)
	}
	ro := setup(t, func(o *Options) { o.ReadOnly = true })
	ro.run(t, ro.command(t, "pause nope"))
	if len(ro.api.scheduleCalls()) != 0 || ro.statusText() != "read-only console: pause is disabled" {
		t.Fatalf("read-only :pause: calls %+v, status %q", ro.api.scheduleCalls(), ro.statusText())
	}
}

// TestPauseTypeCommand: ":pause type:T REASON" pauses one intent type
// and ":resume type:T" resumes it; the Queue panel says which type waits
// and why; an empty type or a missing reason is refused without asking
// the engine.
func TestPauseTypeCommand(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for line, want := range map[string]string{
		"pause type:":                  ":pause type: needs a type, as in :pause type:deploy_model",
		"pause type:deploy_model":      ":pause needs a reason, as in :pause type:deploy_model model rollout",
		"pause type:deploy_model    ":  ":pause needs a reason, as in :pause type:deploy_model model rollout",
		"resume type: the whole thing": ":resume type: needs a type, as in :resume type:deploy_model",
	} {
		b.run(t, b.command(t, line))
		if len(b.api.scheduleCalls()) != 0 || b.statusText() != want {
			t.Fatalf(":%s: calls %+v, status %q, want %q", line, b.api.scheduleCalls(), b.statusText(), want)
		}
	}
	b.run(t, b.command(t, "pause type:deploy_model canary failing"))
	if got := b.api.scheduleCalls(); len(got) != 1 || got[0] != (decisionCall{ID: "pause type:deploy_model", Operator: "ops", Reason: "canary failing"}) {
		t.Fatalf("pause calls: %+v", got)
	}
	if st := b.statusText(); st != "deploy_model paused: its intents wait until :resume type:deploy_model (canary failing)" {
		t.Fatalf(":pause type: status %q", st)
	}
	b.send(snapshotMsg{snap: b.api.Snapshot()})
	b.send(tea.WindowSizeMsg{Width: 160, Height: 48})
	if v := b.view(); !strings.Contains(v, "▲ deploy_model (0) paused by ops 0s ago: canary failing") || strings.Contains(v, "▲ PAUSED") {
		t.Fatalf("the Queue panel does not say which type is paused (or the header says all is):\n%s", v)
	}
	b.run(t, b.command(t, "pause type:deploy_model again"))
	if st := b.statusText(); b.statusLevel() != levelWarn || !strings.Contains(st, "already paused") {
		t.Fatalf(":pause of a paused type: status (level %d) %q", b.statusLevel(), st)
	}
	b.run(t, b.command(t, "resume type:deploy_model"))
	if st := b.statusText(); st != "deploy_model resumed: dispatching it again" || len(b.api.Snapshot().Layer2.PausedTypes) != 0 {
		t.Fatalf(":resume type: status %q", st)
	}
	b.run(t, b.command(t, "resume type:deploy_model"))
	if st := b.statusText(); !strings.Contains(st, "not paused") {
		t.Fatalf(":resume of a type not paused: status %q", st)
	}
}

// TestTypedInABurst: keys that reach the console together, as one read
// of the terminal (typed fast, pasted, or sent by tmux), act as if typed
// one by one: ":retry ID reason" opens the command line and fills it; a
// bracketed paste does not.
func TestTypedInABurst(t *testing.T) {
	t.Parallel()
	b := setup(t)
	const failed = "int_01JPB8A2REVIEW0000000000BB"
	// As the terminal reader groups them: runes up to a space, a space.
	for _, part := range []string{":retry", " ", failed, " ", "config", " ", "fixed"} {
		k := tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(part)}
		if part == " " {
			k.Type = tea.KeySpace
		}
		b.run(t, b.send(k))
	}
	b.run(t, b.press(t, "<enter>"))
	if got := b.api.retryCalls(); len(got) != 1 || got[0].ID != failed || got[0].Reason != "config fixed" {
		t.Fatalf("a burst did not run as typed: retry calls %+v, status %q", got, b.statusText())
	}
	// A bracketed paste is text, not keys: "query" pasted on a screen
	// does not quit on its q.
	b.run(t, b.press(t, "1"))
	if cmd := b.send(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("query"), Paste: true}); cmd != nil {
		for _, msg := range collect(cmd) {
			if _, quit := msg.(tea.QuitMsg); quit {
				t.Fatal("a pasted word quit the console")
			}
		}
	}
}

// TestCancelIntentKey: on Narratives the cancel_intent key (ctrl+k) (and
// retry_intent, ctrl+t, for ":retry ID ") opens
// the command line on ":cancel ID " for the selected record's intent, so
// the operator types why and presses enter; a read-only console has no
// such key.
func TestCancelIntentKey(t *testing.T) {
	t.Parallel()
	b := setup(t)
	openNarratives(t, b)
	e, ok := b.m.narratives.list().selected()
	if !ok || e.IntentID == "" {
		t.Fatalf("no record with an intent selected: %+v", e)
	}
	b.run(t, b.press(t, "<ctrl+k>"))
	if !b.m.cmd.open || b.m.cmd.input.Value() != "cancel "+e.IntentID+" " {
		t.Fatalf("ctrl+k: command line open %v with %q", b.m.cmd.open, b.m.cmd.input.Value())
	}
	b.typeText(t, "wrong release")
	b.run(t, b.press(t, "<enter>"))
	if got := b.api.cancelCalls(); len(got) != 1 || got[0].ID != e.IntentID || got[0].Reason != "wrong release" {
		t.Fatalf("cancel calls: %+v", got)
	}
	// The operator stays on the record, the result on the status line.
	if id := b.m.screens[b.m.active].id(); id != screenNarratives || !strings.Contains(b.statusText(), e.IntentID) {
		t.Fatalf("after ctrl+k and enter: screen %s, status %q", id, b.statusText())
	}
	// retry_intent (ctrl+t) opens ":retry ID " the same way.
	b.run(t, b.press(t, "<ctrl+t>"))
	if !b.m.cmd.open || b.m.cmd.input.Value() != "retry "+e.IntentID+" " {
		t.Fatalf("ctrl+t: command line open %v with %q", b.m.cmd.open, b.m.cmd.input.Value())
	}
	b.typeText(t, "fixed")
	b.run(t, b.press(t, "<enter>"))
	if got := b.api.retryCalls(); len(got) != 1 || got[0].ID != e.IntentID || got[0].Reason != "fixed" {
		t.Fatalf("retry calls: %+v", got)
	}

	ro := setup(t, func(o *Options) { o.ReadOnly = true })
	openNarratives(t, ro)
	ro.run(t, ro.press(t, "<ctrl+k>"))
	ro.run(t, ro.press(t, "<ctrl+t>"))
	if ro.m.cmd.open || len(ro.api.cancelCalls()) != 0 || len(ro.api.retryCalls()) != 0 {
		t.Fatalf("a read-only console answered ctrl+k or ctrl+t: command line open %v", ro.m.cmd.open)
	}
}

// TestCompletionGoesAsFarAsTheNamesAgree: tab completes a command name
// as far as the names that fit agree, so that one that starts another
// (silence, silences) is reached: "sil" becomes "silence"; an ambiguous
// start that the names do not extend stays as typed.
func TestCompletionGoesAsFarAsTheNamesAgree(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for in, want := range map[string]string{"sil": "silence", "unsi": "unsilence ", "re": "re", "s": "s", "mess": "messages "} {
		b.press(t, ":")
		b.typeText(t, in)
		b.send(tea.KeyMsg{Type: tea.KeyTab})
		if got := b.m.cmd.input.Value(); got != want {
			t.Errorf("tab after %q: %q, want %q", in, got, want)
		}
		b.press(t, "<esc>")
	}
}
