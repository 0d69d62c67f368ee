package tui

import (
	"github.com/charmbracelet/bubbles/key"
)

// helpGroup is one titled block of the full help.
type helpGroup struct {
	title string
	rows  [][2]string // key, what it does
}

// bindingGroup turns enabled bindings with help text into a help group.
func bindingGroup(title string, bs []key.Binding) helpGroup {
	g := helpGroup{title: title}
	for _, b := range bs {
		if !b.Enabled() || b.Help().Key == "" {
			continue
		}
		g.rows = append(g.rows, [2]string{b.Help().Key, b.Help().Desc})
	}
	return g
}

// helpGroups is everything the full help shows: the current screen's
// keys, the list keys, the console's, the commands and, on Narratives, the
// search syntax. Labels come from the bindings, so remapped keys show.
func (m *model) helpGroups() []helpGroup {
	k := m.pc.keys
	cur := m.screens[m.active]
	var groups []helpGroup
	if m.popup.visible() {
		groups = append(groups, bindingGroup("Approval popup", append(m.popup.helpKeys(), m.popupsHint())))
	}
	for _, bs := range cur.FullHelp() {
		if g := bindingGroup(cur.title(), bs); len(g.rows) > 0 {
			groups = append(groups, g)
		}
	}
	pair := func(a, b key.Binding) string { return firstKey(a) + "/" + firstKey(b) }
	if cur.id() != screenDashboard {
		lists := helpGroup{title: "Lists", rows: [][2]string{
			{pair(k.Down, k.Up), "down, up"}, {pair(k.Top, k.Bottom), "top, bottom"},
			{pair(k.PageDown, k.PageUp), "page down, up"},
		}}
		// Alerts has no detail to open: the selected alert's is always
		// shown below the list.
		if cur.id() != screenAlerts {
			lists.rows = append(lists.rows, [2]string{firstKey(k.Open), "open the detail"})
		}
		lists.rows = append(lists.rows, [2]string{firstKey(k.Back), "back, clear filter"})
		groups = append(groups, lists)
	}
	screens := m.screensBinding().Help().Key
	console := helpGroup{title: "Console", rows: [][2]string{
		{screens, "screens"}, {pair(k.Next, k.Prev), "next, previous"},
		{firstKey(k.Help), "this help"}, {firstKey(k.Command), "command line"},
		{firstKey(k.Filter), "filter the list"}, {pair(k.Quit, k.ForceQuit), "quit"},
		{firstKey(k.Popups), "approval popups on/off"},
	}}
	if k.HaltChaos.Enabled() {
		console.rows = append(console.rows, [2]string{firstKey(k.HaltChaos), "halt all chaos (y/N)"})
	}
	commands := helpGroup{title: "Commands (" + firstKey(k.Command) + ")", rows: [][2]string{
		{":search Q", "search narratives"}, {":story ID", "an intent's story"},
		{":review", "Tier 1 review"}, {":verify", "verify audit chain"},
		{":messages", "past status messages"},
	}}
	if k.Deny.Enabled() {
		commands.rows = append(commands.rows, [2]string{":cancel :retry", "ID (asks why)"})
	}
	if k.RunChaos.Enabled() {
		commands.rows = append(commands.rows, [2]string{":chaos run ID", "run (--all: all)"}) // :chaos halt is the Console's halt key
	}
	// The screens' own commands are their number keys too; where there is
	// room for one row only, pausing the scheduler has it.
	if k.Deny.Enabled() {
		commands.rows = append(commands.rows, [2]string{":pause WHY", ":resume · type: actor:"})
	} else {
		commands.rows = append(commands.rows, [2]string{":approvals…", ":chaos :alerts :q"})
	}
	commands.rows = append(commands.rows, [2]string{"↑/↓ tab", "history, complete"})
	groups = append(groups, console, commands)
	if cur.id() == screenAlerts {
		// The silences' commands, where there is room for them (the
		// Commands group fills its column at 80×24).
		sil := helpGroup{title: "Silences (" + firstKey(k.Command) + ")"}
		if k.Silence.Enabled() {
			sil.rows = append(sil.rows, [2]string{":silence M D", "why: mute M for D"},
				[2]string{"  M", "key, comp/*, */cond, *"})
		}
		sil.rows = append(sil.rows, [2]string{":silences all", "list them (+ ended)"})
		if k.Silence.Enabled() {
			sil.rows = append(sil.rows, [2]string{":unsilence ID", "end one (asks why)"})
		}
		groups = append(groups, sil)
	}
	if cur.id() == screenNarratives {
		groups = append(groups, helpGroup{title: "Search syntax", rows: [][2]string{
			{"words word*", "all words; prefix"}, {`"a b" -word`, "side by side; not"},
			{"actor: action:", "who, what; intent:ID"}, {"since: until:", "1h 2d 15:04 date"},
		}})
	}
	return groups
}

// helpColumnWidth is the width of one column of the full help.
const helpColumnWidth = 36

// helpView renders the full help as a panel of w×h cells: the groups flow
// down columns, left to right; what does not fit is cut with a note.
func (m *model) helpView(w, h int) []string {
	st := m.pc.styles
	inner, rows := w-4, h-2
	if inner <= 0 || rows <= 0 {
		return blank(w, h)
	}
	ncols := max(inner/helpColumnWidth, 1)
	colW := inner / ncols
	keyW := min(14, colW/2)
	// First fit: each group goes in the first column with room for it,
	// after a blank line; where no column has room for that, in the
	// first with room for the group alone, under the one before.
	cols := make([][]string, ncols)
	cut := false
	for _, g := range m.helpGroups() {
		block := []string{}
		if g.title != "" {
			block = append(block, st.TableHeader.Render(fit(g.title, colW)))
		}
		for _, r := range g.rows {
			block = append(block, st.HelpKey.Render(fit(r[0], keyW))+" "+st.HelpDesc.Render(fit(r[1], colW-keyW-1)))
		}
		placed := false
		for _, gap := range []bool{true, false} {
			for i := range cols {
				sep := gap && len(cols[i]) > 0
				need := len(block)
				if sep {
					need++
				}
				if len(cols[i])+need <= rows {
					if sep {
						cols[i] = append(cols[i], fit("", colW))
					}
					cols[i] = append(cols[i], block...)
					placed = true
					break
				}
			}
			if placed {
				break
			}
		}
		cut = cut || !placed
	}
	lines := make([]string, rows)
	for r := range lines {
		var l string
		for _, c := range cols {
			if r < len(c) {
				l += fit(c[r], colW)
			} else {
				l += fit("", colW)
			}
		}
		lines[r] = l
	}
	title := "Help · " + firstKey(m.pc.keys.Help) + " or " + firstKey(m.pc.keys.Back) + " closes"
	if cut {
		title += " · a larger terminal shows more"
	}
	return st.panel(title, lines, w, h)
}
