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
