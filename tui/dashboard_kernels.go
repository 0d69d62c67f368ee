package tui

import (
	"strconv"
	"strings"
	"time"

	"github.com/charmbracelet/lipgloss"

	"grace/engine"
)

// Kernel grid cell widths: the narrowest cell with a heartbeat age, and
// the width from which a cell also names the state and the restarts.
const (
	kernelCellMin  = 19
	kernelCellWide = 44
)

// kernelMark is a kernel's state as a symbol, its style and a short word.
func kernelMark(st *styles, k engine.KernelInfo) (string, lipgloss.Style, string) {
	switch {
	case k.Isolated:
		return "⊘", st.Crit, "isolated"
	case k.Suspended:
		return "⊘", st.Warn, "suspended"
	}
	switch k.State {
	case "running":
		return "●", st.OK, "running"
	case "unresponsive":
		return "▲", st.Warn, "unresponsive"
	case "recovering":
		return "↻", st.Warn, "recovering"
	case "failed":
		return "✗", st.Crit, "failed"
	case "escalated":
		return "‼", st.Crit, "escalated"
	case "stopped":
		return "■", st.Muted, "stopped"
	}
	return "?", st.Muted, orDash(k.State)
}

// fmtAge writes a heartbeat age: milliseconds under a second, else fmtDur.
func fmtAge(ms int64, seen bool) string {
	if !seen {
		return "—"
	}
	if ms < 1000 {
		return strconv.FormatInt(max(ms, 0), 10) + "ms"
	}
	return fmtDur(time.Duration(ms) * time.Millisecond)
}

// kernelGridCols is how many cells a row of the grid holds in w cells:
// wide cells when they fit in at most seven rows, else as many narrow
// ones as fit. The grid fills down each column, so it takes only the
// columns its rows need (twenty kernels in six columns of four rows
// would leave the sixth empty), and the cells share out the width.
func kernelGridCols(n, w int) int {
	if n == 0 {
		return 1
	}
	cols := min(max(w/kernelCellMin, 1), n)
	if wide := w / kernelCellWide; wide > 0 && (n+wide-1)/wide <= 7 {
		cols = min(wide, n)
	}
	rows := (n + cols - 1) / cols
	return (n + rows - 1) / rows
}

// kernelTitle sums the kernels up in w cells: how many in each state, in
// words, or by symbol when the words do not fit, and the critical
// marker's legend.
func (d *dashboardModel) kernelTitle(ks []engine.KernelInfo, w int) string {
	counts := map[string]int{}
	syms := map[string]string{}
	var order []string
	for _, k := range ks {
		sym, _, word := kernelMark(d.pc.styles, k)
		if counts[word] == 0 {
			order = append(order, word)
			syms[word] = sym
		}
		counts[word]++
	}
	// Marked when the snapshot is old: the kernels' states are not now's.
	name := d.staleTitle("Layer 1 kernels")
	words := []string{name}
	short := []string{name}
	for _, word := range order {
		words = append(words, strconv.Itoa(counts[word])+" "+word)
		short = append(short, syms[word]+strconv.Itoa(counts[word])+" "+word)
	}
	title := strings.Join(words, " · ") + " · ◆ critical"
	if len([]rune(title)) > w {
		title = strings.Join(short, " ") + " · ◆ critical"
	}
	if len([]rune(title)) > w {
		title = name
		for _, word := range order {
			title += " " + syms[word] + strconv.Itoa(counts[word])
		}
		title += " · ◆ critical"
	}
	return title
}

// kernelLines lays the kernels out in a grid of w cells, in boot order
// down each column: symbol, ◆ when critical, name and heartbeat age; wide
// cells add the state word and restarts.
func (d *dashboardModel) kernelLines(ks []engine.KernelInfo, w int) []string {
	cols := kernelGridCols(len(ks), w)
	rows := (len(ks) + cols - 1) / cols
	cw := w / cols
	lines := make([]string, rows)
	for r := range rows {
		var b strings.Builder
		for c := range cols {
			i := c*rows + r
			if i >= len(ks) {
				b.WriteString(fit("", cw))
				continue
			}
			b.WriteString(d.kernelCell(ks[i], cw))
		}
		lines[r] = fit(b.String(), w)
	}
	return lines
}

// kernelCell is one kernel in cw cells (the last one is air).
func (d *dashboardModel) kernelCell(k engine.KernelInfo, cw int) string {
	st := d.pc.styles
	sym, style, word := kernelMark(st, k)
	crit := " "
	nameSt := st.Text
	if k.Critical {
		crit, nameSt = "◆", st.Value
	}
	age := fmtAge(k.HeartbeatAgeMS, !k.LastHeartbeat.IsZero() || k.Heartbeats > 0)
	ageSt := st.Muted
	if k.MissedChecks > 0 {
		ageSt = st.Warn
	}
	inner := cw - 1
	head := style.Render(sym) + st.Accent.Render(crit) + " "
	if cw >= kernelCellWide {
		restarts := ""
		if k.Restarts > 0 {
			restarts = "↻" + strconv.Itoa(k.Restarts)
		}
		nameW := min(inner-3-1-12-1-6-1-4, 16)
		return fit(head+cell(nameSt, k.Name, nameW)+" "+style.Render(fit(word, 12))+" "+ageSt.Render(fitRight(age, 6))+" "+
			st.Warn.Render(fit(restarts, 4)), cw)
	}
	if cw >= kernelCellMin {
		nameW := inner - 3 - 1 - 5
		return fit(head+cell(nameSt, k.Name, nameW)+" "+ageSt.Render(fitRight(clip(age, 5), 5)), cw)
	}
	return fit(head+cell(nameSt, k.Name, max(inner-3, 1)), cw)
}

// kernelPanel is the Layer 1 grid as a panel w cells wide, or nil when the
// snapshot has no kernels or maxH leaves no room for every row.
func (d *dashboardModel) kernelPanel(s engine.Snapshot, w, maxH int) []string {
	if len(s.Kernels) == 0 {
		return nil
	}
	lines := d.kernelLines(s.Kernels, w-4)
	if len(lines)+2 > maxH {
		return nil
	}
	return d.pc.styles.panel(d.kernelTitle(s.Kernels, w-6), lines, w, len(lines)+2)
}

// kernelGridH is the height the kernel panel takes at width w (0 without
// kernels).
func kernelGridH(s engine.Snapshot, w int) int {
	n := len(s.Kernels)
	if n == 0 {
		return 0
	}
	cols := kernelGridCols(n, w-4)
	return (n+cols-1)/cols + 2
}
