package tui

import (
	"strconv"
	"strings"

	"github.com/charmbracelet/x/ansi"
)

// chaosPanelH is the chaos panel's height on a large dashboard.
const chaosPanelH = 6

// chaosBand is the dashboard's chaos part: nil on an engine without
// chaos; one line at small sizes; a panel (loop, next slot, the run in
// progress, score and the halt hint) when the terminal is at least
// wideLayout wide and 40 tall.
func (d *dashboardModel) chaosBand(w, h int) []string {
	if !d.pc.chaos.available() {
		return nil
	}
	if w >= wideLayout && h >= 40 {
		return d.pc.styles.panel("Chaos", d.chaosLines(w-4), w, chaosPanelH)
	}
	return []string{" " + d.chaosLine(w-2) + " "}
}

// chaosLine is the chaos loop and run in one line: the run in progress
// with its phase and the halt key, else the loop's next slot and the
// score.
func (d *dashboardModel) chaosLine(w int) string {
	st := d.pc.styles
	c := d.pc.chaos
	label := st.Label.Render("chaos ")
	if p, id, ok := c.live(); ok {
		what := id
		if p.Scenario != "" {
			what = p.Scenario + " " + strconv.Itoa(p.Index) + "/" + strconv.Itoa(p.Total)
		}
		parts := []string{st.Warn.Render("▶ ") + st.Value.Render(what), st.Text.Render(phaseText(p.Phase)),
			st.Text.Render(plural(len(p.FaultsActive), "fault")),
			st.Text.Render(strconv.Itoa(len(p.SafeguardsFired)) + " fired")}
		line := label + strings.Join(parts, st.Muted.Render(" · "))
		if k := d.pc.keys.HaltChaos; k.Enabled() {
			hint := st.HelpKey.Render(firstKey(k)) + st.Muted.Render(" halt")
			hw := ansi.StringWidth(hint)
			return fit(fit(clipStyled(line, w-hw-2), w-hw)+hint, w)
		}
		return fit(line, w)
	}
	if c.statusAt.IsZero() {
		return fit(label+st.Muted.Render("○ loading…"), w)
	}
	if c.err != nil {
		return fit(label+st.Warn.Render("▲ status unavailable: ")+st.Muted.Render(failText(c.err)), w)
	}
	parts := []string{d.loopText()}
	if sc := c.status.Score; sc.Runs > 0 {
		parts = append(parts, st.Label.Render("resilience ")+scoreText(st, sc.Overall))
	}
	if r := c.last; r != nil {
		mark, ms := verdictMark(st, r.State)
		parts = append(parts, st.Label.Render("last ")+ms.Render(mark))
	}
	return fit(label+strings.Join(parts, st.Muted.Render(" · ")), w)
}

// loopText is the autonomous loop's state and next slot.
func (d *dashboardModel) loopText() string {
	st := d.pc.styles
	l := d.pc.chaos.status.Loop
	if !l.Enabled {
		return st.Muted.Render("○ loop off")
	}
	s := st.OK.Render("● loop on")
	if !l.NextRunAt.IsZero() {
		now := d.pc.now()
		slot := l.NextSlot
		if slot == "" {
			slot = l.NextRunAt.In(now.Location()).Format("15:04")
		}
		s += st.Muted.Render(" · next ") + st.Value.Render(slot) + st.Muted.Render(" in "+fmtDur(l.NextRunAt.Sub(now)))
		if n := len(l.NextScenarios); n > 0 {
			s += st.Muted.Render(": " + plural(n, "scenario"))
		}
	}
	return s
}

// chaosLines are the chaos panel's lines.
func (d *dashboardModel) chaosLines(w int) []string {
	st := d.pc.styles
	c := d.pc.chaos
	const lw = 11
	if c.statusAt.IsZero() {
		return []string{st.Muted.Render("○ loading the chaos status…")}
	}
	l := c.status.Loop
	loop := d.loopText()
	if l.Skipped > 0 {
		loop += st.Muted.Render(" · ") + st.Warn.Render("▲ "+plural(l.Skipped, "slot")+" skipped")
	}
	if !l.LastRunAt.IsZero() {
		loop += st.Muted.Render(" · last loop run " + fmtDur(d.pc.now().Sub(l.LastRunAt)) + " ago")
	}
	next := orDash(strings.Join(l.NextScenarios, ", "))
	lines := []string{cell(st.Label, "loop", lw) + clipStyled(loop, w-lw), st.kv("next", next, lw, w)}
	if p, id, ok := c.live(); ok {
		run := st.Warn.Render("▶ "+id) + st.Muted.Render(" · ") + st.Value.Render(orDash(p.Scenario)) +
			st.Muted.Render(" "+strconv.Itoa(p.Index)+"/"+strconv.Itoa(p.Total)+" · ") + st.Text.Render(phaseText(p.Phase)) +
			st.Muted.Render(" · faults ") + st.Text.Render(orDash(strings.Join(p.FaultsActive, ", "))) +
			st.Muted.Render(" · fired ") + st.Text.Render(orDash(strings.Join(p.SafeguardsFired, ", ")))
		lines = append(lines, cell(st.Label, "running", lw)+clipStyled(run, w-lw))
	} else if r := c.last; r != nil {
		mark, ms := verdictMark(st, r.State)
		lines = append(lines, cell(st.Label, "last run", lw)+clipStyled(ms.Render(mark)+" "+st.Value.Render(r.RunID)+st.Muted.Render(" · "+runCount(*r)), w-lw))
	} else {
		lines = append(lines, cell(st.Label, "running", lw)+st.Muted.Render("nothing"))
	}
	score := st.Muted.Render("no score yet")
	if sc := c.status.Score; sc.Runs > 0 {
		score = scoreText(st, sc.Overall) + st.Muted.Render(" over "+plural(sc.Runs, "run"))
	}
	hint := ""
	if k := d.pc.keys.HaltChaos; k.Enabled() {
		hint = st.HelpKey.Render(firstKey(k)) + st.Muted.Render(" halts every run, from any screen")
	}
	lines = append(lines, cell(st.Label, "resilience", lw)+fit(score, max(w-lw-ansi.StringWidth(hint), 0))+hint)
	return lines
}
