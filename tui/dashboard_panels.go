package tui

import (
	"cmp"
	"slices"
	"strconv"
	"strings"

	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"

	"grace/engine"
	"grace/engine/clarity"
	"grace/engine/intent"
)

// Queue levels, in palette order for the sparkline.
const (
	queueOK = iota
	queueWarn
	queueCrit
)

// queueLevel classes depth against the snapshot's thresholds; a zero
// threshold is treated as absent.
func queueLevel(s engine.Snapshot, depth int) int {
	switch {
	case s.QueueCritical > 0 && depth >= s.QueueCritical:
		return queueCrit
	case s.QueueWarn > 0 && depth >= s.QueueWarn:
		return queueWarn
	}
	return queueOK
}

// queueBadge is the queue's health in colour plus a symbol and a word.
func (st *styles) queueBadge(level int) string {
	switch level {
	case queueCrit:
		return st.Crit.Render("✗ critical")
	case queueWarn:
		return st.Warn.Render("▲ warn")
	}
	return st.OK.Render("● ok")
}

// kv renders "label value" with the label in a column of lw cells, all in
// w cells.
func (st *styles) kv(label, value string, lw, w int) string {
	return cell(st.Label, label, lw) + cell(st.Value, value, w-lw)
}

// kvFigure is kv for a figure: where the two do not fit, the label gives
// way first (cut, keeping a cell of air before the figure, down to 4
// cells), since a figure cut to "…" says nothing and a cut label still
// names it. Only a figure wider than what is left is cut.
func (st *styles) kvFigure(label, value string, lw, w int) string {
	if vw := ansi.StringWidth(value); lw+vw > w && lw > 4 {
		lw = max(w-vw, 4)
		return cell(st.Label, clip(label, lw-1), lw) + cell(st.Value, value, w-lw)
	}
	return st.kv(label, value, lw, w)
}

// queueLines is the Queue panel: health and depth, a sparkline of depth
// over the kept history, and the thresholds.
func (d *dashboardModel) queueLines(w, h int) []string {
	st := d.pc.styles
	s := d.pc.snap
	lvl := queueLevel(s, s.QueueDepth)
	samples := d.depth.last(w)
	vals := make([]int, len(samples))
	peak := 0
	for i, x := range samples {
		vals[i] = x.depth
		peak = max(peak, x.depth)
	}
	head := st.queueBadge(lvl) + st.Label.Render("  depth ") + st.Value.Render(fmtInt(s.QueueDepth))
	if s.QueueDelayed > 0 { // scheduled, or backing off: not yet due
		head += st.Muted.Render(" (" + fmtInt(s.QueueDelayed) + " later)")
	}
	peakText := "peak " + fmtInt(peak)
	// The depth is kept whole before the peak: with no room for both, the
	// peak goes.
	lines := []string{fit(head, w)}
	if ansi.StringWidth(head)+1+len(peakText) <= w {
		lines[0] = fit(head, w-len(peakText)-1) + " " + st.Muted.Render(peakText)
	}

	// The last lines: a pause (who and why matter more than the
	// thresholds; the header says only that it is), or the thresholds.
	var tail []string
	if pause := d.pauseText(); pause != "" {
		tail = d.pauseLines(pause, w, h)
	} else {
		span := "last " + d.span(samples)
		thresholds := "warn " + fmtInt(s.QueueWarn) + " · crit " + fmtInt(s.QueueCritical)
		if s.QueueWarn == 0 && s.QueueCritical == 0 {
			thresholds = "no thresholds"
		}
		// The thresholds are kept whole before the span: with no room for
		// both and a cell between them, the span goes.
		tw := ansi.StringWidth(thresholds)
		if ansi.StringWidth(span)+1+tw > w {
			span = ""
		}
		tail = []string{st.Muted.Render(fit(span, w-min(tw, w)) + clip(thresholds, w))}
	}
	rows := max(h-1-len(tail), 1)
	palette := []lipgloss.Style{st.OK, st.Warn, st.Crit}
	lines = append(lines, sparkline(vals, w, rows, peak, func(v int) int { return queueLevel(s, v) }, palette)...)
	return append(lines, tail...)
}

// pauseText says who paused the scheduler, or which types and actors are
// paused, when and why; "" when nothing is paused.
func (d *dashboardModel) pauseText() string {
	s := d.pc.snap
	pt, pa := s.Layer2.PausedTypes, s.Layer2.PausedActors
	if p := s.Layer2.Pause; s.Layer2.Paused && p != nil {
		// Types and actors paused as well stay paused after a :resume:
		// named before the reason, which may not fit.
		also := ""
		if len(pt)+len(pa) > 0 {
			also = " (and " + pausedCounts(len(pt), len(pa)) + ")"
		}
		return "▲ paused by " + p.By + " " + fmtDur(d.pc.now().Sub(p.Since)) + " ago" + also + ": " + strings.Join(strings.Fields(p.Reason), " ")
	}
	// One type or actor paused says how many of it wait, who paused it
	// and why; several are named, each with how many wait.
	one := func(name string, waiting int, p engine.PauseInfo) string {
		return "▲ " + name + " (" + strconv.Itoa(waiting) + ") paused by " + p.By + " " +
			fmtDur(d.pc.now().Sub(p.Since)) + " ago: " + strings.Join(strings.Fields(p.Reason), " ")
	}
	switch {
	case len(pt)+len(pa) == 0:
		return ""
	case len(pt) == 1 && len(pa) == 0:
		return one(pt[0].Type, pt[0].Waiting, pt[0].PauseInfo)
	case len(pa) == 1 && len(pt) == 0:
		return one("actor "+pa[0].Actor, pa[0].Waiting, pa[0].PauseInfo)
	}
	var names []string
	for _, t := range pt {
		names = append(names, t.Type+" ("+strconv.Itoa(t.Waiting)+")")
	}
	for _, a := range pa {
		names = append(names, "actor "+a.Actor+" ("+strconv.Itoa(a.Waiting)+")")
	}
	return "▲ " + pausedCounts(len(pt), len(pa)) + " paused: " + strings.Join(names, ", ")
}

// pausedCounts says how many types and actors are paused: "2 types, 1
// actor", leaving out a kind with none.
func pausedCounts(types, actors int) string {
	var counts []string
	if types > 0 {
		counts = append(counts, plural(types, "type"))
	}
	if actors > 0 {
		counts = append(counts, plural(actors, "actor"))
	}
	return strings.Join(counts, ", ")
}

// pauseLines is the pause text in a panel w wide and h high: on one line,
// or wrapped on two when it is wider and the sparkline keeps two rows.
func (d *dashboardModel) pauseLines(pause string, w, h int) []string {
	st := d.pc.styles
	if ansi.StringWidth(pause) <= w || h < 5 {
		return []string{st.Warn.Render(fit(pause, w))}
	}
	wrapped := strings.SplitN(ansi.Wrap(pause, w, " "), "\n", 2)
	if len(wrapped) < 2 {
		return []string{st.Warn.Render(fit(pause, w))}
	}
	rest := strings.ReplaceAll(wrapped[1], "\n", " ")
	return []string{st.Warn.Render(fit(wrapped[0], w)), st.Warn.Render(fit("  "+rest, w))}
}

// throughputLines is the Throughput panel: workers busy/idle, rates and
// totals. With strip, a one-glyph-per-worker line shows the pool compactly
// (used when there is no room for the Workers panel).
func (d *dashboardModel) throughputLines(w int, strip bool) []string {
	st := d.pc.styles
	s := d.pc.snap
	half := w / 2
	lw := 11
	pair := func(l1, v1, l2, v2 string) string {
		// One cell of air after the first value, however long it is.
		return st.kvFigure(l1, v1, lw, half-1) + " " + st.kvFigure(l2, v2, lw, w-half)
	}
	lines := []string{
		cell(st.Label, "workers", lw) +
			st.Warn.Render(strconv.Itoa(s.WorkersBusy)+" busy") + st.Muted.Render(" · ") +
			st.OK.Render(strconv.Itoa(s.WorkersIdle)+" idle"),
	}
	if strip {
		lines = append(lines, cell(st.Label, "pool", lw)+d.workerStrip(w-lw))
	}
	lines = append(lines,
		pair("dispatch", fmtRate(s.DispatchRate), "complete", fmtRate(s.CompletionRate)),
		pair("dispatched", fmtInt(s.Dispatched), "completed", fmtInt(s.Completed)),
		pair("failed", fmtInt(s.Failed), "rejected", fmtInt(s.Rejected)),
	)
	return lines
}

// workerStrip draws one glyph per worker: ■ busy, □ idle.
func (d *dashboardModel) workerStrip(w int) string {
	st := d.pc.styles
	ws := d.pc.snap.Workers
	if len(ws) == 0 {
		return st.Muted.Render(fit("no workers", w))
	}
	n := len(ws)
	more := ""
	if n > w {
		shown := max(w-6, 0) // room for " +NNN"
		more = "+" + strconv.Itoa(n-shown)
		n = shown
	}
	var busy, idle strings.Builder
	var b strings.Builder
	flushRun := func() {
		if busy.Len() > 0 {
			b.WriteString(st.Warn.Render(busy.String()))
			busy.Reset()
		}
		if idle.Len() > 0 {
			b.WriteString(st.Muted.Render(idle.String()))
			idle.Reset()
		}
	}
	for i := 0; i < n; i++ {
		if ws[i].Busy {
			if idle.Len() > 0 {
				flushRun()
			}
			busy.WriteString("■")
		} else {
			if busy.Len() > 0 {
				flushRun()
			}
			idle.WriteString("□")
		}
	}
	flushRun()
	if more != "" {
		b.WriteString(" " + st.Muted.Render(more))
	}
	return fit(b.String(), w)
}

// workerLabel is a worker's name, with "@host" for a remote worker
// (backend.kind nats).
func workerLabel(wk engine.WorkerInfo) string {
	if wk.Host == "" {
		return wk.Name
	}
	return wk.Name + "@" + wk.Host
}

// workerLines is the Workers panel: one line per worker, as many as fit.
func (d *dashboardModel) workerLines(w, h int) []string {
	st := d.pc.styles
	ws := d.pc.snap.Workers
	if len(ws) == 0 {
		return []string{st.Muted.Render("no workers")}
	}
	nameW := 4
	for _, wk := range ws {
		nameW = max(nameW, ansi.StringWidth(workerLabel(wk)))
	}
	nameW = min(nameW, 16, w/3)
	// Counts first; the intent column gets what is left, if that is useful.
	avail := max(w-2-nameW-1-5-1, 0)
	countW := 9
	intentW := avail - 2*countW
	if intentW < 8 {
		intentW = 0
		countW = avail / 2
	}
	intentHead := ""
	if intentW > 0 {
		intentHead = fit("INTENT", intentW)
	}
	lines := []string{
		st.TableHeader.Render(fit("  "+fit("NAME", nameW)+" "+fit("STATE", 5)+" "+intentHead+
			fitRight("DONE", countW)+fitRight("FAILED", countW), w)),
	}
	rows := h - 1
	for i, wk := range ws {
		if i == rows-1 && len(ws) > rows {
			lines = append(lines, st.Muted.Render("+"+strconv.Itoa(len(ws)-i)+" more"))
			break
		}
		glyph, state, stStyle := "□", "idle", st.Muted
		switch {
		case wk.State == engine.RemoteLost: // a remote worker gone silent (killed, cut off)
			glyph, state, stStyle = "✗", "lost", st.Crit
		case wk.State == engine.RemoteLeft: // a remote worker that shut down cleanly
			glyph, state, stStyle = "·", "left", st.Muted
		case wk.Busy:
			glyph, state, stStyle = "■", "busy", st.Warn
		}
		failed := st.Muted
		if wk.Failed > 0 {
			failed = st.Crit
		}
		lines = append(lines, stStyle.Render(glyph+" ")+cell(st.Text, workerLabel(wk), nameW)+" "+
			cell(stStyle, state, 5)+" "+cell(st.Muted, clipMiddle(wk.IntentID, intentW), intentW)+
			cellRight(st.Text, "✓"+fmtInt(wk.Completed), countW)+cellRight(failed, "✗"+fmtInt(wk.Failed), countW))
	}
	return lines
}

// stateItems is one "label count" per intent state, in display order.
func (d *dashboardModel) stateItems(s engine.Snapshot) []string {
	st := d.pc.styles
	items := make([]string, 0, len(intent.States))
	for _, state := range intent.States {
		n := s.ByState[state]
		label, ls, vs := stateLabel(state), st.Label, st.Value
		switch state {
		case intent.StatePendingApproval:
			if n > 0 {
				label, ls, vs = "⚑ "+label, st.Warn, st.Warn
			}
		case intent.StateFailed:
			if n > 0 {
				label, ls, vs = "✗ "+label, st.Crit, st.Crit
			}
		}
		items = append(items, ls.Render(label)+" "+vs.Render(fmtInt(n)))
	}
	return items
}

// typeItems are the per-type figures, the most queued first (then by
// name): "query_knowledge 12 ✓1,204 ✗3", failures in red.
func (d *dashboardModel) typeItems(s engine.Snapshot) []string {
	st := d.pc.styles
	types := slices.Clone(s.ByType)
	slices.SortStableFunc(types, func(a, b engine.TypeFigures) int { return cmp.Compare(b.Queued, a.Queued) })
	items := make([]string, 0, len(types))
	for _, t := range types {
		failed := st.Muted.Render(" ✗" + fmtInt(t.Failed))
		if t.Failed > 0 {
			failed = st.Crit.Render(" ✗" + fmtInt(t.Failed))
		}
		items = append(items, st.Label.Render(t.Type)+" "+st.Value.Render(fmtInt(t.Queued))+
			st.OK.Render(" ✓"+fmtInt(t.Completed))+failed)
	}
	return items
}

// recentPanel is the Recent decisions panel's title and lines, narrowed by
// the filter in force.
func (d *dashboardModel) recentPanel(w, h int) (string, []string) {
	recs := d.pc.snap.Recent
	title := "Recent decisions · newest first"
	if f := d.recentFilter; f != "" {
		words := strings.Fields(strings.ToLower(f))
		kept := make([]clarity.Record, 0, len(recs))
		for _, r := range recs {
			text := strings.ToLower(r.Who + " " + r.What + " " + r.Where + " " + r.Result + " " + r.IntentID + " " + strings.Join(r.Why, " "))
			if matchesAll(text, words) {
				kept = append(kept, r)
			}
		}
		title += " · filter “" + f + "”: " + strconv.Itoa(len(kept)) + " of " + strconv.Itoa(len(recs))
		if len(kept) == 0 {
			return title, []string{d.pc.styles.Muted.Render(clip("nothing matches (esc clears the filter)", w))}
		}
		recs = kept
	}
	return title, d.recentLines(recs, w, h)
}

// recentLines is the Recent decisions table: when, who, what, where and the
// first reason, newest first, as many rows as fit.
func (d *dashboardModel) recentLines(recs []clarity.Record, w, h int) []string {
	st := d.pc.styles
	if len(recs) == 0 {
		return []string{st.Muted.Render("no decisions yet")}
	}
	c := recentColumns(w)
	header := "  " + fit("WHEN", c.when) + " " + fit("WHO", c.who) + " " + fit("WHAT", c.what) + " " + fit("WHERE", c.where) + " "
	if c.intent > 0 {
		header += fit("INTENT", c.intent) + " "
	}
	header += fit("WHY", c.why)
	lines := []string{st.TableHeader.Render(fit(header, w))}
	loc := d.pc.now().Location()
	for i := 0; i < len(recs) && len(lines) < h; i++ {
		r := recs[i]
		mark, ms := resultMark(st, r)
		line := ms.Render(mark) + " " + cell(st.Muted, r.When.In(loc).Format("15:04:05"), c.when) + " " +
			cell(st.Text, r.Who, c.who) + " " + cell(st.Value, r.What, c.what) + " " + cell(st.Text, r.Where, c.where) + " "
		if c.intent > 0 {
			line += cell(st.Muted, r.IntentID, c.intent) + " "
		}
		line += cell(st.Text, firstReason(r.Why), c.why)
		lines = append(lines, line)
	}
	return lines
}

// columns of the recent-decisions table.
type recentCols struct{ when, who, what, where, intent, why int }

// recentColumns sizes the table for w cells: fixed time, proportional
// who/what/where, an intent column when wide, and the reason takes the rest.
func recentColumns(w int) recentCols {
	c := recentCols{when: 8}
	c.who = min(max(w/7, 8), 20)
	c.what = min(max(w*2/9+1, 10), 24)
	c.where = min(max(w/7, 8), 18)
	if w >= 110 {
		c.intent = 30
	}
	used := 2 + c.when + 1 + c.who + 1 + c.what + 1 + c.where + 1
	if c.intent > 0 {
		used += c.intent + 1
	}
	c.why = max(w-used, 0)
	return c
}

// resultMark is a decision's outcome as a symbol and its style.
func resultMark(st *styles, r clarity.Record) (string, lipgloss.Style) {
	res := strings.ToLower(r.Result + " " + r.What)
	switch {
	case containsAny(res, "fail", "denied", "deny", "reject", "expire", "shed", "error"):
		return "✗", st.Crit
	case containsAny(res, "pending", "await", "human", "flag"):
		return "⚑", st.Warn
	case containsAny(res, "complete", "approve", "success", "reviewed", "acknowledged"):
		return "✓", st.OK
	}
	return "·", st.Muted
}

// containsAny reports whether s contains any of subs.
func containsAny(s string, subs ...string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}
