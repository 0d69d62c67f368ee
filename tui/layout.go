package tui

import (
	"strings"

	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"
)

// Layout helpers. Every line the console draws goes through fit or cell,
// so nothing wraps: text that does not fit is cut with "…" and short text
// is padded, giving each line an exact width in cells.

// fit cuts s (which may hold ANSI styles) to w cells, ending in "…" when
// cut, and pads it with spaces to exactly w cells.
func fit(s string, w int) string {
	if w <= 0 {
		return ""
	}
	sw := ansi.StringWidth(s)
	if sw > w {
		s = ansi.Truncate(s, w, "…")
		sw = ansi.StringWidth(s)
	}
	if sw < w {
		s += strings.Repeat(" ", w-sw)
	}
	return s
}

// clipStyled cuts s (which may hold ANSI styles) to at most w cells,
// ending in "…" when cut.
func clipStyled(s string, w int) string {
	if w <= 0 {
		return ""
	}
	if ansi.StringWidth(s) <= w {
		return s
	}
	return ansi.Truncate(s, w, "…")
}

// fitRight is fit with the text aligned to the right.
func fitRight(s string, w int) string {
	if w <= 0 {
		return ""
	}
	sw := ansi.StringWidth(s)
	if sw > w {
		return fit(s, w)
	}
	return strings.Repeat(" ", w-sw) + s
}

// clip cuts plain text s to at most w cells, ending in "…" when cut.
func clip(s string, w int) string {
	if w <= 0 {
		return ""
	}
	if ansi.StringWidth(s) <= w {
		return s
	}
	return ansi.Truncate(s, w, "…")
}

// clipMiddle cuts plain text s to at most w cells by eliding its middle,
// keeping both ends: IDs differ at the end as often as at the start.
func clipMiddle(s string, w int) string {
	if ansi.StringWidth(s) <= w {
		return s
	}
	if w < 5 {
		return clip(s, w)
	}
	r := []rune(s)
	head := (w - 1) / 2
	tail := w - 1 - head
	return string(r[:head]) + "…" + string(r[len(r)-tail:])
}

// cell renders plain text s in style st, cut and padded to exactly w cells.
// Cutting before styling keeps the escape codes whole.
func cell(st lipgloss.Style, s string, w int) string {
	if w <= 0 {
		return ""
	}
	return st.Render(fit(s, w))
}

// cellRight is cell aligned to the right.
func cellRight(st lipgloss.Style, s string, w int) string {
	if w <= 0 {
		return ""
	}
	return st.Render(fitRight(clip(s, w), w))
}

// blank returns h empty lines of width w.
func blank(w, h int) []string {
	if h <= 0 {
		return nil
	}
	line := strings.Repeat(" ", max(w, 0))
	out := make([]string, h)
	for i := range out {
		out[i] = line
	}
	return out
}

// panel draws lines inside a rounded border of exactly w×h cells, with the
// title set into the top edge. Lines past the panel's height are dropped;
// missing lines are blank.
func (st *styles) panel(title string, lines []string, w, h int) []string {
	return frame(st.Border, st.PanelTitle, title, lines, w, h)
}

// frame is panel with the border and title styles given.
func frame(border, titleSt lipgloss.Style, title string, lines []string, w, h int) []string {
	if w < 6 || h < 2 {
		return blank(w, h)
	}
	inner := w - 4
	title = clip(title, w-6)
	tw := ansi.StringWidth(title)
	out := make([]string, 0, h)
	out = append(out, border.Render("╭─ ")+titleSt.Render(title)+
		border.Render(" "+strings.Repeat("─", max(w-5-tw, 0))+"╮"))
	left, right := border.Render("│ "), border.Render(" │")
	for i := 0; i < h-2; i++ {
		var l string
		if i < len(lines) {
			l = lines[i]
		}
		out = append(out, left+fit(l, inner)+right)
	}
	out = append(out, border.Render("╰"+strings.Repeat("─", w-2)+"╯"))
	return out
}

// hjoin places columns of lines side by side. Each column's lines must share
// one width; a column shorter than the others is padded with blank lines.
func hjoin(cols ...[]string) []string {
	h := 0
	widths := make([]int, len(cols))
	for i, c := range cols {
		h = max(h, len(c))
		if len(c) > 0 {
			widths[i] = ansi.StringWidth(c[0])
		}
	}
	out := make([]string, h)
	var b strings.Builder
	for r := 0; r < h; r++ {
		b.Reset()
		for i, c := range cols {
			if r < len(c) {
				b.WriteString(c[r])
			} else {
				b.WriteString(strings.Repeat(" ", widths[i]))
			}
		}
		out[r] = b.String()
	}
	return out
}

// split divides total cells into n widths that differ by at most one.
func split(total, n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = total / n
		if i < total%n {
			out[i]++
		}
	}
	return out
}

// overlay draws fg over bg with fg's top-left corner at column x, row y.
// bg lines must be at least x+width(fg) cells wide.
func overlay(bg, fg []string, x, y int) []string {
	out := make([]string, len(bg))
	copy(out, bg)
	for i, l := range fg {
		r := y + i
		if r < 0 || r >= len(out) {
			continue
		}
		fw := ansi.StringWidth(l)
		base := out[r]
		left := ansi.Truncate(base, x, "")
		if strings.Contains(left, "\x1b") {
			left += "\x1b[0m" // close any style cut open at the seam
		}
		out[r] = left + l + ansi.TruncateLeft(base, x+fw, "")
	}
	return out
}

// flow lays items out left to right separated by sep, starting a new line
// when the next item would pass width w.
func flow(items []string, sep string, w int) []string {
	var lines []string
	var cur strings.Builder
	curW := 0
	sepW := ansi.StringWidth(sep)
	for _, it := range items {
		iw := ansi.StringWidth(it)
		if curW > 0 && curW+sepW+iw > w {
			lines = append(lines, cur.String())
			cur.Reset()
			curW = 0
		}
		if curW > 0 {
			cur.WriteString(sep)
			curW += sepW
		}
		cur.WriteString(it)
		curW += iw
	}
	if curW > 0 {
		lines = append(lines, cur.String())
	}
	return lines
}

// ynAnswer is what every yes/no question ends with.
const ynAnswer = "(y/N)"

// askLine is a yes/no question q in w cells, ending in "(y/N)" however
// narrow: a question that does not fit is cut, not its answer, so the
// operator always sees that No is the default.
func askLine(st *styles, q string, w int) string {
	room := w - ansi.StringWidth(ynAnswer)
	if ansi.StringWidth(q) > room {
		q = clip(q, room-1) + " "
	}
	return fit(st.Prompt.Render(q)+st.Value.Render(ynAnswer), w)
}
