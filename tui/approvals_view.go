package tui

import (
	"bytes"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"

	"grace/engine/intent"
)

// soonDeadline is when a pending approval's deadline is flagged as near.
const soonDeadline = 5 * time.Minute

// view renders the section bar, then the list (and, when wide, the
// selected intent beside it) or the full-size detail, with one prompt line
// at the bottom.
func (a *approvalsModel) view() []string {
	w, h := a.w, a.h
	if w <= 0 || h <= 0 {
		return nil
	}
	st := a.pc.styles
	out := []string{a.sectionBar(w)}
	bodyH := max(h-2, 0)
	it, ok := a.selected()
	switch {
	case a.detail && ok:
		out = append(out, st.panel("Intent "+it.ID, a.detailLines(it, w-4, bodyH-2), w, bodyH)...)
	case w >= splitLayout && ok:
		lw := w * 11 / 20
		out = append(out, hjoin(
			st.panel(a.countTitle(), a.listLines(lw-4, bodyH-2), lw, bodyH),
			st.panel("Intent "+it.ID, a.detailLines(it, w-lw-4, bodyH-2), w-lw, bodyH),
		)...)
	default:
		out = append(out, st.panel(a.countTitle(), a.listLines(w-4, bodyH-2), w, bodyH)...)
	}
	out = append(out, a.promptLine(w))
	for len(out) < h {
		out = append(out, fit("", w))
	}
	return out[:h]
}

// sectionBar names the two sections, the one on show marked, and the keys
// that switch them.
func (a *approvalsModel) sectionBar(w int) string {
	st := a.pc.styles
	pending, review := a.sectionTitles()
	tab := func(label string, on bool) string {
		if on {
			return st.TabActive.Render("[" + label + "]")
		}
		return st.Tab.Render(" " + label + " ")
	}
	bar := " " + tab("⚑ "+pending, a.section == sectionPending) + " " + tab("✓ "+review, a.section == sectionReview)
	if a.reviewRunning > 0 && a.section == sectionReview {
		bar += st.Muted.Render(" · " + strconv.Itoa(a.reviewRunning) + " still running")
	}
	hint := st.Muted.Render(firstKey(a.pc.keys.PrevSection) + "/" + firstKey(a.pc.keys.NextSection) + " switch ")
	room := w - ansi.StringWidth(hint)
	// A cell between the bar and the hint: the bar may end in a word.
	if ansi.StringWidth(bar)+1 > room {
		return fit(bar, w)
	}
	return fit(bar, room) + hint
}

// promptLine is the decider's prompt, the filter being typed, or the
// selected intent's first reason.
func (a *approvalsModel) promptLine(w int) string {
	if line := a.decider.view(a.pc, w); line != "" {
		return fit(line, w)
	}
	if a.filter.editing {
		return a.filter.view(a.pc.styles, w)
	}
	st := a.pc.styles
	if it, ok := a.selected(); ok && !a.detail {
		why := firstReason(it.Decision.Reasoning)
		if a.section == sectionReview && it.LastError != "" {
			why = it.LastError
		}
		return fit(st.Label.Render("why ")+st.Muted.Render(why), w)
	}
	return fit("", w)
}

// approvalCols sizes the list's columns for w cells.
type approvalCols struct{ id, typ, actor, tier, align, age, deadline, reason int }

func listColumns(w int) approvalCols {
	c := approvalCols{tier: 4, align: 5, age: 6, deadline: 11}
	fixed := 2 + c.tier + 1 + c.align + 1 + c.age + 1 + c.deadline
	flex := max(w-fixed-3, 0)
	c.id = min(max(flex*2/5, 12), 30)
	c.typ = min(max((flex-c.id)/2, 10), 26)
	c.actor = max(flex-c.id-c.typ, 0)
	if c.actor > 22 {
		c.reason = c.actor - 22 - 1
		c.actor = 22
	}
	if c.reason < 10 {
		c.reason = 0 // too narrow to say anything
	}
	return c
}

// listLines renders the section on show, scrolled so the cursor stays in
// view.
func (a *approvalsModel) listLines(w, h int) []string {
	st := a.pc.styles
	l := a.list()
	if !l.loaded && l.failed != "" {
		lines := []string{st.Crit.Render(clip("✗ This list could not be fetched; "+firstKey(a.pc.keys.Refresh)+" tries again.", w))}
		return append(lines, wrapLines("", st.Muted, l.failed, 0, w)...)
	}
	if !l.loaded {
		return []string{st.Muted.Render("loading…")}
	}
	if len(l.items) == 0 {
		if a.section == sectionReview {
			return []string{
				st.OK.Render("✓ ") + st.Text.Render(clip("No Tier 1 intent awaits review.", w-2)),
				st.Muted.Render(clip("Tier 1 intents run at once and are listed here when they finish.", w)),
			}
		}
		return []string{
			st.OK.Render("✓ ") + st.Text.Render(clip("Nothing is waiting for a human.", w-2)),
			st.Muted.Render(clip("Tier 0 intents appear here, and pop up on any screen, as they arrive.", w)),
		}
	}
	if l.len() == 0 {
		return []string{st.Muted.Render(clip("Nothing matches the filter “"+l.filter+"” (esc clears it).", w))}
	}
	var header string
	var row func(it intent.Intent, text lipgloss.Style) string
	if a.section == sectionReview {
		header, row = a.reviewColumns(w)
	} else {
		header, row = a.pendingColumns(w)
	}
	lines := []string{st.TableHeader.Render(fit(header, w))}
	rows, scrolls := listRows(l.len(), h-1)
	l.offset = window(l.cursor, l.offset, l.len(), rows)
	for i := l.offset; i < l.len() && i < l.offset+rows; i++ {
		mark, text := "  ", st.Text
		if i == l.cursor {
			mark, text = "› ", st.Selected
		}
		lines = append(lines, text.Render(mark)+row(l.at(i), text))
	}
	if scrolls {
		lines = append(lines, st.Muted.Render(fit("  "+scrollHint(l.offset, l.len()-l.offset-rows), w)))
	}
	return lines
}

// pendingColumns is the pending table's header and row renderer for w
// cells.
func (a *approvalsModel) pendingColumns(w int) (string, func(intent.Intent, lipgloss.Style) string) {
	st := a.pc.styles
	c := listColumns(w)
	header := "  " + fit("ID", c.id) + " " + fit("TYPE", c.typ) + " " + fit("ACTOR", c.actor) + " " +
		fit("TIER", c.tier) + " " + fitRight("ALIGN", c.align) + " " + fitRight("AGE", c.age) + " " + fit("DEADLINE", c.deadline)
	if c.reason > 0 {
		header += " " + fit("WHY", c.reason)
	}
	now := a.pc.now()
	return header, func(it intent.Intent, text lipgloss.Style) string {
		deadline := fmtDeadline(it.Deadline, now)
		dlStyle := st.Muted
		if !it.Deadline.IsZero() && it.Deadline.Sub(now) < soonDeadline {
			deadline, dlStyle = "▲ "+deadline, st.Warn
		}
		line := cell(text, clipMiddle(it.ID, c.id), c.id) + " " + cell(text, it.Type, c.typ) + " " +
			cell(st.Text, it.Actor, c.actor) + " " + cell(st.Text, strconv.Itoa(it.Tier), c.tier) + " " +
			cellRight(st.Text, strconv.FormatFloat(it.Decision.Alignment, 'f', 2, 64), c.align) + " " +
			cellRight(st.Muted, fmtDur(now.Sub(it.CreatedAt)), c.age) + " " + cell(dlStyle, deadline, c.deadline)
		if c.reason > 0 {
			line += " " + cell(st.Muted, firstReason(it.Decision.Reasoning), c.reason)
		}
		return line
	}
}

// reviewColumns is the review table's header and row renderer for w
// cells: what ran, how it ended and when.
func (a *approvalsModel) reviewColumns(w int) (string, func(intent.Intent, lipgloss.Style) string) {
	st := a.pc.styles
	c := listColumns(w) // same shape: id, type, actor; then state, age, worker
	stateW, ageW := 11, 6
	// The last three columns take the room of the pending table's four.
	workerW := max(c.tier+c.align+c.age+c.deadline+3-(stateW+ageW+2), 0)
	header := "  " + fit("ID", c.id) + " " + fit("TYPE", c.typ) + " " + fit("ACTOR", c.actor) + " " +
		fit("OUTCOME", stateW) + " " + fitRight("ENDED", ageW) + " " + fit("WORKER", workerW)
	if c.reason > 0 {
		header += " " + fit("WHY", c.reason)
	}
	now := a.pc.now()
	return header, func(it intent.Intent, text lipgloss.Style) string {
		mark, ms := stateMark(st, it.State)
		line := cell(text, clipMiddle(it.ID, c.id), c.id) + " " + cell(text, it.Type, c.typ) + " " +
			cell(st.Text, it.Actor, c.actor) + " " + ms.Render(fit(mark+" "+stateLabel(it.State), stateW)) + " " +
			cellRight(st.Muted, fmtDur(now.Sub(it.UpdatedAt)), ageW) + " " + cell(st.Muted, it.Worker, workerW)
		if c.reason > 0 {
			why := firstReason(it.Decision.Reasoning)
			if it.LastError != "" {
				why = it.LastError
			}
			line += " " + cell(st.Muted, why, c.reason)
		}
		return line
	}
}

// stateMark is a state's symbol and style: ✓ completed, ✗ failed and the
// other refusals, ⚑ waiting for a human, · otherwise.
func stateMark(st *styles, s intent.State) (string, lipgloss.Style) {
	switch s {
	case intent.StateCompleted:
		return "✓", st.OK
	case intent.StateFailed, intent.StateDenied, intent.StateExpired, intent.StateShed:
		return "✗", st.Crit
	case intent.StatePendingApproval:
		return "⚑", st.Warn
	}
	return "·", st.Muted
}

// detailLines renders everything known about one intent: who and what,
// the router's verdict and reasoning, age and deadline (or, for a Tier 1
// intent awaiting review, how it ended), and the payload pretty-printed
// (scrolled by a.scroll).
func (a *approvalsModel) detailLines(it intent.Intent, w, h int) []string {
	st := a.pc.styles
	now := a.pc.now()
	lw := 11
	kv := func(label, value string, width int) string { return st.kv(label, value, lw, width) }

	age := fmtDur(now.Sub(it.CreatedAt)) + " (" + clockAt(it.CreatedAt, now) + ")"
	var pairs [][2]string
	var lines []string
	if a.section == sectionReview {
		ended := fmtDur(now.Sub(it.UpdatedAt)) + " ago (" + clockAt(it.UpdatedAt, now) + ")"
		pairs = [][2]string{
			{"actor", it.Actor}, {"type", it.Type},
			{"tier", tierText(it.Tier)}, {"routed to", it.Decision.RoutedTo},
			{"worker", orDash(it.Worker)}, {"attempts", strconv.Itoa(it.Attempts)},
			{"created", age}, {"ended", ended},
		}
		mark, ms := stateMark(st, it.State)
		lines = append(lines, ms.Render(fit(mark+" "+stateLabel(it.State)+" · awaiting review", w)))
		if it.LastError != "" {
			pairs = append(pairs, [2]string{"last error", it.LastError}, [2]string{"priority", strconv.Itoa(it.Priority)})
		}
	} else {
		deadline := fmtDeadline(it.Deadline, now)
		if !it.Deadline.IsZero() {
			deadline += " (" + clockAt(it.Deadline, now) + ")"
			if it.Deadline.Sub(now) < soonDeadline {
				deadline = "▲ " + deadline
			}
		}
		pairs = [][2]string{
			{"actor", it.Actor}, {"type", it.Type},
			{"tier", tierText(it.Tier)}, {"routed to", it.Decision.RoutedTo},
			{"alignment", strconv.FormatFloat(it.Decision.Alignment, 'f', 2, 64)}, {"priority", strconv.Itoa(it.Priority)},
			{"age", age}, {"deadline", deadline},
		}
		lines = append(lines, st.Warn.Render(fit("⚑ "+stateLabel(it.State)+" · waiting for a human", w)))
	}
	if w >= 60 {
		half := w / 2
		i := 0
		if ansi.StringWidth(pairs[0][1]) > half-1-lw || ansi.StringWidth(pairs[1][1]) > w-half-lw {
			// Who asked and for what, whole: a line each (wrapped) rather
			// than cut to half a line, since the operator decides on them.
			for _, p := range pairs[:2] {
				lines = append(lines, wrapLines(cell(st.Label, p[0], lw), st.Value, p[1], lw, w)...)
			}
			i = 2
		}
		for ; i < len(pairs); i += 2 {
			lines = append(lines, kv(pairs[i][0], pairs[i][1], half-1)+" "+kv(pairs[i+1][0], pairs[i+1][1], w-half))
		}
	} else {
		for j, p := range pairs {
			if j < 2 { // actor and type whole
				lines = append(lines, wrapLines(cell(st.Label, p[0], lw), st.Value, p[1], lw, w)...)
				continue
			}
			lines = append(lines, kv(p[0], p[1], w))
		}
	}
	if first := it.FirstApprover(); first != "" && a.section != sectionReview {
		// Under the two-person rule: this operator may approve only if
		// they are not the first.
		v := first + " approved, 1 of the 2 needed: a second, different operator must approve"
		if it.DecisionReason != "" {
			v += " (" + it.DecisionReason + ")"
		}
		lines = append(lines, wrapLines(cell(st.Label, "approvals", lw), st.Warn, v, lw, w)...)
	}
	if a.section != sectionReview && it.NotBefore.After(now) {
		// A scheduled intent: approved, it still waits for its time.
		lines = append(lines, kv("scheduled", "not before "+clockAt(it.NotBefore, now)+" (in "+fmtDur(it.NotBefore.Sub(now))+")", w))
	}
	if len(it.Context) > 0 {
		if b, err := json.Marshal(it.Context); err == nil {
			lines = append(lines, wrapLines(cell(st.Label, "context", lw), st.Value, string(b), lw, w)...)
		}
	}

	lines = append(lines, "", st.TableHeader.Render("REASONING"))
	reasons := it.Decision.Reasoning
	if len(reasons) == 0 {
		reasons = []string{"—"}
	}
	for _, r := range reasons {
		for j, l := range strings.Split(ansi.Wrap(r, max(w-4, 1), " "), "\n") {
			prefix := "  • "
			if j > 0 {
				prefix = "    "
			}
			lines = append(lines, st.Text.Render(clip(prefix+l, w)))
		}
	}

	a.payloadW = w - 2 // the payload's indentation aside
	payload := a.pretty.lines(it, a.payloadW)
	room := h - len(lines) - 2
	a.payloadRoom = max(room, 1) // remembered so scrolling stops at the end
	a.wholeMax = -1
	if room < minPayloadRoom && len(payload) > max(room, 0) {
		return a.wholeDetail(append(lines, "", st.TableHeader.Render(clip("PAYLOAD", w))), payload, w, h)
	}
	head := "PAYLOAD"
	if len(payload) > room && room > 0 {
		head += " · lines " + strconv.Itoa(a.scroll+1) + "–" + strconv.Itoa(min(a.scroll+room, len(payload))) + " of " + strconv.Itoa(len(payload))
	}
	lines = append(lines, "", st.TableHeader.Render(clip(head, w)))
	start := min(a.scroll, max(len(payload)-1, 0))
	for i := start; i < len(payload) && len(lines) < h; i++ {
		lines = append(lines, st.Text.Render(clip("  "+payload[i], w)))
	}
	return lines
}

// minPayloadRoom is the fewest payload lines the detail shows under its
// reasoning before the whole detail scrolls instead of the payload alone.
const minPayloadRoom = 3

// wholeDetail is the detail of an intent whose facts and reasoning leave
// the payload too little room (a small terminal, long reasons): head and
// payload scroll together with j/k, so no part of the payload is out of
// reach, with what is left below said on the last line.
func (a *approvalsModel) wholeDetail(head, payload []string, w, h int) []string {
	if h <= 0 {
		return nil
	}
	st := a.pc.styles
	all := head
	for _, l := range payload {
		all = append(all, st.Text.Render(clip("  "+l, w)))
	}
	a.wholeMax = max(len(all)-h, 0)
	start := min(a.scroll, a.wholeMax)
	end := min(start+h, len(all))
	out := slices.Clone(all[start:end])
	if below := len(all) - end; below > 0 && len(out) > 0 {
		out[len(out)-1] = st.Muted.Render(clip("↓ "+plural(below+1, "more line")+" · j scrolls", w))
	}
	return out
}

// prettyCache holds the pretty-printed payload of the last intent shown, so
// scrolling does not re-indent it on every frame.
type prettyCache struct {
	id   string
	w    int
	text []string
}

// lines returns it's payload as indented JSON lines (or the raw text when it
// is not valid JSON), a line longer than w cells wrapped under its
// indentation, so that nothing of it is cut from the operator's sight.
func (p *prettyCache) lines(it intent.Intent, w int) []string {
	if p.id == it.ID && p.w == w && p.text != nil {
		return p.text
	}
	var buf bytes.Buffer
	raw := it.Payload
	if len(raw) == 0 {
		raw = []byte("{}")
	}
	if err := json.Indent(&buf, raw, "", "  "); err != nil {
		buf.Reset()
		buf.Write(raw)
	}
	var out []string
	for _, l := range strings.Split(strings.TrimRight(buf.String(), "\n"), "\n") {
		if ansi.StringWidth(l) <= w || w < 8 {
			out = append(out, l)
			continue
		}
		body := strings.TrimLeft(l, " ")
		ind := strings.Repeat(" ", min(len(l)-len(body)+2, w/2))
		// Nesting deeper than half the width starts at half the width
		// too: indented further, the line would show nothing but "…".
		first := min(len(l)-len(body), w/2)
		for i, part := range strings.Split(ansi.Wrap(body, w-len(ind), " "), "\n") {
			if i == 0 {
				out = append(out, l[:first]+part)
				continue
			}
			out = append(out, ind+part)
		}
	}
	p.id, p.w, p.text = it.ID, w, out
	return p.text
}
