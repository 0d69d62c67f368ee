package tui

import (
	"net"
	"strconv"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/x/ansi"

	"grace/engine/watchdog"
)

// Default size until the terminal reports its own.
const (
	defaultWidth  = 80
	defaultHeight = 24
)

// frameCache is the last frame View drew; stale says something it shows
// may have changed since.
type frameCache struct {
	text  string
	stale bool
}

// View draws the whole console: header, the active screen (with the popup
// over it), the status line and the key hints. It always returns exactly
// the terminal's height in lines, none wider than the terminal. While
// nothing shown has changed (Update marks the frame stale) it returns the
// last frame without drawing it again.
func (m *model) View() string {
	if m.frame.stale || m.frame.text == "" {
		m.frame.text, m.frame.stale = m.draw(), false
	}
	return m.frame.text
}

// draw renders the frame.
func (m *model) draw() string {
	w, h := m.pc.width, m.pc.height
	if w <= 0 || h <= 0 {
		w, h = defaultWidth, defaultHeight
	}
	footer := m.footerLines(w)
	bodyH := max(h-3, 0)

	cur := m.screens[m.active]
	cur.setSize(w, bodyH)
	var body []string
	switch {
	case m.showHelp:
		body = m.helpView(w, bodyH)
	case m.msgs.open:
		body = m.messagesPanel(w, bodyH)
	default:
		body = cur.view()
		if m.popup.visible() && bodyH > 0 {
			box, x, y := m.popup.view(w, bodyH)
			body = overlay(body, box, x, y)
		}
	}

	lines := make([]string, 0, h)
	lines = append(lines, m.headerView(w))
	lines = append(lines, body...)
	for len(lines) < 1+bodyH {
		lines = append(lines, fit("", w))
	}
	switch {
	case m.cmd.open:
		lines = append(lines, m.cmd.view(m.pc.styles, w))
	case m.halt.asking:
		lines = append(lines, m.haltView(w))
	case m.intentCmd.prompting(), m.silence.prompting():
		prompt := m.intentCmd.view(m.pc, w)
		if m.silence.prompting() {
			prompt = m.silence.view(m.pc, w)
		}
		lines = append(lines, fit(prompt, w))
		// The prompt holds the status line: a refusal of an empty reason
		// says so in place of the key hints (it names enter and esc).
		if m.pc.status.shown(m.pc.now()).about == aboutReason {
			footer = m.pc.status.view(m.pc.styles, m.pc.now(), w)
		}
	default:
		lines = append(lines, m.pc.status.view(m.pc.styles, m.pc.now(), w))
	}
	lines = append(lines, footer)
	if len(lines) > h {
		lines = lines[:h]
	}
	for i, l := range lines {
		l = safeLine(l)
		if ansi.StringWidth(l) > w {
			l = ansi.Truncate(l, w, "")
		}
		lines[i] = l
	}
	return strings.Join(lines, "\n")
}

// headerView is the top line: name, screen tabs with the pending-approvals
// badge, and on the right the operator, read-only mode, the remote engine
// an attached console drives and freshness. The
// tabs give way first: short titles, then tighter spacing, then the keys
// alone, until the right side has room for what it must say.
//
// Freshness has shorter ways to say that the server cannot be reached:
// the tabs give way first, then its words.
func (m *model) headerView(w int) string {
	texts := m.unreachableTexts()
	if texts == nil {
		texts = []string{m.freshness()}
	} else {
		for i, t := range texts {
			texts[i] = m.pc.styles.Warn.Render(t)
		}
	}
	servers := m.serverTexts()
	// What must show: every part but the operator's name. The server an
	// attached console drives gives way after the tabs and the longer
	// ways of saying freshness.
	for _, server := range servers {
		for _, fresh := range texts {
			parts := m.headerParts(fresh, server)
			must := parts
			if m.pc.operator != "" {
				must = parts[:len(parts)-1]
			}
			for level := tabsFull; level <= tabsKeys; level++ {
				if l := m.tabsView(level); m.headerFits(l, must, w) {
					return m.headerRight(l, w-ansi.StringWidth(l), w, parts)
				}
			}
		}
	}
	l := m.tabsView(tabsKeys)
	if m.pc.server != "" {
		// Not all of it fits: freshness and the server (in short, to
		// leave room) first, what else fits after them (headerRight).
		for _, server := range servers[1:] {
			for _, fresh := range texts {
				if parts := m.headerParts(fresh, server); m.headerFits(l, parts[:2], w) {
					return m.headerRight(l, w-ansi.StringWidth(l), w, parts)
				}
			}
		}
	}
	parts := m.headerParts(texts[len(texts)-1], servers[len(servers)-1])
	return m.headerRight(l, w-ansi.StringWidth(l), w, parts)
}

// headerFits reports whether the right-side parts must fit in a header
// line of w cells beside the tabs l.
func (m *model) headerFits(l string, must []string, w int) bool {
	need := max(minHeaderRight, ansi.StringWidth(strings.Join(must, " · "))+1)
	return w-ansi.StringWidth(l) >= need
}

// serverTexts are the header's ways of saying which remote engine an
// attached console drives, longest first: "attached 10.0.4.17:7420", then
// "⇄ 10.0.4.17:7420", then with a long host name cut, its port kept
// ("⇄ grace-prod-eu…:7420"; an IP address is never cut, as a cut one
// would name another). One empty text for an embedded engine, which the
// header does not name.
func (m *model) serverTexts() []string {
	s := m.pc.server
	if s == "" {
		return []string{""}
	}
	out := []string{"attached " + s, "⇄ " + s}
	host, port := s, ""
	if h, p, err := net.SplitHostPort(s); err == nil {
		host, port = h, ":"+p
	}
	if net.ParseIP(host) != nil || strings.HasPrefix(host, "[") {
		return out
	}
	for _, n := range []int{20, 12, 8} {
		if ansi.StringWidth(host) > n {
			out = append(out, "⇄ "+clip(host, n)+port)
		}
	}
	return out
}

// minHeaderRight is the least room the header keeps for freshness and the
// operator; below it the inactive tabs give way.
const minHeaderRight = 14

// The ways the tabs can be drawn, widest first.
const (
	tabsFull  = iota // every title whole
	tabsShort        // inactive titles cut to four letters
	tabsTight        // and one space between tabs
	tabsKeys         // inactive tabs as their keys alone
)

// tabsView is the brand and the screen tabs with the pending-approvals
// badge, drawn at level (tabsFull … tabsKeys).
func (m *model) tabsView(level int) string {
	st := m.pc.styles
	var left strings.Builder
	left.WriteString(st.Brand.Render(" GRACE "))
	left.WriteString(" ")
	for i, s := range m.screens {
		title := s.title()
		if i != m.active {
			switch {
			case level >= tabsKeys:
				title = ""
			case level >= tabsShort:
				title = shortTitle(title)
			}
		}
		label := firstKey(m.screenBinding(s.id()))
		if title != "" {
			label += " " + title
		}
		badge := ""
		switch s.id() {
		case screenApprovals:
			badge = " " + m.badge()
		case screenAlerts:
			if b := m.alertsBadge(); b != "" {
				badge = " " + b
			}
		}
		if i == m.active {
			left.WriteString(st.TabActive.Render("["+label) + badge + st.TabActive.Render("]"))
		} else {
			left.WriteString(st.Tab.Render(" "+label) + badge + " ")
		}
		if level < tabsTight || i == m.active {
			left.WriteString(" ")
		}
	}
	return left.String()
}

// headerRight is the rest of the header line, after the tabs.
func (m *model) headerRight(l string, room, w int, parts []string) string {
	st := m.pc.styles

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

// headerParts are the header's right side, most important first:
// freshness (fresh), the remote engine attached to (server, "" for an
// embedded one), pause, no HTTP API served, popups off, read-only,
// operator.
func (m *model) headerParts(fresh, server string) []string {
	st := m.pc.styles
	parts := []string{fresh}
	if server != "" {
		parts = append(parts, st.Value.Render(server))
	}
	if m.pc.snap.Layer2.Paused {
		parts = append(parts, st.Warn.Render("▲ PAUSED"))
	}
	if m.pc.noAPI {
		parts = append(parts, st.Warn.Render("▲ NO API"))
	}
	if m.popupsOff {
		parts = append(parts, m.popupsMarker())
	}
	if m.pc.readOnly {
		parts = append(parts, st.Warn.Render("READ-ONLY"))
	}
	if m.pc.operator != "" {
		parts = append(parts, st.Muted.Render(m.pc.operator))
	}
	return parts
}

// shortTitle is a tab title cut to four letters when longer than six.
func shortTitle(t string) string {
	if r := []rune(t); len(r) > 6 {
		return string(r[:4])
	}
	return t
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

// alertsBadge is how many alerts fire, marked by the worst severity
// ("✗ 2", "▲ 1"); "" when none does.
func (m *model) alertsBadge() string {
	alerts := m.pc.snap.Health.Alerts
	if len(alerts) == 0 {
		return ""
	}
	style, mark := m.pc.styles.Warn, "▲ "
	for _, a := range alerts {
		if a.Severity == watchdog.Critical {
			style, mark = m.pc.styles.Crit, "✗ "
		}
	}
	return style.Render(mark + strconv.Itoa(len(alerts)))
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

// footerLines is the key hints: the keys that work right now, as many as
// fit, with help and quit always on the right (? shows them all).
func (m *model) footerLines(w int) string {
	st := m.pc.styles
	left, right := m.shortKeys()
	render := func(bs []key.Binding) []string {
		out := make([]string, 0, len(bs))
		for _, b := range bs {
			if b.Enabled() && b.Help().Key != "" {
				out = append(out, st.HelpKey.Render(b.Help().Key)+" "+st.HelpDesc.Render(b.Help().Desc))
			}
		}
		return out
	}
	sep := st.HelpSep.Render(" • ")
	r := strings.Join(render(right), sep)
	room := w - ansi.StringWidth(r) - 1
	var l strings.Builder
	for i, item := range render(left) {
		next := item
		if i > 0 {
			next = sep + item
		}
		if ansi.StringWidth(l.String())+ansi.StringWidth(next) > room {
			break
		}
		l.WriteString(next)
	}
	if room < 0 {
		return fit(l.String(), w)
	}
	return fit(l.String(), room+1) + r
}

// shortKeys gathers the hints for the keys that work right now: the
// command line's, an open prompt's, the popup's or the screen's, then the
// global ones; right are the hints kept on the right whatever the width.
func (m *model) shortKeys() (left, right []key.Binding) {
	k := m.pc.keys
	cur := m.screens[m.active]
	right = []key.Binding{k.Help, k.Quit}
	global := []key.Binding{m.screensBinding(), m.commandHint()}
	if m.popupsOff {
		global = append([]key.Binding{m.popupsHint()}, global...)
	}
	switch {
	case m.cmd.open:
		return m.cmd.helpKeys(k), nil
	case m.halt.asking:
		return haltHelpKeys(k), nil
	case m.intentCmd.prompting():
		return m.intentCmd.helpKeys(k), nil
	case m.silence.prompting():
		return m.silence.helpKeys(k), nil
	case m.popup.prompting():
		return m.popup.helpKeys(), nil
	case cur.capturing():
		return cur.ShortHelp(), nil
	case m.showHelp:
		return []key.Binding{helpOnly(k.Back, firstKey(k.Back), "close help")}, []key.Binding{k.Quit}
	case m.msgs.open:
		return m.messagesHelpKeys(), []key.Binding{k.Quit}
	case m.popup.visible():
		// The popups key comes last: it shows where the width allows, and
		// the popup's own hint line names it too.
		return append(append(m.popup.helpKeys(), global...), m.popupsHint()), right
	}
	return append(cur.ShortHelp(), global...), right
}

// screenBinding is the key binding that shows screen id.
func (m *model) screenBinding(id screenID) key.Binding {
	k := m.pc.keys
	switch id {
	case screenApprovals:
		return k.Approvals
	case screenNarratives:
		return k.Narratives
	case screenAlerts:
		return k.Alerts
	case screenChaos:
		return k.Chaos
	}
	return k.Dashboard
}

// screensBinding is a help-only entry for the screen keys.
func (m *model) screensBinding() key.Binding {
	labels := make([]string, len(m.screens))
	for i, s := range m.screens {
		labels[i] = firstKey(m.screenBinding(s.id()))
	}
	return helpOnly(m.pc.keys.Dashboard, strings.Join(labels, "/"), "screens")
}
