package tui

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/charmbracelet/x/ansi"

	"grace/engine/intent"
)

// soonDeadline is when a pending approval's deadline is flagged as near.
const soonDeadline = 5 * time.Minute

// view renders the list (and, when wide, the selected intent beside it) or
// the full-size detail, with one prompt line at the bottom.
func (a *approvalsModel) view() []string {
	w, h := a.w, a.h
	if w <= 0 || h <= 0 {
		return nil
	}
	st := a.pc.styles
	bodyH := max(h-1, 0)
	var out []string
	it, ok := a.selected()
	switch {
	case a.detail && ok:
		out = st.panel("Intent "+it.ID, a.detailLines(it, w-4, bodyH-2), w, bodyH)
	case w >= splitLayout && ok:
		lw := w * 11 / 20
		out = hjoin(
			st.panel(a.countTitle(), a.listLines(lw-4, bodyH-2), lw, bodyH),
			st.panel("Intent "+it.ID, a.detailLines(it, w-lw-4, bodyH-2), w-lw, bodyH),
		)
	default:
		out = st.panel(a.countTitle(), a.listLines(w-4, bodyH-2), w, bodyH)
	}
	out = append(out, a.promptLine(w))
	for len(out) < h {
		out = append(out, fit("", w))
	}
	return out[:h]
}

// promptLine is the decider's prompt, or the selected intent's first reason.
func (a *approvalsModel) promptLine(w int) string {
	if line := a.decider.view(a.pc, w); line != "" {
		return fit(line, w)
	}
	st := a.pc.styles
	if it, ok := a.selected(); ok && !a.detail {
		return fit(st.Label.Render("why ")+st.Muted.Render(firstReason(it.Decision.Reasoning)), w)
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
	return c
}

// listLines renders the table of pending intents, scrolled so the cursor
// stays in view.
func (a *approvalsModel) listLines(w, h int) []string {
	st := a.pc.styles
	if !a.loaded {
		return []string{st.Muted.Render("loading…")}
	}
	if len(a.items) == 0 {
		return []string{
			st.OK.Render("✓ ") + st.Text.Render(clip("Nothing is waiting for a human.", w-2)),
			st.Muted.Render(clip("Tier 0 intents appear here, and pop up on any screen, as they arrive.", w)),
		}
	}
	c := listColumns(w)
	header := "  " + fit("ID", c.id) + " " + fit("TYPE", c.typ) + " " + fit("ACTOR", c.actor) + " " +
		fit("TIER", c.tier) + " " + fitRight("ALIGN", c.align) + " " + fitRight("AGE", c.age) + " " + fit("DEADLINE", c.deadline)
	if c.reason > 0 {
		header += " " + fit("WHY", c.reason)
	}
	lines := []string{st.TableHeader.Render(fit(header, w))}

	rows := max(h-1, 1)
	if a.cursor < a.offset {
		a.offset = a.cursor
	}
	if a.cursor >= a.offset+rows {
		a.offset = a.cursor - rows + 1
	}
	a.offset = min(a.offset, max(len(a.items)-rows, 0))
	now := a.pc.now()
	for i := a.offset; i < len(a.items) && len(lines) <= rows; i++ {
		it := a.items[i]
		mark, text := "  ", st.Text
		if i == a.cursor {
			mark, text = "› ", st.Selected
		}
		deadline := fmtDeadline(it.Deadline, now)
		dlStyle := st.Muted
		if !it.Deadline.IsZero() && it.Deadline.Sub(now) < soonDeadline {
			deadline, dlStyle = "▲ "+deadline, st.Warn
		}
		line := text.Render(mark) + cell(text, clipMiddle(it.ID, c.id), c.id) + " " + cell(text, it.Type, c.typ) + " " +
			cell(st.Text, it.Actor, c.actor) + " " + cell(st.Text, strconv.Itoa(it.Tier), c.tier) + " " +
			cellRight(st.Text, strconv.FormatFloat(it.Decision.Alignment, 'f', 2, 64), c.align) + " " +
			cellRight(st.Muted, fmtDur(now.Sub(it.CreatedAt)), c.age) + " " + cell(dlStyle, deadline, c.deadline)
		if c.reason > 0 {
			line += " " + cell(st.Muted, firstReason(it.Decision.Reasoning), c.reason)
		}
		lines = append(lines, line)
	}
	if more := len(a.items) - a.offset - rows; more > 0 && len(lines) > 1 {
		lines[len(lines)-1] = st.Muted.Render(fit("  ↓ "+strconv.Itoa(more+1)+" more", w))
	}
	return lines
}

// detailLines renders everything known about one pending intent: who and
// what, the router's verdict and reasoning, age and deadline, and the
// payload pretty-printed (scrolled by a.scroll).
func (a *approvalsModel) detailLines(it intent.Intent, w, h int) []string {
	st := a.pc.styles
	now := a.pc.now()
	loc := now.Location()
	lw := 11
	kv := func(label, value string, width int) string { return st.kv(label, value, lw, width) }

	deadline := fmtDeadline(it.Deadline, now)
	if !it.Deadline.IsZero() {
		deadline += " (" + it.Deadline.In(loc).Format("15:04:05") + ")"
		if it.Deadline.Sub(now) < soonDeadline {
			deadline = "▲ " + deadline
		}
	}
	pairs := [][2]string{
		{"actor", it.Actor}, {"type", it.Type},
		{"tier", tierText(it.Tier)}, {"routed to", it.Decision.RoutedTo},
		{"alignment", strconv.FormatFloat(it.Decision.Alignment, 'f', 2, 64)}, {"priority", strconv.Itoa(it.Priority)},
		{"age", fmtDur(now.Sub(it.CreatedAt)) + " (" + it.CreatedAt.In(loc).Format("15:04:05") + ")"}, {"deadline", deadline},
	}
	lines := []string{st.Warn.Render(fit("⚑ "+stateLabel(it.State)+" · waiting for a human", w))}
	if w >= 60 {
		half := w / 2
		for i := 0; i < len(pairs); i += 2 {
			lines = append(lines, kv(pairs[i][0], pairs[i][1], half)+kv(pairs[i+1][0], pairs[i+1][1], w-half))
		}
	} else {
		for _, p := range pairs {
			lines = append(lines, kv(p[0], p[1], w))
		}
	}
	if len(it.Context) > 0 {
		if b, err := json.Marshal(it.Context); err == nil {
			lines = append(lines, kv("context", string(b), w))
		}
	}

	lines = append(lines, "", st.TableHeader.Render("REASONING"))
	reasons := it.Decision.Reasoning
	if len(reasons) == 0 {
		reasons = []string{"—"}
	}
	for _, r := range reasons {
		for j, l := range strings.Split(ansi.Wordwrap(r, max(w-4, 1), " "), "\n") {
			prefix := "  • "
			if j > 0 {
				prefix = "    "
			}
			lines = append(lines, st.Text.Render(clip(prefix+l, w)))
		}
	}

	payload := a.pretty.lines(it)
	room := h - len(lines) - 2
	a.payloadRoom = max(room, 1) // remembered so scrolling stops at the end
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

// prettyCache holds the pretty-printed payload of the last intent shown, so
// scrolling does not re-indent it on every frame.
type prettyCache struct {
	id   string
	text []string
}

// lines returns it's payload as indented JSON lines (or the raw text when it
// is not valid JSON).
func (p *prettyCache) lines(it intent.Intent) []string {
	if p.id == it.ID && p.text != nil {
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
	p.id, p.text = it.ID, strings.Split(strings.TrimRight(buf.String(), "\n"), "\n")
	return p.text
}
