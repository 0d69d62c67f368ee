package tui

import (
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"grace/engine"
)

// depthSamples is how many queue-depth samples the dashboard keeps: ten
// minutes at the default one-second refresh.
const depthSamples = 600

// wideLayout is the width from which the dashboard shows a per-worker panel.
const wideLayout = 120

// dashboardModel is screen 1: the engine at a glance. It renders the latest
// snapshot held in the program context and keeps its own history of queue
// depth for the sparkline.
type dashboardModel struct {
	pc    *programContext
	depth ring[sample]
	// filter narrows the recent decisions ("/"); recentFilter is the
	// filter in force.
	filter       filterBox
	recentFilter string
	w, h         int
}

// sample is one queue-depth reading and when it was taken.
type sample struct {
	at    time.Time
	depth int
}

// newDashboard returns the dashboard screen.
func newDashboard(pc *programContext) *dashboardModel {
	return &dashboardModel{pc: pc, depth: newRing[sample](depthSamples), filter: newFilterBox()}
}

func (d *dashboardModel) id() screenID     { return screenDashboard }
func (d *dashboardModel) title() string    { return "Dashboard" }
func (d *dashboardModel) focus() tea.Cmd   { return nil }
func (d *dashboardModel) capturing() bool  { return d.filter.editing }
func (d *dashboardModel) setSize(w, h int) { d.w, d.h = w, h }

// record keeps s's queue depth, taken at at, for the sparkline.
func (d *dashboardModel) record(s engine.Snapshot, at time.Time) {
	d.depth.push(sample{at: at, depth: s.QueueDepth})
}

// update answers the filter keys; the figures are fed by the root.
func (d *dashboardModel) update(msg tea.Msg) tea.Cmd {
	km, ok := msg.(tea.KeyMsg)
	if !ok {
		return nil
	}
	switch {
	case d.filter.editing:
		d.recentFilter = strings.TrimSpace(d.filter.handleKey(d.pc.keys, km))
	case key.Matches(km, d.pc.keys.Filter):
		d.filter.start(d.recentFilter)
	}
	return nil
}

// back clears the filter of the recent decisions, if one is in force.
func (d *dashboardModel) back() (bool, tea.Cmd) {
	if d.recentFilter == "" {
		return false, nil
	}
	d.recentFilter = ""
	d.pc.info("filter cleared")
	return true, nil
}

// ShortHelp lists the dashboard's own keys.
func (d *dashboardModel) ShortHelp() []key.Binding {
	k := d.pc.keys
	if d.filter.editing {
		return []key.Binding{helpOnly(k.Submit, "enter", "keep filter"), helpOnly(k.Cancel, "esc", "clear")}
	}
	return []key.Binding{helpOnly(k.Filter, firstKey(k.Filter), "filter decisions")}
}

// FullHelp lists the dashboard's own keys.
func (d *dashboardModel) FullHelp() [][]key.Binding {
	k := d.pc.keys
	return [][]key.Binding{{helpOnly(k.Filter, k.Filter.Help().Key, "filter decisions"),
		helpOnly(k.Back, k.Back.Help().Key, "clear the filter")}}
}

// view lays the dashboard out in bands: queue and throughput (plus a
// per-worker panel when wide), the Layer 2 components and the Layer 1
// kernel grid when the engine reports them, intents by state, and recent
// decisions, which take whatever height is left.
func (d *dashboardModel) view() []string {
	w, h := d.w, d.h
	if w <= 0 || h <= 0 {
		return nil
	}
	st := d.pc.styles
	s := d.pc.snap

	// Band 1 grows with the terminal: taller sparkline, then more workers.
	contentH := 5
	if h >= 36 {
		contentH = min(3+h/8, 10)
	}
	topH := min(contentH+2, h)
	var band1 []string
	if w >= wideLayout {
		// Throughput needs 40 cells for its pairs, workers 36 for names
		// and counts; the sparkline takes the rest, since it shows more
		// history the wider it is.
		ws := []int{0, 40, min(max(w*3/10, 36), 60)}
		ws[0] = w - ws[1] - ws[2]
		band1 = hjoin(
			st.panel(d.staleTitle("Queue"), d.queueLines(ws[0]-4, topH-2), ws[0], topH),
			st.panel(d.staleTitle("Throughput"), d.throughputLines(ws[1]-4, false), ws[1], topH),
			st.panel(d.staleTitle("Workers"), d.workerLines(ws[2]-4, topH-2), ws[2], topH),
		)
	} else {
		ws := split(w, 2)
		band1 = hjoin(
			st.panel(d.staleTitle("Queue"), d.queueLines(ws[0]-4, topH-2), ws[0], topH),
			st.panel(d.staleTitle("Throughput"), d.throughputLines(ws[1]-4, true), ws[1], topH),
		)
	}
	out := make([]string, 0, h)
	out = append(out, band1...)
	// The chaos loop and run: one line, or a panel on a large terminal.
	out = append(out, d.chaosBand(w, h)...)

	// The Layer 2 components and alerts, when the watchdog reports them,
	// leaving the recent decisions at least four lines.
	// The Layer 1 kernel grid below it takes its rows first: at small
	// sizes the Layer 2 panel and the state counts give way, but a firing
	// alert or a Layer 2 component not ok keeps one line.
	l2 := d.layer2Band(s, w, h-len(out)-4-kernelGridH(s, w))
	if l2 == nil {
		if line := d.layer2Line(s, w); line != "" {
			l2 = []string{line}
		}
	}
	out = append(out, l2...)
	out = append(out, d.kernelPanel(s, w, h-len(out)-4)...)

	// Band 2: one count per state, flowed over as many lines as it needs.
	states := flow(d.stateItems(s), "   ", w-4)
	if statesH := len(states) + 2; h-len(out)-statesH >= 6 {
		// Finished states count since the engine started (engine.Snapshot.ByState).
		out = append(out, st.panel(d.staleTitle("Intents by state")+" · finished since start", states, w, statesH)...)
	}
	// The same by intent type, when the engine reports it and the recent
	// decisions keep eight lines (six decisions).
	if types := flow(d.typeItems(s), "   ", w-4); len(types) > 0 {
		if typesH := len(types) + 2; h-len(out)-typesH >= 8 {
			out = append(out, st.panel(d.staleTitle("Intents by type")+" · queued; completed ✓, failed ✗ since start", types, w, typesH)...)
		}
	}

	// Band 3: recent decisions fill the rest, above the filter being
	// typed.
	prompt := 0
	if d.filter.editing {
		prompt = 1
	}
	if rest := h - len(out) - prompt; rest >= 3 {
		title, lines := d.recentPanel(w-4, rest-2)
		out = append(out, st.panel(title, lines, w, rest)...)
	}
	if d.filter.editing && len(out) < h {
		out = append(out, d.filter.view(st, w))
	}
	for len(out) < h {
		out = append(out, fit("", w))
	}
	return out[:h]
}

// staleTitle is a figures panel's title, marked "▲ as of 12:52:25" when
// the figures are not current (the engine stopped answering).
func (d *dashboardModel) staleTitle(title string) string {
	if mark := staleMark(d.pc); mark != "" {
		return title + " " + mark
	}
	return title
}

// span says how long ago the oldest of samples was taken.
func (d *dashboardModel) span(samples []sample) string {
	if len(samples) == 0 {
		return "0s"
	}
	return fmtDur(d.pc.now().Sub(samples[0].at))
}
