package tui

import (
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"

	"grace/engine"
	"grace/engine/watchdog"
)

// maxResolved bounds the resolved alerts the console keeps.
const maxResolved = 200

// alertsModel is screen 5: the alerts firing (from the snapshot's health
// report) and the resolved ones. When the engine offers the watchdog's
// API (engine.HealthAPI) the resolved alerts come from its alert history,
// fetched on focus and every alertHistoryEvery while the screen shows,
// merged with what the console sees; otherwise they are only those the
// console saw go: an "alert" event with the resolution, or an alert that
// left the firing list between two snapshots. j/k and g/G move, /
// filters, esc clears the filter. A firing alert that a silence mutes is
// marked "silenced"; the silence key asks how long and why, and silences
// the selected alert's key. h/l switch to the list of silences
// (alerts_silences.go), where the silence key ends the selected one.
type alertsModel struct {
	pc *programContext
	// flow is the root's prompt for silences (silences.go).
	flow *silenceFlow
	// silView: the silences are on show in place of the alerts.
	silView bool
	sil     silenceList
	// historyAt is when the alert history last arrived (zero before);
	// fetching says a fetch is on its way.
	historyAt time.Time
	fetching  bool
	// resolved are the alerts seen resolving, newest first.
	resolved []watchdog.Alert
	filter   filterBox
	query    string
	cursor   int
	offset   int
	// selID is the alert under the cursor, kept across refreshes.
	selID string
	w, h  int
}

// newAlerts returns the alerts screen.
func newAlerts(pc *programContext) *alertsModel {
	return &alertsModel{pc: pc, filter: newFilterBox()}
}

func (a *alertsModel) id() screenID  { return screenAlerts }
func (a *alertsModel) title() string { return "Alerts" }

// alertHistoryEvery is the least time between two fetches of the alert
// history while the screen shows: the history reads the store, and the
// events and snapshots keep the list live in between.
const alertHistoryEvery = 30 * time.Second

// focus fetches the alert history, when the engine has one, and the
// silences (the alerts' marks name their reasons).
func (a *alertsModel) focus() tea.Cmd { return tea.Batch(a.fetchHistory(), a.fetchSilences()) }

// tick fetches the alert history and the silences again once they are
// alertHistoryEvery old.
func (a *alertsModel) tick() tea.Cmd {
	var cmds []tea.Cmd
	if !a.historyAt.IsZero() && a.pc.now().Sub(a.historyAt) >= alertHistoryEvery {
		cmds = append(cmds, a.fetchHistory())
	}
	if !a.sil.at.IsZero() && a.pc.now().Sub(a.sil.at) >= alertHistoryEvery {
		cmds = append(cmds, a.fetchSilences())
	}
	return tea.Batch(cmds...)
}

// fetchHistory starts a fetch of the alert history unless the engine has
// none or one is on its way.
func (a *alertsModel) fetchHistory() tea.Cmd {
	if a.pc.health == nil || a.fetching {
		return nil
	}
	a.fetching = true
	return alertHistoryCmd(a.pc.ctx, a.pc.health, a.pc.now)
}

// takeHistory merges the alert history's resolved alerts into the list;
// the firing ones come from the snapshot.
func (a *alertsModel) takeHistory(msg alertHistoryMsg) tea.Cmd {
	a.fetching = false
	if errors.Is(msg.err, errors.ErrUnsupported) {
		// An attached server without an alert history: the screen says so
		// rather than warn at every fetch.
		a.pc.log.Info("no alert history", "err", msg.err)
		a.pc.health = nil
		return nil
	}
	if msg.err != nil {
		a.pc.bgWarn(aboutAlerts, failText(msg.err))
		a.pc.log.Warn("alert history failed", "err", msg.err)
		return nil
	}
	a.pc.ok(aboutAlerts)
	a.historyAt = msg.at
	for _, al := range msg.alerts {
		if !al.Firing() {
			a.keepResolved(al)
		}
	}
	return nil
}
func (a *alertsModel) capturing() bool  { return a.filter.editing }
func (a *alertsModel) setSize(w, h int) { a.w, a.h = w, h }

// noteAlert takes an alert event: a resolution is kept (replacing what
// the console guessed from the snapshots).
func (a *alertsModel) noteAlert(ev watchdog.AlertEvent) {
	if ev.Change != watchdog.Resolved || ev.Alert.Firing() {
		return
	}
	a.keepResolved(ev.Alert)
}

// noteSnapshot keeps the alerts that were firing in prev and are gone
// from next: the check of next found them resolved. Their resolution time
// is that check's, the first the console saw without them.
func (a *alertsModel) noteSnapshot(prev, next engine.Snapshot) {
	if len(prev.Health.Alerts) == 0 || next.Health.CheckedAt.IsZero() {
		return
	}
	firing := make(map[string]bool, len(next.Health.Alerts))
	for _, al := range next.Health.Alerts {
		firing[al.ID] = true
	}
	for _, al := range prev.Health.Alerts {
		if firing[al.ID] || a.knowsResolved(al.ID) {
			continue
		}
		al.ResolvedAt = next.Health.CheckedAt
		if al.Resolution == "" {
			al.Resolution = "gone from the firing list"
		}
		a.keepResolved(al)
	}
}

// knowsResolved reports whether alert id is among the resolved ones.
func (a *alertsModel) knowsResolved(id string) bool {
	return slices.ContainsFunc(a.resolved, func(x watchdog.Alert) bool { return x.ID == id })
}

// keepResolved adds or replaces a resolved alert, newest first, bounded.
func (a *alertsModel) keepResolved(al watchdog.Alert) {
	a.resolved = slices.DeleteFunc(a.resolved, func(x watchdog.Alert) bool { return x.ID == al.ID })
	a.resolved = append(a.resolved, al)
	slices.SortStableFunc(a.resolved, func(x, y watchdog.Alert) int { return y.ResolvedAt.Compare(x.ResolvedAt) })
	if len(a.resolved) > maxResolved {
		a.resolved = a.resolved[:maxResolved]
	}
}

// rows are the alerts shown: firing ones (newest first), then resolved
// ones (most recently resolved first), narrowed by the filter. An alert
// still firing is not listed again as resolved.
func (a *alertsModel) rows() []watchdog.Alert { return a.rowsFor(a.query) }

// rowsFor are the alerts shown under the filter query ("" for all).
func (a *alertsModel) rowsFor(query string) []watchdog.Alert {
	firing := slices.Clone(a.pc.snap.Health.Alerts)
	slices.SortStableFunc(firing, func(x, y watchdog.Alert) int { return y.FirstSeen.Compare(x.FirstSeen) })
	out := make([]watchdog.Alert, 0, len(firing)+len(a.resolved))
	words := strings.Fields(strings.ToLower(query))
	ids := make(map[string]bool, len(firing))
	for _, al := range firing {
		ids[al.ID] = true
		if matchesAll(alertText(al), words) {
			out = append(out, al)
		}
	}
	for _, al := range a.resolved {
		if !ids[al.ID] && matchesAll(alertText(al), words) {
			out = append(out, al)
		}
	}
	return out
}

// alertText is what the filter searches in an alert, lower-cased.
func alertText(al watchdog.Alert) string {
	state := "firing"
	if !al.Firing() {
		state = "resolved"
	}
	if al.Silenced != nil && al.Firing() {
		state += " silenced " + al.Silenced.By + " " + al.Silenced.ID
	}
	return strings.ToLower(strings.Join([]string{al.ID, al.Component, componentTitle(al.Component),
		al.Condition, al.Severity.String(), al.Peak.String(), al.Summary, al.Resolution, state}, " "))
}

// update answers the list and filter keys.
func (a *alertsModel) update(msg tea.Msg) tea.Cmd {
	km, ok := msg.(tea.KeyMsg)
	if !ok {
		return nil
	}
	if a.silView {
		return a.updateSilences(km)
	}
	k := a.pc.keys
	rows := a.rows()
	a.syncCursor(rows)
	page := max(a.listRows()-1, 1)
	switch {
	case a.filter.editing:
		a.query = strings.TrimSpace(a.filter.handleKey(k, km))
		rows = a.rows()
		a.syncCursor(rows)
		return nil
	case key.Matches(km, k.Filter):
		a.filter.start(a.query)
		return nil
	case key.Matches(km, k.NextSection):
		return a.showSilences(a.sil.all)
	case pressed(km, k.Silence):
		if a.cursor < len(rows) {
			return a.flow.startSilence(a.pc, rows[a.cursor].Key, "")
		}
		if a.flow.may(a.pc, "silence") {
			a.pc.info("no alert selected: :silence MATCH 2h why silences by match")
		}
		return nil
	case key.Matches(km, k.Down):
		a.cursor++
	case key.Matches(km, k.Up):
		a.cursor--
	case key.Matches(km, k.Top):
		a.cursor = 0
	case key.Matches(km, k.Bottom):
		a.cursor = len(rows) - 1
	case key.Matches(km, k.PageDown):
		a.cursor += page
	case key.Matches(km, k.PageUp):
		a.cursor -= page
	default:
		return nil
	}
	a.cursor = min(max(a.cursor, 0), max(len(rows)-1, 0))
	a.selID = ""
	if a.cursor < len(rows) {
		a.selID = rows[a.cursor].ID
	}
	return nil
}

// syncCursor puts the cursor back on the selected alert when it is still
// shown (the list moves as alerts fire and resolve), else keeps it in
// range.
func (a *alertsModel) syncCursor(rows []watchdog.Alert) {
	if a.selID != "" {
		for i, al := range rows {
			if al.ID == a.selID {
				a.cursor = i
				return
			}
		}
	}
	a.cursor = min(max(a.cursor, 0), max(len(rows)-1, 0))
	if a.cursor < len(rows) {
		a.selID = rows[a.cursor].ID
	}
}

// back clears the filter, if one is in force; on the silences, with no
// filter, it goes back to the alerts.
func (a *alertsModel) back() (bool, tea.Cmd) {
	switch {
	case a.silView && a.sil.query != "":
		a.sil.query = ""
	case a.silView:
		a.silView = false
		return true, nil
	case a.query != "":
		a.query = ""
	default:
		return false, nil
	}
	a.pc.info("filter cleared")
	return true, nil
}

// ShortHelp lists the screen's own keys.
func (a *alertsModel) ShortHelp() []key.Binding {
	k := a.pc.keys
	if a.filter.editing {
		return []key.Binding{helpOnly(k.Submit, "enter", "keep filter"), helpOnly(k.Cancel, "esc", "clear")}
	}
	if a.silView {
		return a.silencesShortHelp()
	}
	keys := []key.Binding{helpOnly(k.Down, firstKey(k.Down)+"/"+firstKey(k.Up), "move")}
	if a.pc.silencesOff() == "" { // an engine without silences says so when the key is pressed
		keys = append(keys, helpOnly(k.Silence, firstKey(k.Silence), "silence"))
	}
	return append(keys, helpOnly(k.Filter, firstKey(k.Filter), "filter"))
}

// FullHelp lists the screen's own keys.
func (a *alertsModel) FullHelp() [][]key.Binding {
	k := a.pc.keys
	return [][]key.Binding{append([]key.Binding{
		helpOnly(k.Down, firstKey(k.Down)+"/"+firstKey(k.Up), "down, up"),
		helpOnly(k.Top, firstKey(k.Top)+"/"+firstKey(k.Bottom), "top, bottom"),
		helpOnly(k.Filter, firstKey(k.Filter), "filter alerts"),
		helpOnly(k.Back, firstKey(k.Back), "clear the filter"),
	}, a.silencesHelp()...)}
}

// detailH is the height of the selected alert's panel, when there is
// room for it.
func (a *alertsModel) detailH() int {
	switch {
	case a.h >= 30:
		return 7
	case a.h >= 16:
		return 5
	}
	return 0
}

// listRows is how many alerts the list panel shows at once.
func (a *alertsModel) listRows() int {
	prompt := 0
	if a.filter.editing {
		prompt = 1
	}
	// Panel borders, the header row and the hint line.
	return max(a.h-a.detailH()-prompt-1-3, 1)
}

// alertCols are the widths of the alerts table's columns.
type alertCols struct{ sev, what, first, last, count, resolved, summary int }

// alertColumns sizes the table for w cells: the summary only when wide.
func alertColumns(w int) alertCols {
	c := alertCols{sev: 10, first: 8, last: 8, count: 6, resolved: 8}
	if w >= wideLayout {
		c.first, c.last, c.resolved = 17, 17, 17
	}
	fixed := 2 + c.sev + 1 + 1 + c.first + 1 + c.last + 1 + c.count + 1 + c.resolved
	c.what = max(w-fixed, 8)
	if w >= wideLayout {
		c.what = min(c.what, 34)
		c.summary = max(w-fixed-c.what-1, 0)
	}
	return c
}

// view renders the list of alerts, the selected one's detail and the hint
// on where resolved alerts come from.
func (a *alertsModel) view() []string {
	w, h := a.w, a.h
	if w <= 0 || h <= 0 {
		return nil
	}
	if a.silView {
		return a.silencesView()
	}
	st := a.pc.styles
	rows := a.rows()
	a.syncCursor(rows)
	// The counts are of every alert, filter or not: a filter that hides
	// the one firing must not read "0 firing".
	all := rows
	if a.query != "" {
		all = a.rowsFor("")
	}
	firing, silenced := 0, 0
	for _, al := range all {
		if al.Firing() {
			firing++
		}
		if _, ok := silencedNow(al, a.pc.now()); ok {
			silenced++
		}
	}
	counts := "Alerts · " + strconv.Itoa(firing) + " firing"
	if silenced > 0 {
		counts += " (" + strconv.Itoa(silenced) + " silenced)"
	}
	counts += " · " + strconv.Itoa(len(all)-firing) + " resolved"
	title := counts + " · newest first"
	if a.query != "" {
		filter := " · filter “" + a.query + "”: " + strconv.Itoa(len(rows)) + " of " + strconv.Itoa(len(all)) + " shown"
		title += filter
		if ansi.StringWidth(title) > w-6 { // the order gives way to the filter
			title = counts + filter
		}
	}
	listRows := a.listRows()
	a.offset = window(a.cursor, a.offset, len(rows), listRows)
	lines := []string{a.headerLine(w - 4)}
	switch {
	case len(rows) == 0 && a.query != "":
		lines = append(lines, st.Muted.Render(clip("nothing matches (esc clears the filter)", w-4)))
	case len(rows) == 0:
		lines = append(lines, st.OK.Render("✓ ")+st.Muted.Render(clip("no alert firing, none seen resolving", w-6)))
	}
	for i := a.offset; i < len(rows) && i < a.offset+listRows; i++ {
		lines = append(lines, a.rowLine(rows[i], i == a.cursor, w-4))
	}
	prompt := 0
	if a.filter.editing {
		prompt = 1
	}
	out := st.panel(title, lines, w, max(h-a.detailH()-prompt-1, 3))
	if dh := a.detailH(); dh > 0 {
		var sel *watchdog.Alert
		if a.cursor < len(rows) {
			sel = &rows[a.cursor]
		}
		out = append(out, st.panel("Selected alert", a.detailLines(sel, w-4), w, dh)...)
	}
	if a.filter.editing {
		out = append(out, a.filter.view(st, w))
	}
	hint := " resolved: only those seen resolving while this console runs"
	switch {
	case !a.historyAt.IsZero():
		hint = " resolved: the watchdog's alert history, loaded " + a.stamp(a.historyAt, false) + ", and what the console saw since"
	case a.pc.health != nil:
		hint = " resolved: loading the watchdog's alert history…"
	case w >= wideLayout:
		hint += " (this engine offers no alert history)"
	}
	out = append(out, st.Muted.Render(fit(hint, w)))
	for len(out) < h {
		out = append(out, fit("", w))
	}
	return out[:h]
}

// headerLine is the table's header.
func (a *alertsModel) headerLine(w int) string {
	c := alertColumns(w)
	first, last := "FIRST", "LAST"
	if c.summary > 0 {
		first, last = "FIRST SEEN", "LAST SEEN"
	}
	hd := "  " + fit("SEVERITY", c.sev) + " " + fit("COMPONENT/CONDITION", c.what) + " " + fit(first, c.first) + " " +
		fit(last, c.last) + " " + fitRight("COUNT", c.count) + " " + fit("RESOLVED", c.resolved)
	if c.summary > 0 {
		hd += " " + fit("SUMMARY", c.summary)
	}
	return a.pc.styles.TableHeader.Render(fit(hd, w))
}

// sevMark is an alert's severity in colour plus symbol and word: the
// current one while it fires, the peak (muted, with ✓) once resolved.
func (a *alertsModel) sevMark(al watchdog.Alert) string {
	st := a.pc.styles
	if !al.Firing() {
		return st.OK.Render("✓ ") + st.Muted.Render(fit(al.Peak.String(), 8))
	}
	style, word := statusStyle(st, al.Severity)
	return style.Render(fit(word, 10))
}

// stamp is a time for the table: the clock time, with the date and age
// when wide.
func (a *alertsModel) stamp(t time.Time, wide bool) string {
	if t.IsZero() {
		return "—"
	}
	now := a.pc.now()
	s := t.In(now.Location()).Format("15:04:05")
	if wide {
		s += " (" + fmtDur(now.Sub(t)) + ")"
	}
	return s
}

// rowLine is one alert in the table.
func (a *alertsModel) rowLine(al watchdog.Alert, selected bool, w int) string {
	st := a.pc.styles
	c := alertColumns(w)
	wide := c.summary > 0
	mark := "  "
	what := st.Value
	if selected {
		mark, what = st.Selected.Render("▸ "), st.Selected
	}
	resolved := st.Crit.Render(fit("firing", c.resolved))
	if al.Severity != watchdog.Critical {
		resolved = st.Warn.Render(fit("firing", c.resolved))
	}
	if !al.Firing() {
		resolved = cell(st.OK, a.stamp(al.ResolvedAt, wide), c.resolved)
	} else if ref, ok := silencedNow(al, a.pc.now()); ok {
		resolved = cell(st.Muted, silenceMark(ref, a.pc.now(), c.resolved), c.resolved)
	}
	line := mark + a.sevMark(al) + " " + cell(what, componentTitle(al.Component)+"/"+al.Condition, c.what) + " " +
		cell(st.Muted, a.stamp(al.FirstSeen, wide), c.first) + " " + cell(st.Muted, a.stamp(al.LastSeen, wide), c.last) + " " +
		cellRight(st.Text, "×"+fmtInt(al.Count), c.count) + " " + resolved
	if wide {
		line += " " + cell(st.Text, al.Summary, c.summary)
	}
	return fit(line, w)
}

// detailLines describe the selected alert: its key and ID, its reason, its
// span and how it ended.
func (a *alertsModel) detailLines(al *watchdog.Alert, w int) []string {
	st := a.pc.styles
	if al == nil {
		return []string{st.Muted.Render(clip("no alert selected", w))}
	}
	const lw = 11
	state := "firing for " + fmtDur(al.LastSeen.Sub(al.FirstSeen)) + " over " + plural(al.Count, "check")
	if !al.Firing() {
		state = "resolved after " + fmtDur(al.ResolvedAt.Sub(al.FirstSeen)) + " · " + orDash(al.Resolution)
	}
	ref, silenced := silencedNow(*al, a.pc.now())
	if silenced {
		// What the operator must know first: its webhooks are not told.
		state = a.silenceNote(ref) + " · " + state
	}
	lines := []string{
		st.kv("alert", al.ID+" · "+al.Key, lw, w),
		st.kv("summary", orDash(al.Summary), lw, w),
		st.kv("state", state, lw, w),
	}
	if silenced {
		lines = append(lines, st.kv("silence", a.silenceWhy(ref, w-lw), lw, w))
	}
	lines = append(lines,
		st.kv("severity", al.Severity.String()+" · peak "+al.Peak.String(), lw, w),
		st.kv("seen", a.stamp(al.FirstSeen, true)+" → "+a.stamp(al.LastSeen, true), lw, w))
	return lines
}
