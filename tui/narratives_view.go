package tui

import (
	"encoding/json"
	"strconv"
	"strings"

	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"

	"grace/engine/clarity"
)

// view renders the search box and what it selects on two lines, then the
// results (or a story) and, when wide or asked for, the selected record's
// detail.
func (n *narrativesModel) view() []string {
	w, h := n.w, n.h
	if w <= 0 || h <= 0 {
		return nil
	}
	st := n.pc.styles
	out := []string{n.searchLine(w), n.describeLine(w)}
	bodyH := max(h-2, 0)
	l := n.list()
	e, ok := l.selected()
	title, lines := n.listPanel(w)
	switch {
	case n.detail && ok && w < splitLayout:
		out = append(out, n.detailPanel(e, w, bodyH)...)
	case w >= splitLayout && ok:
		lw := w * 11 / 20
		title, lines = n.listPanel(lw)
		left := st.panel(title, lines(lw-4, bodyH-2), lw, bodyH)
		out = append(out, hjoin(left, n.detailPanel(e, w-lw, bodyH))...)
	default:
		out = append(out, st.panel(title, lines(w-4, bodyH-2), w, bodyH)...)
	}
	for len(out) < h {
		out = append(out, fit("", w))
	}
	return out[:h]
}

// searchLine is the search box: the field while editing, else the search
// in force (or the syntax hint), with when the results were fetched.
func (n *narrativesModel) searchLine(w int) string {
	st := n.pc.styles
	label := st.Label.Render(" search ")
	if n.editing {
		return fit(st.Prompt.Render(" search ")+n.search.View(st, w-8), w)
	}
	var at string
	if l := n.list(); l.loaded && !l.at.IsZero() {
		when := l.at.In(n.pc.now().Location()).Format("15:04:05")
		if n.following() {
			at = st.OK.Render(" following") + st.Muted.Render(", as of "+when+" ")
		} else {
			at = st.Muted.Render(" as of " + when + " ")
		}
	}
	text := st.Muted.Render(searchHint + "  (" + firstKey(n.pc.keys.Filter) + " to search)")
	if n.text != "" {
		text = st.Value.Render(n.text)
	}
	room := w - ansi.StringWidth(at)
	return fit(label+text, room) + at
}

// describeLine says what the search selects, or whose story is shown.
func (n *narrativesModel) describeLine(w int) string {
	st := n.pc.styles
	if n.story != nil {
		// The intent's ID is in the panel's title below; the way back is
		// what must not be cut off at 80 columns.
		return fit(st.Muted.Render(" every record of this intent, oldest first · "+
			firstKey(n.pc.keys.Back)+" returns to the results"), w)
	}
	return fit(st.Muted.Render(" "+n.query.describe(n.pc.now())), w)
}

// listPanel returns the title and a renderer of the list on show, for a
// panel w cells wide.
func (n *narrativesModel) listPanel(w int) (string, func(w, h int) []string) {
	if n.story != nil {
		s := n.story
		title := "Story of " + s.intentID
		if s.list.loaded && s.list.failed != "" {
			title += " · not fetched"
		} else if s.list.loaded {
			title += " · " + plural(len(s.list.entries), "record")
			if s.list.capped {
				title += " (the first " + fmtInt(storyMax) + ")"
			}
		}
		return title, func(w, h int) []string {
			var head []string
			if s.intent != nil {
				head = append(head, n.intentSummary(w))
			}
			return append(head, n.entryLines(&s.list, false, w, h-len(head))...)
		}
	}
	l := &n.results
	title := "Narratives"
	switch {
	case !l.loaded:
		title += " · searching…"
	case l.refused != "" && len(l.entries) == 0:
		title += " · search refused"
	case l.failed != "" && len(l.entries) == 0:
		title += " · search failed"
	case l.capped:
		title += " · the newest " + fmtInt(len(l.entries)) + " (narrow the search for older)"
	case l.exhausted && l.resume > 0:
		title += " · " + fmtInt(len(l.entries)) + " found · read down to #" + fmtInt(int(l.resume)) +
			", then stopped (narrow the search for older)"
	case l.exhausted:
		title += " · " + fmtInt(len(l.entries)) + " found"
	case l.resume > 0 && l.loading:
		title += " · " + fmtInt(len(l.entries)) + " found so far, reading on below #" + fmtInt(int(l.resume)) + "…"
	default:
		title += " · " + fmtInt(len(l.entries)) + " loaded, more below"
	}
	return title, func(w, h int) []string { return n.entryLines(l, true, w, h) }
}

// intentSummary is the story's first line: what the intent is and where
// it stands now.
func (n *narrativesModel) intentSummary(w int) string {
	st := n.pc.styles
	it := n.story.intent
	mark, ms := stateMark(st, it.State)
	s := ms.Render(mark+" "+stateLabel(it.State)) + st.Muted.Render(" · ") + st.Value.Render(it.Type) +
		st.Muted.Render(" by ") + st.Text.Render(it.Actor) + st.Muted.Render(" · tier "+strconv.Itoa(it.Tier))
	if it.Reviewed {
		s += st.Muted.Render(" · reviewed")
	}
	if first := it.FirstApprover(); first != "" {
		s += st.Muted.Render(" · approved by ") + st.Text.Render(first) + st.Muted.Render(", 1 of 2")
	} else if it.DecidedBy != "" {
		s += st.Muted.Render(" · decided by ") + st.Text.Render(it.DecidedBy)
	}
	return fit(s, w)
}

// entryCols sizes a narrative table for w cells.
type entryCols struct{ when, who, what, where, intent, why int }

func entryColumns(w int, withIntent bool) entryCols {
	c := entryCols{when: 14}
	c.who = min(max(w/7, 8), 20)
	c.what = min(max(w/5, 12), 24)
	c.where = min(max(w/8, 8), 18)
	if withIntent && w >= 136 {
		c.intent = 30
	}
	used := 3 + c.when + 1 + c.who + 1 + c.what + 1 + c.where + 1
	if c.intent > 0 {
		used += c.intent + 1
	}
	c.why = max(w-used, 0)
	return c
}

// entryLines renders l as a table, scrolled so the cursor stays in view,
// saying when more is loading or the list is empty.
func (n *narrativesModel) entryLines(l *entryList, withIntent bool, w, h int) []string {
	st := n.pc.styles
	if h <= 0 {
		return nil
	}
	if !l.loaded {
		return []string{st.Muted.Render("searching…")}
	}
	if len(l.entries) == 0 && l.refused != "" {
		// The engine's answer to the query itself: trying again gives
		// the same one, so what to change is said instead.
		keys := firstKey(n.pc.keys.Filter) + " edits the search, or " + firstKey(n.pc.keys.Back) +
			" clears it to list the newest records."
		if n.text == "" {
			keys = firstKey(n.pc.keys.Filter) + " edits the search."
		}
		why := strings.TrimRight(l.refused, ".") + "."
		lines := wrapLines("", st.Crit, "✗ Search refused: "+why, 0, w)
		if l.noWords {
			lines = wrapLines("", st.Crit, "✗ Nothing searched: "+why, 0, w)
			keys = "Type a word (" + firstKey(n.pc.keys.Filter) + " edits the search), or clear the query (" +
				firstKey(n.pc.keys.Back) + ") to list the newest records."
		}
		return append(lines, wrapLines("", st.Muted, keys, 0, w)...)
	}
	if len(l.entries) == 0 && l.failed != "" {
		// Not "no match": nothing could be asked.
		lines := []string{st.Crit.Render(clip("✗ The narratives could not be fetched; "+
			firstKey(n.pc.keys.Refresh)+" tries again.", w))}
		return append(lines, wrapLines("", st.Muted, l.failed, 0, w)...)
	}
	if len(l.entries) == 0 && !l.exhausted {
		return []string{st.Muted.Render(clip("searching… none found yet; reading on below #"+fmtInt(int(l.resume)), w))}
	}
	if len(l.entries) == 0 {
		lines := []string{st.Muted.Render(clip("No narrative matches.", w))}
		if n.text != "" && n.story == nil {
			lines = append(lines, wrapLines("", st.Muted, firstKey(n.pc.keys.Back)+" clears the search; "+
				firstKey(n.pc.keys.Filter)+" edits it. Words match whole words; word* matches a prefix. "+
				"Every word must appear: AND, OR, NOT and NEAR are words too; a -word must not appear; "+
				"\"a phrase\" in quotes, or a word such as worker_1, needs its words side by side; ( ) are ignored.", 0, w)...)
		}
		return lines
	}
	c := entryColumns(w, withIntent)
	header := "   " + fit("WHEN", c.when) + " " + fit("WHO", c.who) + " " + fit("WHAT", c.what) + " " + fit("WHERE", c.where) + " "
	if c.intent > 0 {
		header += fit("INTENT", c.intent) + " "
	}
	header += fit("WHY", c.why)
	lines := []string{st.TableHeader.Render(fit(header, w))}
	rows := max(h-1, 1)
	// While the next page loads and the list is scrolled to its end, the
	// last line says so; the rows give it room rather than lose one under
	// it (which could be the cursor's).
	loadingLine := l.loading && rows >= 2 && len(l.entries) >= rows-1 &&
		window(l.cursor, l.offset, len(l.entries), rows-1)+rows-1 >= len(l.entries)
	if loadingLine {
		rows--
	}
	l.offset = window(l.cursor, l.offset, len(l.entries), rows)
	loc := n.pc.now().Location()
	for i := l.offset; i < len(l.entries) && len(lines) <= rows; i++ {
		e := l.entries[i]
		text := st.Text
		sel := i == l.cursor
		if sel {
			text = st.Selected
		}
		mark, ms := resultMark(st, e.Record)
		cursor := " "
		if sel {
			cursor = "›"
		}
		line := text.Render(cursor) + ms.Render(mark) + " " + cell(st.Muted, e.When.In(loc).Format("01-02 15:04:05"), c.when) + " " +
			cell(text, e.Who, c.who) + " " + cell(text, e.What, c.what) + " " + cell(st.Text, e.Where, c.where) + " "
		if c.intent > 0 {
			line += cell(st.Muted, e.IntentID, c.intent) + " "
		}
		line += cell(st.Text, firstReason(e.Why), c.why)
		lines = append(lines, line)
	}
	if loadingLine {
		lines = append(lines, st.Muted.Render(fit("  ↓ loading more…", w)))
	}
	return lines
}

// detailPanel frames the detail of e in w×h cells; its border is
// highlighted while it has the focus.
func (n *narrativesModel) detailPanel(e clarity.Entry, w, h int) []string {
	st := n.pc.styles
	inner := w - 4
	lines := n.detailLines(e, inner)
	n.detailBuf, n.detailRoom = lines, max(h-2, 1)
	n.scroll = min(n.scroll, max(len(lines)-n.detailRoom, 0))
	title := "Record #" + strconv.FormatInt(e.ID, 10)
	if len(lines) > n.detailRoom {
		title += " · lines " + strconv.Itoa(n.scroll+1) + "–" + strconv.Itoa(min(n.scroll+n.detailRoom, len(lines))) +
			" of " + strconv.Itoa(len(lines))
	}
	border := st.Border
	if n.detail {
		border = st.Accent
	}
	return frame(border, st.PanelTitle, title, lines[n.scroll:], w, h)
}

// detailLines is the whole record e in w cells: the 5W1H, its context,
// its clarity data and its audit entry with the last verification.
func (n *narrativesModel) detailLines(e clarity.Entry, w int) []string {
	st := n.pc.styles
	now := n.pc.now()
	lw := 12
	kv := func(label, value string) string { return st.kv(label, value, lw, w) }
	mark, ms := resultMark(st, e.Record)
	head := ms.Render(mark+" ") + st.Value.Render(e.What)
	if e.Result != "" {
		head += st.Muted.Render(" → ") + ms.Render(e.Result)
	}
	lines := []string{fit(head, w),
		kv("when", e.When.In(now.Location()).Format("2006-01-02 15:04:05.000 MST")+" · "+fmtDur(now.Sub(e.When))+" ago"),
		kv("who", orDash(e.Who)),
		kv("where", orDash(e.Where)),
		kv("how", orDash(e.How)),
	}
	if e.IntentID != "" {
		lines = append(lines, cell(st.Label, "intent", lw)+st.Value.Render(clip(e.IntentID, w-lw-12))+
			st.Muted.Render(clip("  "+firstKey(n.pc.keys.Story)+": story", 11)))
	}
	// Clarity and the audit entry next: short, and what an auditor looks
	// for first.
	clar := cell(st.Label, "clarity", lw) + st.Label.Render("confidence ") + st.Value.Render(strconv.FormatFloat(e.Confidence, 'f', 2, 64)) +
		st.Label.Render(" · risk ") + riskText(st, e.Risk, 12) + st.Label.Render(" · ") + st.Value.Render(orDash(e.Transparency))
	lines = append(lines, fit(clar, w),
		kv("audit entry", "#"+fmtInt(e.Seq)+" (narrative #"+fmtInt(e.ID)+")"))
	lines = append(lines, wrapKV(st, "hash", orDash(e.Hash), lw, w)...)
	lines = append(lines, n.verifyLines(e, lw, w)...)

	section := func(title string) { lines = append(lines, "", st.TableHeader.Render(clip(title, w))) }
	section("WHY")
	why := e.Why
	if len(why) == 0 {
		why = []string{"—"}
	}
	lines = append(lines, bullets(st, why, w)...)
	if len(e.Context) > 0 {
		section("CONTEXT")
		if b, err := json.MarshalIndent(e.Context, "", "  "); err == nil {
			for _, l := range strings.Split(string(b), "\n") {
				lines = append(lines, st.Text.Render(clip("  "+l, w)))
			}
		}
	}
	return lines
}

// verifyLines says what the last audit verification found, as it bears on
// entry e, or how to run one.
func (n *narrativesModel) verifyLines(e clarity.Entry, lw, w int) []string {
	st := n.pc.styles
	v := n.verify
	label := cell(st.Label, "verified", lw)
	vw := w - lw
	key := firstKey(n.pc.keys.Verify)
	switch {
	case v.running:
		return []string{label + st.Muted.Render(clip("verifying the whole chain…", vw))}
	case !v.done:
		return []string{label + st.Muted.Render(clip("not yet · "+key+" verifies the whole chain now", vw))}
	case v.err != nil:
		return wrapLines(label, st.Crit, "✗ could not verify: "+v.err.Error(), lw, w)
	}
	at := v.at.In(n.pc.now().Location()).Format("15:04:05")
	r := v.rep
	if !r.OK && r.FirstBroken == 0 { // no entry is at fault: the checkpoints could not be checked
		out := wrapLines(label, st.Crit, "✗ chain not verified: "+r.Problem, lw, w)
		return append(out, cell(st.Label, "", lw)+st.Warn.Render(clip("▲ no entry can be vouched for until it verifies", vw)))
	}
	if !r.OK {
		out := wrapLines(label, st.Crit, "✗ chain broken at entry #"+fmtInt(r.FirstBroken)+": "+r.Problem, lw, w)
		if e.Seq >= r.FirstBroken && r.FirstBroken > 0 {
			out = append(out, cell(st.Label, "", lw)+st.Crit.Render(clip("✗ this entry is at or after the break: it cannot be trusted", vw)))
		} else {
			out = append(out, cell(st.Label, "", lw)+st.Warn.Render(clip("▲ this entry comes before the break", vw)))
		}
		return out
	}
	out := wrapLines(label, st.OK, "✓ chain intact at "+at+": "+fmtInt(r.Entries)+" entries, head #"+fmtInt(r.HeadSeq)+
		", "+plural(r.Checkpoints, "signed checkpoint")+" ("+key+" again)", lw, w)
	if e.Seq > r.HeadSeq {
		out = append(out, cell(st.Label, "", lw)+st.Warn.Render(clip("▲ this entry is newer than the verified head: "+key+" to verify again", vw)))
	} else {
		out = append(out, cell(st.Label, "", lw)+st.OK.Render(clip("✓ this entry is in the verified chain", vw)))
	}
	return out
}

// riskText is a risk figure with its level in words and a symbol.
func riskText(st *styles, risk float64, w int) string {
	v := strconv.FormatFloat(risk, 'f', 2, 64)
	switch {
	case risk >= 0.7:
		return st.Crit.Render(clip(v+" ✗ high", w))
	case risk >= 0.4:
		return st.Warn.Render(clip(v+" ▲ med", w))
	}
	return st.Value.Render(clip(v+" low", w))
}

// bullets renders reasons as a bulleted list, each wrapped to w cells.
func bullets(st *styles, items []string, w int) []string {
	var out []string
	for _, r := range items {
		for j, l := range strings.Split(ansi.Wordwrap(r, max(w-4, 1), " "), "\n") {
			prefix := "  • "
			if j > 0 {
				prefix = "    "
			}
			out = append(out, st.Text.Render(clip(prefix+l, w)))
		}
	}
	return out
}

// wrapKV renders a label and a long plain value (a hash) over as many lines
// as the value needs, breaking it anywhere.
func wrapKV(st *styles, label, value string, lw, w int) []string {
	vw := max(w-lw, 1)
	var out []string
	for len(value) > 0 {
		cut := min(len(value), vw)
		out = append(out, cell(st.Label, label, lw)+st.Value.Render(value[:cut]))
		value, label = value[cut:], ""
	}
	return out
}

// wrapLines renders text in style s after label (lw cells), wrapped at
// word boundaries to w cells.
func wrapLines(label string, s lipgloss.Style, text string, lw, w int) []string {
	var out []string
	for i, l := range strings.Split(ansi.Wrap(text, max(w-lw, 1), " "), "\n") {
		if i > 0 {
			label = strings.Repeat(" ", lw)
		}
		out = append(out, label+s.Render(clip(l, w-lw)))
	}
	return out
}

// plural writes n and noun, with an s unless n is 1.
func plural[T int | int64](n T, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmtInt(n) + " " + noun + "s"
}
