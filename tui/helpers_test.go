package tui

import (
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"
	"github.com/muesli/termenv"

	"grace/engine"
)

func TestMain(m *testing.M) {
	// Goldens and assertions see plain text: no colour, no attributes.
	lipgloss.SetColorProfile(termenv.Ascii)
	lipgloss.SetHasDarkBackground(true)
	os.Exit(m.Run())
}

// testClock is a settable clock for the console.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// testBundle is what each key-path test starts from: a console at 80×24
// over a fake engine that has sent one snapshot.
type testBundle struct {
	api   *fakeAPI
	m     *model
	clock *testClock
}

// setup builds the bundle; opts adjusts the console's options.
func setup(t *testing.T, opts ...func(*Options)) *testBundle {
	t.Helper()
	return setupWith(t, nil, opts...)
}

// setupWith is setup with the console's API made by wrap from the fake
// engine (nil: the fake engine itself), to add the chaos service or the
// watchdog's API.
func setupWith(t *testing.T, wrap func(*fakeAPI) engine.OperatorAPI, opts ...func(*Options)) *testBundle {
	t.Helper()
	api := newFakeAPI()
	api.setSnapshot(fixtureSnapshot())
	api.setPending(fixturePending())
	api.tier1 = fixtureTier1()
	api.narratives = fixtureNarratives(600)
	api.audit = fixtureAudit()
	clock := &testClock{t: fixedNow}
	o := Options{Operator: "ops", Refresh: time.Hour, Now: clock.now}
	for _, f := range opts {
		f(&o)
	}
	var face engine.OperatorAPI = api
	if wrap != nil {
		face = wrap(api)
	}
	m := New(face, o).(*model)
	t.Cleanup(m.cancel)
	b := &testBundle{api: api, m: m, clock: clock}
	b.send(tea.WindowSizeMsg{Width: 80, Height: 24})
	b.run(t, b.send(snapshotMsg{snap: api.Snapshot()}))
	return b
}

// send delivers msg to the model and returns its command, unrun.
func (b *testBundle) send(msg tea.Msg) tea.Cmd {
	_, cmd := b.m.Update(msg)
	return cmd
}

// run executes cmd and feeds what it produces back into the model, until
// nothing is left. Commands that block (the event wait, the tick) are given
// a short while and then abandoned; the model's context ends them.
func (b *testBundle) run(t *testing.T, cmd tea.Cmd) {
	t.Helper()
	for _, msg := range collect(cmd) {
		b.run(t, b.send(msg))
	}
}

// collect runs cmd (and any batch it returns) and gathers the messages that
// arrive within a second: fetches from the fake answer at once, ticks and
// subscriptions wait longer and are left out. The second is generous so
// that a loaded machine does not drop a fetch.
func collect(cmd tea.Cmd) []tea.Msg {
	if cmd == nil {
		return nil
	}
	ch := make(chan tea.Msg, 1)
	go func() { ch <- cmd() }()
	var msg tea.Msg
	select {
	case msg = <-ch:
	case <-time.After(time.Second):
		return nil
	}
	switch msg := msg.(type) {
	case nil:
		return nil
	case tea.BatchMsg:
		var out []tea.Msg
		for _, c := range msg {
			out = append(out, collect(c)...)
		}
		return out
	}
	return []tea.Msg{msg}
}

// press types keys: single characters, or names in angle brackets
// ("<enter>", "<esc>", "<tab>", "<ctrl+c>").
func (b *testBundle) press(t *testing.T, keys ...string) tea.Cmd {
	t.Helper()
	var last tea.Cmd
	for _, k := range keys {
		last = b.send(keyMsg(k))
	}
	return last
}

// keyMsg turns a key name into the KeyMsg Bubble Tea would deliver.
func keyMsg(k string) tea.KeyMsg {
	switch k {
	case "<enter>":
		return tea.KeyMsg{Type: tea.KeyEnter}
	case "<esc>":
		return tea.KeyMsg{Type: tea.KeyEsc}
	case "<tab>":
		return tea.KeyMsg{Type: tea.KeyTab}
	case "<shift+tab>":
		return tea.KeyMsg{Type: tea.KeyShiftTab}
	case "<ctrl+c>":
		return tea.KeyMsg{Type: tea.KeyCtrlC}
	case "<ctrl+t>":
		return tea.KeyMsg{Type: tea.KeyCtrlT}
	case "<ctrl+k>":
		return tea.KeyMsg{Type: tea.KeyCtrlK}
	case "<backspace>":
		return tea.KeyMsg{Type: tea.KeyBackspace}
	case " ":
		return tea.KeyMsg{Type: tea.KeySpace, Runes: []rune{' '}}
	}
	return tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(k)}
}

// typeText types s one rune at a time.
func (b *testBundle) typeText(t *testing.T, s string) {
	t.Helper()
	for _, r := range s {
		b.send(keyMsg(string(r)))
	}
}

// arrive delivers an event saying an intent entered pending_approval.
func (b *testBundle) arrive(t *testing.T, id string) {
	t.Helper()
	it := pendingIntent(id, "deploy_production", "agent:release-bot", time.Minute)
	b.run(t, b.send(eventsMsg{events: []engine.Event{{Kind: "intent", Intent: it}}}))
}

// view returns the rendered screen.
func (b *testBundle) view() string { return b.m.View() }

// statusText is the status line as the operator sees it.
func (b *testBundle) statusText() string {
	_, text := b.m.pc.status.current(b.m.pc.now())
	return text
}

// statusLevel is the severity of what the status line shows.
func (b *testBundle) statusLevel() level {
	l, _ := b.m.pc.status.current(b.m.pc.now())
	return l
}

// checkBounds fails unless every line of view fits w cells and there are at
// most h lines.
func checkBounds(t *testing.T, view string, w, h int) {
	t.Helper()
	lines := strings.Split(view, "\n")
	if len(lines) > h {
		t.Errorf("view has %d lines, want at most %d", len(lines), h)
	}
	for i, l := range lines {
		if got := lipgloss.Width(l); got > w {
			t.Errorf("line %d is %d cells wide, want at most %d: %q", i, got, w, ansi.Strip(l))
		}
	}
}
