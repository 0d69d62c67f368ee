package tui

import (
	"strconv"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"
)

// messagesView is what ":messages" opens in place of the screen, as the
// full help does: the status line's history (status.go), newest first,
// each message whole (wrapped) with the time it was said and how many
// times in a row. The list keys scroll it, esc closes it, and any other
// key closes it and acts, as on the help.
type messagesView struct {
	open   bool
	scroll int
	// rows is how many lines the last frame showed (the page keys move
	// by it) and maxScroll how far it could scroll; newest is the seq of
	// the newest message it showed, so that a message said while the
	// operator reads further down pushes the lines read down, not away.
	rows, maxScroll int
	newest          uint64
}

// messagesCommand is the command that opens the view, as the status line
// names it when it cuts a message.
func (m *model) messagesCommand() string { return firstKey(m.pc.keys.Command) + "messages" }

// openMessages shows the history from its newest message.
func (m *model) openMessages() {
	m.showHelp = false
	m.msgs = messagesView{open: true}
	if h := m.pc.status.history; len(h) > 0 {
		m.msgs.newest = h[len(h)-1].seq
	}
}

// messagesKey answers a key while the view is open. It reports whether
// the key was the view's; any other key has closed it and goes on.
func (m *model) messagesKey(msg tea.KeyMsg) bool {
	k, v := m.pc.keys, &m.msgs
	page := max(v.rows-1, 1)
	switch {
	case key.Matches(msg, k.Down):
		v.scroll++
	case key.Matches(msg, k.Up):
		v.scroll--
	case key.Matches(msg, k.PageDown):
		v.scroll += page
	case key.Matches(msg, k.PageUp):
		v.scroll -= page
	case key.Matches(msg, k.Top):
		v.scroll = 0
	case key.Matches(msg, k.Bottom):
		v.scroll = v.maxScroll
	case key.Matches(msg, k.Back):
		v.open = false
	default:
		v.open = false
		return false
	}
	v.scroll = min(max(v.scroll, 0), v.maxScroll)
	return true
}

// messagesHelpKeys are the keys the footer names while the view is open.
func (m *model) messagesHelpKeys() []key.Binding {
	k := m.pc.keys
	return []key.Binding{
		helpOnly(k.Down, firstKey(k.Down)+"/"+firstKey(k.Up), "scroll"),
		helpOnly(k.Top, firstKey(k.Top)+"/"+firstKey(k.Bottom), "newest, oldest"),
		helpOnly(k.Back, firstKey(k.Back), "close"),
	}
}

// messagesPanel renders the view as a panel of w×h cells.
func (m *model) messagesPanel(w, h int) []string {
	st := m.pc.styles
	inner, rows := w-4, h-2
	if inner <= 0 || rows <= 0 {
		return blank(w, h)
	}
	v := &m.msgs
	now := m.pc.now()
	hist := m.pc.status.history
	var lines []string
	fresh := 0 // lines of the messages said since the last frame
	for i := len(hist) - 1; i >= 0; i-- {
		ml := messageLines(st, hist[i], now, inner)
		if hist[i].seq > v.newest {
			fresh += len(ml)
		}
		lines = append(lines, ml...)
	}
	if len(hist) > 0 {
		if v.scroll > 0 {
			v.scroll += fresh
		}
		v.newest = hist[len(hist)-1].seq
	}
	if len(lines) == 0 {
		lines = []string{st.Muted.Render(clip("No messages yet: what the status line says is kept here, whole.", inner))}
	}
	v.rows, v.maxScroll = rows, max(len(lines)-rows, 0)
	v.scroll = min(v.scroll, v.maxScroll)
	end := min(v.scroll+rows, len(lines))
	title := "Messages · newest first · " + firstKey(m.pc.keys.Back) + " closes"
	if len(lines) > rows {
		title += " · lines " + strconv.Itoa(v.scroll+1) + "–" + strconv.Itoa(end) + " of " + strconv.Itoa(len(lines))
	}
	return st.panel(title, lines[v.scroll:end], w, h)
}

// messageLines is one message of the history in lines of w cells: its
// time, its level's mark and its text wrapped under itself, with "(×N)"
// when it was said N times in a row (the time is the last one's).
func messageLines(st *styles, e said, now time.Time, w int) []string {
	mark, style := levelMark(st, e.level)
	stamp := clockAt(e.at, now)
	ind := ansi.StringWidth(stamp) + 3 // "15:04:05 ✗ "
	text := e.text
	if e.times > 1 {
		text += " (×" + strconv.Itoa(e.times) + ")"
	}
	var out []string
	for _, para := range strings.Split(text, "\n") {
		para = printable(strings.ReplaceAll(strings.TrimRight(para, "\r"), "\t", " "))
		for _, part := range strings.Split(ansi.Wrap(para, max(w-ind, 1), " "), "\n") {
			if len(out) == 0 {
				out = append(out, st.Muted.Render(stamp)+" "+style.Render(mark)+" "+style.Render(part))
				continue
			}
			out = append(out, strings.Repeat(" ", ind)+style.Render(part))
		}
	}
	return out
}

// levelMark is a level's mark and style, as the status line has them.
func levelMark(st *styles, l level) (string, lipgloss.Style) {
	switch l {
	case levelWarn:
		return "▲", st.Warn
	case levelNotice:
		return "⚑", st.Badge
	case levelError:
		return "✗", st.Crit
	}
	return "✓", st.Text
}

// commandHint is the key hints' entry for the command key. While the
// status line cuts its message it names :messages, which shows the
// message whole.
func (m *model) commandHint() key.Binding {
	k := m.pc.keys
	w := m.pc.width
	if w <= 0 {
		w = defaultWidth
	}
	if m.pc.status.cut(m.pc.now(), w) {
		return helpOnly(k.Command, m.messagesCommand(), "full text")
	}
	return helpOnly(k.Command, firstKey(k.Command), "command")
}
