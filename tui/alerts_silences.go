package tui

import (
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"

	"grace/engine/watchdog"
)

// silenceList is the Alerts screen's list of silences (h/l, or
// ":silences"): the active ones, or with all the newest of every state,
// as the engine last listed them. The alerts' marks find their silence's
// reason there.
type silenceList struct {
	items    []watchdog.Silence
	all      bool
	at       time.Time // when the list arrived (zero before)
	loaded   bool
	fetching bool
	failed   string // why the last fetch failed, "" when it did not
	query    string // the filter in force
	cursor   int
	offset   int
	selID    string // the silence under the cursor, kept across fetches
}

// showSilences puts the silences on show, the active ones or all, and
// fetches them.
func (a *alertsModel) showSilences(all bool) tea.Cmd {
	a.silView, a.filter.editing = true, false
	if a.sil.all != all {
		a.sil.all, a.sil.loaded, a.sil.items = all, false, nil
	}
	return a.fetchSilences()
}

// fetchSilences lists the silences again, unless the engine has none or
// a fetch is on its way.
func (a *alertsModel) fetchSilences() tea.Cmd {
	pc := a.pc
	if pc.silencesOff() != "" || a.sil.fetching {
		return nil
	}
	a.sil.fetching = true
	return silencesCmd(pc.ctx, pc.silencer, a.sil.all, pc.now)
}

// refreshSilences lists the silences again after one was made or ended,
// even while an older fetch is on its way (its answer may predate it).
func (a *alertsModel) refreshSilences() tea.Cmd {
	a.sil.fetching = false
	return a.fetchSilences()
}

// takeSilences keeps a list of silences; an answer for the other list
// (active or all) than the one now asked for is dropped.
func (a *alertsModel) takeSilences(msg silencesMsg) tea.Cmd {
	a.sil.fetching = false
	pc := a.pc
	switch {
	case msg.all != a.sil.all:
		return a.fetchSilences()
	case pc.noteUnsupported(msg.err):
		a.sil.items, a.sil.loaded, a.sil.failed = nil, true, ""
		return nil
	case msg.err != nil:
		a.sil.failed = msg.err.Error()
		pc.bgWarn(aboutSilences, failText(msg.err))
		pc.log.Warn("silences failed", "err", msg.err)
		return nil
	}
	pc.ok(aboutSilences)
	a.sil.items, a.sil.at, a.sil.loaded, a.sil.failed = msg.items, msg.at, true, ""
	return nil
}

// knownSilence returns the silence of id (case aside) among those listed.
func (a *alertsModel) knownSilence(id string) (watchdog.Silence, bool) {
	for _, s := range a.sil.items {
		if strings.EqualFold(s.ID, id) {
			return s, true
		}
	}
	return watchdog.Silence{}, false
}

// silenceRows are the silences shown, narrowed by the filter.
func (a *alertsModel) silenceRows() []watchdog.Silence {
	words := strings.Fields(strings.ToLower(a.sil.query))
	out := make([]watchdog.Silence, 0, len(a.sil.items))
	now := a.pc.now()
	for _, s := range a.sil.items {
		text := strings.ToLower(strings.Join([]string{s.ID, s.Match, s.By, s.Reason, silenceState(s, now), s.EndedBy, s.EndReason}, " "))
		if matchesAll(text, words) {
			out = append(out, s)
		}
	}
	return out
}

// silenceState is s's state by the console's clock: an active silence
// whose end has come is expired, whether or not the engine has noticed.
func silenceState(s watchdog.Silence, now time.Time) string {
	if s.State == watchdog.SilenceActive && !now.Before(s.EndsAt) {
		return watchdog.SilenceExpired
	}
	if s.State == "" {
		return watchdog.SilenceActive
	}
	return s.State
}

// syncSilenceCursor keeps the cursor on the selected silence while it is
// listed, else in range.
func (a *alertsModel) syncSilenceCursor(rows []watchdog.Silence) {
	l := &a.sil
	if l.selID != "" {
		if i := slices.IndexFunc(rows, func(s watchdog.Silence) bool { return s.ID == l.selID }); i >= 0 {
			l.cursor = i
			return
		}
	}
	l.cursor = min(max(l.cursor, 0), max(len(rows)-1, 0))
	if l.cursor < len(rows) {
		l.selID = rows[l.cursor].ID
	}
}

// updateSilences answers the keys of the list of silences.
func (a *alertsModel) updateSilences(km tea.KeyMsg) tea.Cmd {
	k := a.pc.keys
	l := &a.sil
	rows := a.silenceRows()
	a.syncSilenceCursor(rows)
	page := max(a.listRows()-1, 1)
	switch {
	case a.filter.editing:
		l.query = strings.TrimSpace(a.filter.handleKey(k, km))
		a.syncSilenceCursor(a.silenceRows())
		return nil
	case key.Matches(km, k.Filter):
		a.filter.start(l.query)
		return nil
	case key.Matches(km, k.PrevSection):
		a.silView = false
		return nil
	case key.Matches(km, k.Refresh):
		return a.refreshSilences()
	case pressed(km, k.Silence):
		s, ok := watchdog.Silence{}, l.cursor < len(rows)
		if ok {
			s = rows[l.cursor]
		}
		switch now := a.pc.now(); {
		case !ok:
			if a.flow.may(a.pc, "unsilence") {
				a.pc.info("no silence selected")
			}
		case silenceState(s, now) != watchdog.SilenceActive:
			a.pc.warn("silence " + s.ID + " of " + s.Match + " " + endedText(s, now) + ": nothing to end")
		default:
			return a.flow.startEnd(a.pc, s.ID, s.Match, "")
		}
		return nil
	case key.Matches(km, k.Down):
		l.cursor++
	case key.Matches(km, k.Up):
		l.cursor--
	case key.Matches(km, k.Top):
		l.cursor = 0
	case key.Matches(km, k.Bottom):
		l.cursor = len(rows) - 1
	case key.Matches(km, k.PageDown):
		l.cursor += page
	case key.Matches(km, k.PageUp):
		l.cursor -= page
	default:
		return nil
	}
	l.cursor = min(max(l.cursor, 0), max(len(rows)-1, 0))
	l.selID = ""
	if l.cursor < len(rows) {
		l.selID = rows[l.cursor].ID
	}
	return nil
}

// silenceCols are the widths of the silences table's columns.
type silenceCols struct{ state, match, by, ends, reason int }

// silenceColumns sizes the table for w cells, the match column to the
// longest match shown (an alert key whole, where there is room), the
// reason to the rest.
func silenceColumns(w, longest int) silenceCols {
	c := silenceCols{state: 8, by: 10, ends: 11}
	if w >= wideLayout {
		c.by, c.ends = 16, 21
	}
	c.match = min(max(longest, 8), min(w*2/5, 40))
	c.reason = max(w-2-c.state-1-c.match-1-c.by-1-c.ends-1, 0)
	return c
}

// longestMatch is the width of the longest match among rows.
func longestMatch(rows []watchdog.Silence) int {
	n := 0
	for _, s := range rows {
		n = max(n, ansi.StringWidth(s.Match))
	}
	return n
}

// untilShort is a time by the console's clock in at most 11 cells: the
// time of day, with the month and day (and no seconds) on another day.
func untilShort(t, now time.Time) string {
	t = t.In(now.Location())
	if y, m, d := t.Date(); y == now.Year() && m == now.Month() && d == now.Day() {
		return t.Format("15:04:05")
	}
	return t.Format("01-02 15:04")
}

// silencesView renders the list of silences, the selected one's detail
// and where the list comes from.
func (a *alertsModel) silencesView() []string {
	w, h := a.w, a.h
	st := a.pc.styles
	l := &a.sil
	rows := a.silenceRows()
	a.syncSilenceCursor(rows)
	now := a.pc.now()
	active := 0
	for _, s := range l.items {
		if silenceState(s, now) == watchdog.SilenceActive {
			active++
		}
	}
	title := "Silences"
	if l.loaded {
		// Not before the list came: none fetched is not none active.
		title += " · " + strconv.Itoa(active) + " active"
		if l.all {
			title += ", " + strconv.Itoa(len(l.items)-active) + " ended or expired"
		}
	}
	title += " · newest first"
	if l.query != "" {
		title += " · filter “" + l.query + "”: " + strconv.Itoa(len(rows)) + " of " + strconv.Itoa(len(l.items)) + " shown"
	}
	listRows := a.listRows()
	l.offset = window(l.cursor, l.offset, len(rows), listRows)
	longest := longestMatch(rows)
	lines := []string{a.silenceHeader(w-4, longest)}
	off := a.pc.silencesOff()
	switch {
	case off != "":
		lines = append(lines, st.Warn.Render("▲ ")+st.Text.Render(clip(capitalise(off)+".", w-6)))
	case len(rows) == 0 && l.failed != "":
		lines = append(lines, st.Crit.Render(clip("✗ The silences could not be fetched; "+firstKey(a.pc.keys.Refresh)+" tries again.", w-4)))
		lines = append(lines, wrapLines("", st.Muted, l.failed, 0, w-4)...)
	case !l.loaded:
		lines = append(lines, st.Muted.Render(clip("loading the silences…", w-4)))
	case len(rows) == 0 && l.query != "":
		lines = append(lines, st.Muted.Render(clip("nothing matches (esc clears the filter)", w-4)))
	case len(rows) == 0:
		how := "no active silence"
		if l.all {
			how = "no silence made yet"
		}
		if k := a.pc.keys.Silence; k.Enabled() {
			how += " (" + firstKey(k) + " on an alert silences it)"
		}
		lines = append(lines, st.OK.Render("✓ ")+st.Muted.Render(clip(how, w-6)))
	}
	for i := l.offset; i < len(rows) && i < l.offset+listRows; i++ {
		lines = append(lines, a.silenceLine(rows[i], i == l.cursor, w-4, longest))
	}
	prompt := 0
	if a.filter.editing {
		prompt = 1
	}
	out := st.panel(title, lines, w, max(h-a.detailH()-prompt-1, 3))
	if dh := a.detailH(); dh > 0 {
		var sel *watchdog.Silence
		if l.cursor < len(rows) {
			sel = &rows[l.cursor]
		}
		out = append(out, st.panel("Selected silence", a.silenceDetail(sel, w-4), w, dh)...)
	}
	if a.filter.editing {
		out = append(out, a.filter.view(st, w))
	}
	hint := " active silences"
	if l.all {
		hint = " all silences (the newest 100)"
	}
	if !l.at.IsZero() {
		hint += ", as of " + l.at.In(now.Location()).Format("15:04:05")
	}
	if l.all {
		hint += " · :silences for the active ones only"
	} else {
		hint += " · :silences all for the ended ones too"
	}
	if off != "" {
		hint = " silences: " + off
	}
	out = append(out, st.Muted.Render(fit(hint, w)))
	for len(out) < h {
		out = append(out, fit("", w))
	}
	return out[:h]
}

// capitalise upper-cases s's first letter.
func capitalise(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// silenceHeader is the silences table's header.
func (a *alertsModel) silenceHeader(w, longest int) string {
	c := silenceColumns(w, longest)
	hd := "  " + fit("STATE", c.state) + " " + fit("MATCH", c.match) + " " + fit("BY", c.by) + " " + fit("ENDS", c.ends)
	if c.reason > 0 {
		hd += " " + fit("REASON", c.reason)
	}
	return a.pc.styles.TableHeader.Render(fit(hd, w))
}

// silenceLine is one silence in the table: its state, match, who made
// it, when it ends (or ended) and why.
func (a *alertsModel) silenceLine(s watchdog.Silence, selected bool, w, longest int) string {
	st := a.pc.styles
	c := silenceColumns(w, longest)
	now := a.pc.now()
	mark, what := "  ", st.Value
	if selected {
		mark, what = st.Selected.Render("▸ "), st.Selected
	}
	state := silenceState(s, now)
	stateCell := cell(st.Warn, state, c.state)
	ends := untilShort(s.EndsAt, now)
	if state == watchdog.SilenceActive {
		if c.ends > 11 {
			ends += " (" + fmtDur(s.EndsAt.Sub(now)) + ")"
		}
	} else {
		stateCell = cell(st.Muted, state, c.state)
		at := s.EndedAt
		if at.IsZero() {
			at = s.EndsAt
		}
		ends = untilShort(at, now)
	}
	line := mark + stateCell + " " + cell(what, s.Match, c.match) + " " + cell(st.Text, s.By, c.by) + " " + cell(st.Muted, ends, c.ends)
	if c.reason > 0 {
		line += " " + cell(st.Text, s.Reason, c.reason)
	}
	return fit(line, w)
}

// silenceDetail describes the selected silence: what it matches and
// mutes now, who made it and until when, why, and how it ended.
func (a *alertsModel) silenceDetail(s *watchdog.Silence, w int) []string {
	st := a.pc.styles
	if s == nil {
		return []string{st.Muted.Render(clip("no silence selected", w))}
	}
	const lw = 11
	now := a.pc.now()
	state := silenceState(*s, now)
	var when string
	switch state {
	case watchdog.SilenceActive:
		when = "active, by " + s.By + " until " + clockAt(s.EndsAt, now) + " (ends in " + fmtDur(s.EndsAt.Sub(now)) + ")"
	default:
		when = endedText(*s, now) + " · made by " + s.By
	}
	lines := []string{
		st.kv("silence", s.ID+" · "+s.Match, lw, w),
		st.kv("state", when, lw, w),
		st.kv("reason", orDash(s.Reason), lw, w),
	}
	var muted []string
	for _, al := range a.pc.snap.Health.Alerts {
		if s.Matches(al.Key) {
			muted = append(muted, al.Key)
		}
	}
	mutes := "no alert it matches fires now"
	if len(muted) > 0 {
		mutes = plural(len(muted), "firing alert") + ": " + strings.Join(muted, ", ")
	}
	if state != watchdog.SilenceActive {
		mutes = "nothing now (" + mutes + ")"
	}
	lines = append(lines, st.kv("mutes", mutes, lw, w),
		st.kv("made", clockAt(s.CreatedAt, now)+" by "+s.By+", for "+fmtDur(s.EndsAt.Sub(s.CreatedAt)), lw, w))
	return lines
}

// silenceNote is how the selected alert's detail says who silenced it
// and until when, by the console's clock.
func (a *alertsModel) silenceNote(ref *watchdog.SilenceRef) string {
	now := a.pc.now()
	return "silenced by " + ref.By + " until " + clockAt(ref.EndsAt, now) + " (ends in " + fmtDur(ref.EndsAt.Sub(now)) + ")"
}

// silenceWhy is the selected alert's silence: why (when the list of
// silences has it) and its ID, in w cells. A long reason is cut, not the
// ID after it: the ID is what :unsilence takes.
func (a *alertsModel) silenceWhy(ref *watchdog.SilenceRef, w int) string {
	if s, ok := a.knownSilence(ref.ID); ok && s.Reason != "" {
		tail := " · " + ref.ID
		return clip(s.Reason, max(w-ansi.StringWidth(tail), 1)) + tail
	}
	return ref.ID + " · " + firstKey(a.pc.keys.NextSection) + " lists the silences"
}

// silenceMark is a silenced firing alert's mark in the alerts table's
// RESOLVED column, w cells: "silenced", with until when where it fits.
func silenceMark(ref *watchdog.SilenceRef, now time.Time, w int) string {
	if w < 17 {
		return "silenced"
	}
	t := ref.EndsAt.In(now.Location())
	if y, m, d := t.Date(); y == now.Year() && m == now.Month() && d == now.Day() {
		return "silenced " + t.Format("15:04:05")
	}
	return "silenced " + t.Format("01-02")
}

// silencesHelp is the Alerts screen's help about silences.
func (a *alertsModel) silencesHelp() []key.Binding {
	k := a.pc.keys
	return []key.Binding{
		helpOnly(k.Silence, firstKey(k.Silence), "silence it (for, why)"),
		helpOnly(k.NextSection, firstKey(k.PrevSection)+"/"+firstKey(k.NextSection), "alerts ⇄ silences"),
	}
}

// silencesShortHelp lists the keys of the list of silences.
func (a *alertsModel) silencesShortHelp() []key.Binding {
	k := a.pc.keys
	keys := []key.Binding{helpOnly(k.Down, firstKey(k.Down)+"/"+firstKey(k.Up), "move")}
	if a.pc.silencesOff() == "" {
		keys = append(keys, helpOnly(k.Silence, firstKey(k.Silence), "end it"))
	}
	return append(keys, helpOnly(k.PrevSection, firstKey(k.PrevSection), "alerts"), helpOnly(k.Filter, firstKey(k.Filter), "filter"))
}
