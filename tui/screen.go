package tui

import (
	"github.com/charmbracelet/bubbles/help"
	tea "github.com/charmbracelet/bubbletea"
)

// screen is one page of the console. The root model owns the header,
// status line, footer, command line, help and popup, and routes the rest
// to the active screen (keys) or to the screen a result belongs to (async
// results).
type screen interface {
	// help.KeyMap gives the screen's own bindings for the footer and the
	// full help; the root adds the global ones.
	help.KeyMap
	// id names the screen.
	id() screenID
	// title is the screen's tab label.
	title() string
	// focus is called when the screen becomes active; it may return a
	// command to fetch what the screen shows.
	focus() tea.Cmd
	// update takes a key (when active) or a message addressed to the
	// screen.
	update(msg tea.Msg) tea.Cmd
	// capturing reports whether the screen is prompting (or a filter is
	// being typed) and so takes every key, global ones included.
	capturing() bool
	// back answers esc: it closes a detail, leaves a sub-view or clears a
	// filter, reporting whether it did; if not, the root clears the
	// status line.
	back() (bool, tea.Cmd)
	// setSize gives the screen its body area in cells.
	setSize(w, h int)
	// view renders exactly h lines of w cells.
	view() []string
}
