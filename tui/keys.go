package tui

import (
	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
)

// keyMap holds every key binding of the console, with its help text. The
// screens pick the bindings they answer to; the help footer is built from
// the same values, so what is shown is what works.
type keyMap struct {
	// Global.
	Dashboard key.Binding
	Approvals key.Binding
	Next      key.Binding
	Prev      key.Binding
	Help      key.Binding
	Quit      key.Binding
	ForceQuit key.Binding

	// Lists and detail views.
	Up      key.Binding
	Down    key.Binding
	Top     key.Binding
	Bottom  key.Binding
	Open    key.Binding
	Back    key.Binding
	Refresh key.Binding

	// Decisions. Disabled (and so absent from help) in read-only mode.
	Approve key.Binding
	Deny    key.Binding
	Later   key.Binding

	// Prompts (shown in help while a prompt is open).
	ConfirmYes key.Binding
	Submit     key.Binding
	Cancel     key.Binding
}

// newKeyMap returns the default bindings. With readOnly the approve and deny
// bindings are disabled: they match nothing and help leaves them out.
func newKeyMap(readOnly bool) *keyMap {
	k := &keyMap{
		Dashboard: key.NewBinding(key.WithKeys("1"), key.WithHelp("1", "dashboard")),
		Approvals: key.NewBinding(key.WithKeys("2"), key.WithHelp("2", "approvals")),
		Next:      key.NewBinding(key.WithKeys("tab"), key.WithHelp("tab", "next screen")),
		Prev:      key.NewBinding(key.WithKeys("shift+tab"), key.WithHelp("shift+tab", "previous screen")),
		Help:      key.NewBinding(key.WithKeys("?"), key.WithHelp("?", "help")),
		Quit:      key.NewBinding(key.WithKeys("q"), key.WithHelp("q", "quit")),
		ForceQuit: key.NewBinding(key.WithKeys("ctrl+c"), key.WithHelp("ctrl+c", "quit")),

		Up:      key.NewBinding(key.WithKeys("k", "up"), key.WithHelp("↑/k", "up")),
		Down:    key.NewBinding(key.WithKeys("j", "down"), key.WithHelp("↓/j", "down")),
		Top:     key.NewBinding(key.WithKeys("g", "home"), key.WithHelp("g", "top")),
		Bottom:  key.NewBinding(key.WithKeys("G", "end"), key.WithHelp("G", "bottom")),
		Open:    key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "detail")),
		Back:    key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "back")),
		Refresh: key.NewBinding(key.WithKeys("r", "ctrl+r"), key.WithHelp("r", "refresh")),

		Approve: key.NewBinding(key.WithKeys("a"), key.WithHelp("a", "approve")),
		Deny:    key.NewBinding(key.WithKeys("d"), key.WithHelp("d", "deny")),
		Later:   key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "later")),

		ConfirmYes: key.NewBinding(key.WithKeys("y", "Y"), key.WithHelp("y", "confirm")),
		Submit:     key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "submit")),
		Cancel:     key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "cancel")),
	}
	if readOnly {
		k.Approve.SetEnabled(false)
		k.Deny.SetEnabled(false)
	}
	return k
}

// pressed reports whether msg is one of b's keys, enabled or not. The
// console uses it to explain a disabled action ("read-only") instead of
// silently ignoring the key.
func pressed(msg tea.KeyMsg, b key.Binding) bool {
	s := msg.String()
	for _, k := range b.Keys() {
		if s == k {
			return true
		}
	}
	return false
}

// helpKeys adapts a list of bindings to help.KeyMap.
type helpKeys struct {
	short []key.Binding
	full  [][]key.Binding
}

// ShortHelp returns the one-line hints.
func (h helpKeys) ShortHelp() []key.Binding { return h.short }

// FullHelp returns the columns of the full help.
func (h helpKeys) FullHelp() [][]key.Binding { return h.full }
