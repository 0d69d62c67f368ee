package tui

import (
	"strconv"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
)

// togglePopups turns approval popups off or on (the popups key, on every
// screen, read-only consoles included: it only changes what is shown).
//
// Off, an open popup closes without deciding anything: its intents are
// pending in the engine and so in the Approvals inbox, and later arrivals
// are named on the status line and counted by the header's badge.
//
// On, only arrivals from then on pop up. The ones that came while popups
// were off are not replayed: they were announced when they came, they all
// wait in the inbox oldest first, and a burst of stale popups would bury
// the screen just as the operator asked to see them again. The status line
// says how many wait instead.
func (m *model) togglePopups() tea.Cmd {
	m.popupsOff = !m.popupsOff
	k := m.pc.keys
	n := m.inboxCount()
	if m.popupsOff {
		m.popup.clear()
		m.pc.info("popups off: Tier 0 arrivals wait in the inbox (" + strconv.Itoa(n) + ") · " +
			firstKey(k.Popups) + " turns them on")
		m.pc.log.Info("approval popups off", "pending", n)
		return nil
	}
	text := "popups on: new Tier 0 arrivals pop up"
	if n > 0 {
		text = "popups on: new arrivals pop up · " + strconv.Itoa(n) + " wait in the inbox"
	}
	m.pc.info(text + " · " + firstKey(k.Popups) + " turns them off")
	m.pc.log.Info("approval popups on", "pending", n)
	return nil
}

// inboxCount is how many intents wait for a human: the header's badge, or
// the inbox list when it has heard of more since the last snapshot.
func (m *model) inboxCount() int {
	return max(m.pc.snap.PendingApprovals, len(m.approvals.pending.items))
}

// popupsOffMarker is the header's reminder that popups are off: short, so
// that at 80 columns the tabs keep their names beside it.
const popupsOffMarker = "⚑ MUTED"

// popupsMarker is popupsOffMarker, styled.
func (m *model) popupsMarker() string {
	return m.pc.styles.Warn.Render(popupsOffMarker)
}

// popupsHint is a help-only entry for the popups key, saying what it would
// do now: turn popups on, or off.
func (m *model) popupsHint() key.Binding {
	k := m.pc.keys
	if m.popupsOff {
		return helpOnly(k.Popups, firstKey(k.Popups), "popups on")
	}
	return helpOnly(k.Popups, firstKey(k.Popups), "popups off")
}
