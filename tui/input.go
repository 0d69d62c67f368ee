package tui

import (
	"github.com/charmbracelet/bubbles/cursor"
	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"
)

// maxInputRunes bounds what the operator can type into a prompt.
const maxInputRunes = 500

// lineInput is a one-line text field (bubbles/textinput) styled for the
// console: typing, paste, cursor movement and the readline deletions. Its
// cursor does not blink, so an open prompt costs no redraws.
type lineInput struct {
	ti textinput.Model
}

// newLineInput returns a focused, empty field showing placeholder.
func newLineInput(placeholder string) lineInput {
	ti := textinput.New()
	ti.Prompt = ""
	ti.Placeholder = placeholder
	ti.CharLimit = maxInputRunes
	ti.Cursor.SetMode(cursor.CursorStatic)
	ti.Focus()
	return lineInput{ti: ti}
}

// Value returns the text typed so far.
func (in *lineInput) Value() string { return in.ti.Value() }

// SetValue replaces the text and puts the cursor at its end.
func (in *lineInput) SetValue(s string) {
	in.ti.SetValue(s)
	in.ti.CursorEnd()
}

// Reset empties the field.
func (in *lineInput) Reset() { in.ti.Reset() }

// Update applies one key press.
func (in *lineInput) Update(msg tea.KeyMsg) { in.ti, _ = in.ti.Update(msg) }

// View renders the field in w cells, scrolled so the cursor stays visible.
func (in *lineInput) View(st *styles, w int) string {
	if w <= 1 {
		return ""
	}
	in.ti.Width = w - 1
	in.ti.TextStyle = st.Text
	in.ti.PlaceholderStyle = st.Muted
	in.ti.Cursor.Style = st.Cursor
	in.ti.Cursor.TextStyle = st.Text
	return fit(in.ti.View(), w)
}

// filterBox is the "/" filter of a list: typing filters at once, enter
// keeps the filter and closes the box, esc clears it.
type filterBox struct {
	input   lineInput
	editing bool
}

// newFilterBox returns a closed filter box.
func newFilterBox() filterBox { return filterBox{input: newLineInput("type to filter")} }

// start opens the box on the filter in force.
func (f *filterBox) start(current string) {
	f.editing = true
	f.input.SetValue(current)
}

// handleKey applies a key while the box is open and returns the filter
// that should now be in force.
func (f *filterBox) handleKey(k *keyMap, msg tea.KeyMsg) string {
	switch {
	case msg.Type == tea.KeyEnter || pressed(msg, k.Submit):
		f.editing = false
	case pressed(msg, k.Cancel):
		f.editing = false
		f.input.Reset()
	default:
		f.input.Update(msg)
	}
	return f.input.Value()
}

// view renders the open box in w cells: "/ " then the field.
func (f *filterBox) view(st *styles, w int) string {
	if w < 4 {
		return fit("", w)
	}
	return st.Prompt.Render("/ ") + f.input.View(st, w-2)
}
