package tui

import (
	"unicode"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"
)

// maxInputRunes bounds what the operator can type into a prompt.
const maxInputRunes = 500

// lineInput is a one-line text field: typing, paste, cursor movement and
// the usual readline deletions (backspace, delete, ctrl+u, ctrl+k, ctrl+w).
//
// It stands in for bubbles/textinput, whose clipboard dependency
// (github.com/atotto/clipboard) is not in go.mod; its surface (Value, Reset,
// Update, View) matches that component's so it can be swapped in later.
type lineInput struct {
	value       []rune
	pos         int
	placeholder string
}

// Value returns the text typed so far.
func (in *lineInput) Value() string { return string(in.value) }

// Reset empties the field.
func (in *lineInput) Reset() { in.value, in.pos = nil, 0 }

// Update applies one key press.
func (in *lineInput) Update(msg tea.KeyMsg) {
	switch msg.Type {
	case tea.KeyRunes, tea.KeySpace:
		runes := msg.Runes
		if msg.Type == tea.KeySpace {
			runes = []rune{' '}
		}
		in.insert(runes)
	case tea.KeyBackspace:
		if in.pos > 0 {
			in.value = append(in.value[:in.pos-1], in.value[in.pos:]...)
			in.pos--
		}
	case tea.KeyDelete:
		if in.pos < len(in.value) {
			in.value = append(in.value[:in.pos], in.value[in.pos+1:]...)
		}
	case tea.KeyLeft, tea.KeyCtrlB:
		in.pos = max(in.pos-1, 0)
	case tea.KeyRight, tea.KeyCtrlF:
		in.pos = min(in.pos+1, len(in.value))
	case tea.KeyHome, tea.KeyCtrlA:
		in.pos = 0
	case tea.KeyEnd, tea.KeyCtrlE:
		in.pos = len(in.value)
	case tea.KeyCtrlU:
		in.value = append([]rune(nil), in.value[in.pos:]...)
		in.pos = 0
	case tea.KeyCtrlK:
		in.value = in.value[:in.pos]
	case tea.KeyCtrlW:
		start := in.pos
		for start > 0 && unicode.IsSpace(in.value[start-1]) {
			start--
		}
		for start > 0 && !unicode.IsSpace(in.value[start-1]) {
			start--
		}
		in.value = append(in.value[:start], in.value[in.pos:]...)
		in.pos = start
	}
}

// insert puts printable runes at the cursor; control characters (a pasted
// newline, say) become spaces.
func (in *lineInput) insert(runes []rune) {
	clean := make([]rune, 0, len(runes))
	for _, r := range runes {
		if len(in.value)+len(clean) >= maxInputRunes {
			break
		}
		if unicode.IsControl(r) {
			r = ' '
		}
		clean = append(clean, r)
	}
	tail := append(clean, in.value[in.pos:]...)
	in.value = append(in.value[:in.pos], tail...)
	in.pos += len(clean)
}

// View renders the field in w cells, scrolled so the cursor stays visible.
func (in *lineInput) View(st *styles, w int) string {
	if w <= 1 {
		return ""
	}
	if len(in.value) == 0 {
		return fit(st.Cursor.Render(" ")+st.Muted.Render(clip(in.placeholder, w-1)), w)
	}
	// Scroll so the cursor stays in view: the window ends at the cursor
	// when the text before it is wider than the field.
	start := 0
	for start < in.pos && ansi.StringWidth(string(in.value[start:in.pos])) > w-1 {
		start++
	}
	at := " "
	if in.pos < len(in.value) {
		at = string(in.value[in.pos])
	}
	after := ""
	if in.pos < len(in.value) {
		after = string(in.value[in.pos+1:])
	}
	line := st.Text.Render(string(in.value[start:in.pos])) + st.Cursor.Render(at) + st.Text.Render(after)
	return fit(line, w)
}
