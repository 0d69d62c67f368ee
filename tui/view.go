package tui

import (
	"strconv"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/x/ansi"
)

// Default size until the terminal reports its own.
const (
	defaultWidth  = 80
	defaultHeight = 24
)

// View draws the whole console: header, the active screen (with the popup
// over it), the status line and the key hints. It always returns exactly
// the terminal's height in lines, none wider than the terminal.
func (m *model) View() string {
	w, h := m.pc.width, m.pc.height
	if w <= 0 || h <= 0 {
		w, h = defaultWidth, defaultHeight
	}
	footer := m.footerLines(w, h)
	bodyH := max(h-2-len(footer), 0)

	cur := m.screens[m.active]
	cur.setSize(w, bodyH)
	body := cur.view()
	if m.popup.visible() && bodyH > 0 {
		box, x, y := m.popup.view(w, bodyH)
		body = overlay(body, box, x, y)
	}

	lines := make([]string, 0, h)
	lines = append(lines, m.headerView(w))
	lines = append(lines, body...)
	for len(lines) < 1+bodyH {
		lines = append(lines, fit("", w))
	}
	lines = append(lines, m.pc.status.view(m.pc.styles, m.pc.now(), w))
	lines = append(lines, footer...)
	if len(lines) > h {
		lines = lines[:h]
	}
	for i, l := range lines {
		if ansi.StringWidth(l) > w {
			lines[i] = ansi.Truncate(l, w, "")
		}
	}
	return strings.Join(lines, "\n")
}

// headerView is the top line: name, screen tabs with the pending-approvals
// badge, and on the right the operator, read-only mode and freshness.
func (m *model) headerView(w int) string {
	st := m.pc.styles
	var left strings.Builder
	left.WriteString(st.Brand.Render(" GRACE "))
	left.WriteString(" ")
	for i, s := range m.screens {
		label := strconv.Itoa(i+1) + " " + s.title()
		badge := ""
		if s.id() == screenApprovals {
			badge = " " + m.badge()
		}
		if i == m.active {
			left.WriteString(st.TabActive.Render("["+label) + badge + st.TabActive.Render("]"))
		} else {
			left.WriteString(st.Tab.Render(" "+label) + badge + " ")
		}
		left.WriteString(" ")
	}
	l := left.String()
	room := w - ansi.StringWidth(l)

	// Right side, most important first: freshness, read-only, operator.
	parts := []string{m.freshness()}
	if m.pc.readOnly {
		parts = append(parts, st.Warn.Render("READ-ONLY"))
	}
	if m.pc.operator != "" {
		parts = append(parts, st.Muted.Render(m.pc.operator))
	}
	right := ""
	for _, p := range parts {
		next := p
		if right != "" {
			next = p + st.Muted.Render(" · ") + right
		}
		if ansi.StringWidth(next)+1 > room {
			break
		}
		right = next
	}
	if right != "" {
		right += " "
	}
	return fit(l+strings.Repeat(" ", max(room-ansi.StringWidth(right), 0))+right, w)
}

// badge is the pending-approvals count, shown on every screen.
func (m *model) badge() string {
	st := m.pc.styles
	n := m.pc.snap.PendingApprovals
	if n > 0 {
		return st.Badge.Render("⚑ " + strconv.Itoa(n))
	}
	return st.BadgeZero.Render("⚑ 0")
}

// freshness says whether the figures are live: "● live", "▲ updated 12s
// ago" once two refreshes have been missed, or that the engine is not ready.
func (m *model) freshness() string {
	st := m.pc.styles
	if m.pc.snapAt.IsZero() {
		return st.Muted.Render("○ connecting…")
	}
	age := m.pc.now().Sub(m.pc.snapAt)
	if age >= 2*m.pc.refresh && age >= minStale {
		return st.Warn.Render("▲ updated " + fmtDur(age) + " ago")
	}
	if !m.pc.snap.Ready {
		return st.Warn.Render("▲ engine not ready")
	}
	return st.OK.Render("● live")
}

// footerLines is the key hints: one line of short help, or the full help
// when toggled with ?, capped at half the screen.
func (m *model) footerLines(w, h int) []string {
	m.help.Width = w
	k := m.keys()
	if !m.showHelp {
		return []string{fit(m.help.ShortHelpView(k.ShortHelp()), w)}
	}
	full := strings.Split(m.help.FullHelpView(k.FullHelp()), "\n")
	if limit := max(h/2, 1); len(full) > limit {
		full = full[:limit]
	}
	for i := range full {
		full[i] = fit(full[i], w)
	}
	return full
}

// keys gathers the bindings that work right now: an open prompt's, the
// popup's or the screen's, then the global ones.
func (m *model) keys() helpKeys {
	k := m.pc.keys
	cur := m.screens[m.active]
	global := []key.Binding{screensBinding(k), k.Help, k.Quit}
	var short []key.Binding
	switch {
	case m.popup.prompting():
		short = m.popup.helpKeys()
	case cur.capturing():
		short = cur.ShortHelp()
	case m.popup.visible():
		short = append(m.popup.helpKeys(), global...)
	default:
		short = append(cur.ShortHelp(), global...)
	}
	full := append([][]key.Binding{}, cur.FullHelp()...)
	if m.popup.visible() {
		full = append([][]key.Binding{m.popup.helpKeys()}, full...)
	}
	full = append(full, []key.Binding{k.Dashboard, k.Approvals, k.Next, k.Prev}, []key.Binding{k.Help, k.Back, k.Quit, k.ForceQuit})
	return helpKeys{short: short, full: full}
}

// screensBinding is a help-only entry for the screen keys.
func screensBinding(k *keyMap) key.Binding {
	return key.NewBinding(key.WithKeys(k.Dashboard.Keys()...), key.WithHelp("1-2", "screens"))
}
