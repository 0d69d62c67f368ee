package tui

import (
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/charmbracelet/lipgloss"

	"grace/engine"
	"grace/engine/watchdog"
)

// componentTitles are the seed's names for the Layer 2 components the
// watchdog reports on.
var componentTitles = map[string]string{
	watchdog.NameHTM:       "HTM",
	watchdog.NameMesh:      "Trigger Mesh",
	watchdog.NamePolicy:    "Event Policy",
	watchdog.NameScheduler: "Scheduler",
}

// componentTitle is a component's display name: the seed's, or for the
// others (retention, notifications, a deployment's own) the name with a
// capital, as the seed's are written.
func componentTitle(name string) string {
	if t, ok := componentTitles[name]; ok {
		return t
	}
	if r, size := utf8.DecodeRuneInString(name); size > 0 && unicode.IsLower(r) {
		return string(unicode.ToUpper(r)) + name[size:]
	}
	return name
}

// statusStyle is a watchdog status's style and its mark with the word.
func statusStyle(st *styles, s watchdog.Status) (lipgloss.Style, string) {
	switch s {
	case watchdog.Critical:
		return st.Crit, s.Symbol() + " critical"
	case watchdog.Warn:
		return st.Warn, s.Symbol() + " warn"
	}
	return st.OK, s.Symbol() + " ok"
}

// hasLayer2 reports whether the snapshot carries the watchdog's verdict:
// the panel shows only what the engine reports, never placeholders.
func hasLayer2(s engine.Snapshot) bool { return len(s.Health.Components) > 0 }

// layer2Title is the Layer 2 panel's title: the overall status and when
// the watchdog last checked.
func (d *dashboardModel) layer2Title(s engine.Snapshot) string {
	h := s.Health
	_, word := statusStyle(d.pc.styles, h.Status)
	// Marked when the snapshot is old: its verdict is not the engine's now.
	title := d.staleTitle("Layer 2") + " · " + word
	if !h.CheckedAt.IsZero() {
		title += " · checked " + fmtDur(d.pc.now().Sub(h.CheckedAt)) + " ago"
	} else if h.Readiness.State != "" {
		title += " · readiness " + h.Readiness.State
	}
	if h.SLOBreaches > 0 {
		title += " · SLO breaches " + fmtInt(int64(h.SLOBreaches))
	}
	return title
}

// componentLines is one line per component: status in colour and word,
// name, the worst findings' reason and its SLO breach count.
func (d *dashboardModel) componentLines(s engine.Snapshot, w int) []string {
	st := d.pc.styles
	const statusW, nameW = 11, 13
	var lines []string
	for _, c := range s.Health.Components {
		style, word := statusStyle(st, c.Status)
		reason := c.Reason
		if !c.Ready {
			style, word = st.Warn, "○ not ready"
			reason = orDash(c.NotReadyReason)
		}
		breaches := "breaches " + fmtInt(int64(c.SLOBreaches))
		bs := st.Muted
		if c.SLOBreaches > 0 {
			bs = st.Warn
		}
		bw := 0
		if w >= 60 {
			bw = len(breaches) + 1
		}
		line := style.Render(fit(word, statusW)) + " " + cell(st.Value, componentTitle(c.Name), nameW) + " " +
			cell(st.Text, reason, max(w-statusW-nameW-2-bw, 0))
		if bw > 0 {
			line += " " + bs.Render(breaches)
		}
		lines = append(lines, fit(line, w))
	}
	return lines
}

// factsLine sums up the Layer 2 safeguards' counters: the pool against its
// bounds, and what was refused, shed and rerouted. It is empty when the
// snapshot carries no facts.
func (d *dashboardModel) factsLine(s engine.Snapshot, w int) string {
	st := d.pc.styles
	f := s.Layer2
	if f.PoolMax == 0 && len(f.Safeguards) == 0 {
		return ""
	}
	off := 0
	for _, on := range f.Safeguards {
		if !on {
			off++
		}
	}
	parts := []string{
		st.Label.Render("pool ") + st.Value.Render(strconv.Itoa(f.PoolTarget)) + st.Muted.Render(" ("+strconv.Itoa(f.PoolMin)+"–"+strconv.Itoa(f.PoolMax)+", "+strconv.Itoa(f.WorkersHealthy)+" healthy)"),
		st.Label.Render("rate-limited ") + st.Value.Render(fmtInt(f.RateLimited)),
		st.Label.Render("shed ") + st.Value.Render(fmtInt(f.Shed)),
		st.Label.Render("rerouted ") + st.Value.Render(fmtInt(f.Rerouted)),
	}
	if f.WorkersLost > 0 {
		parts = append(parts, st.Crit.Render("✗ "+fmtInt(f.WorkersLost)+" workers lost"))
	}
	if n := len(f.RunawayHandlers); n > 0 {
		parts = append(parts, st.Warn.Render("▲ "+plural(n, "runaway handler")))
	}
	if off > 0 {
		parts = append(parts, st.Warn.Render("▲ "+plural(off, "safeguard")+" off"))
	}
	return fit(strings.Join(parts, st.Muted.Render(" · ")), w)
}

// alertLines lists the firing alerts, most severe first, two lines each
// (as many as fit in h lines): severity, component/condition, count, first
// and last seen; then the latest reason.
func (d *dashboardModel) alertLines(s engine.Snapshot, w, h int) []string {
	st := d.pc.styles
	alerts := s.Health.Alerts
	if len(alerts) == 0 {
		return []string{st.OK.Render("✓ ") + st.Muted.Render(clip("no alert firing", w-2))}
	}
	now := d.pc.now()
	loc := now.Location()
	var lines []string
	for i, a := range alerts {
		if len(lines)+2 > h-1 && i < len(alerts)-1 || len(lines)+2 > h {
			lines = append(lines, st.Muted.Render(clip("+"+strconv.Itoa(len(alerts)-i)+" more firing", w)))
			break
		}
		style, _ := statusStyle(st, a.Severity)
		head := style.Render(a.Severity.Symbol()+" ") + st.Value.Render(componentTitle(a.Component)+"/"+a.Condition)
		if ref, ok := silencedNow(a, now); ok { // before the figures, which give way
			head += st.Muted.Render(" · silenced by " + ref.By + " until " + clockAt(ref.EndsAt, now) + " ·")
		}
		head += st.Muted.Render(" ×" + strconv.Itoa(a.Count) + " · since " + a.FirstSeen.In(loc).Format("15:04:05") +
			" (" + fmtDur(now.Sub(a.FirstSeen)) + ") · last " + a.LastSeen.In(loc).Format("15:04:05"))
		lines = append(lines, fit(head, w), fit("  "+st.Text.Render(a.Summary), w))
	}
	return lines
}

// alertSummary is the firing alerts in one line: how many of each
// severity and the most severe one's reason.
func (d *dashboardModel) alertSummary(s engine.Snapshot, w int) string {
	st := d.pc.styles
	alerts := s.Health.Alerts
	if len(alerts) == 0 {
		return fit(st.Label.Render("alerts     ")+st.OK.Render("✓ ")+st.Muted.Render("none firing"), w)
	}
	crit, warn := 0, 0
	for _, a := range alerts {
		if a.Severity == watchdog.Critical {
			crit++
		} else {
			warn++
		}
	}
	var parts []string
	if crit > 0 {
		parts = append(parts, st.Crit.Render("✗ "+strconv.Itoa(crit)+" critical"))
	}
	if warn > 0 {
		parts = append(parts, st.Warn.Render("▲ "+strconv.Itoa(warn)+" warn"))
	}
	a := alerts[0]
	return fit(st.Label.Render("alerts     ")+strings.Join(parts, " ")+st.Muted.Render(" · ")+
		st.Value.Render(componentTitle(a.Component)+"/"+a.Condition)+" "+st.Text.Render(a.Summary), w)
}

// layer2Band renders the Layer 2 panel (and, when wide, the alerts beside
// it) for w cells; nil when the snapshot carries no watchdog verdict.
func (d *dashboardModel) layer2Band(s engine.Snapshot, w, maxH int) []string {
	if !hasLayer2(s) || maxH < 3 {
		return nil
	}
	st := d.pc.styles
	title := d.layer2Title(s)
	if w >= wideLayout {
		lw := w * 3 / 5
		lines := d.componentLines(s, lw-4)
		if fl := d.factsLine(s, lw-4); fl != "" {
			lines = append(lines, fl)
		}
		h := min(max(len(lines), min(2*len(s.Health.Alerts), 8))+2, maxH)
		alertTitle := "Alerts firing"
		if n := len(s.Health.Alerts); n > 0 {
			alertTitle += " (" + strconv.Itoa(n) + ")"
		}
		return hjoin(st.panel(title, lines, lw, h), st.panel(alertTitle, d.alertLines(s, w-lw-4, h-2), w-lw, h))
	}
	lines := append(d.componentLines(s, w-4), d.alertSummary(s, w-4))
	if len(lines)+2 > maxH {
		// Not every line fits: the firing alerts first, then the
		// components worst first.
		lines = d.componentLines(worstFirst(s), w-4)
		if len(s.Health.Alerts) > 0 {
			lines = append([]string{d.alertSummary(s, w-4)}, lines...)
		}
	}
	if fl := d.factsLine(s, w-4); fl != "" && len(lines)+3 <= maxH {
		lines = append(lines, fl)
	}
	h := min(len(lines)+2, maxH)
	return st.panel(title, lines, w, h)
}

// worstFirst is s with its Layer 2 components sorted worst first (not
// ready, critical, warn, ok), in their order otherwise.
func worstFirst(s engine.Snapshot) engine.Snapshot {
	cs := slices.Clone(s.Health.Components)
	rank := func(c watchdog.ComponentReport) int {
		if !c.Ready {
			return 3
		}
		return int(c.Status)
	}
	slices.SortStableFunc(cs, func(a, b watchdog.ComponentReport) int { return rank(b) - rank(a) })
	s.Health.Components = cs
	return s
}

// layer2Line is the Layer 2 verdict in one line, for a dashboard with no
// room for its panel: the firing alerts (how many, the worst one) and the
// overall status, as in "▲ 1 alert firing: Scheduler/slo_dispatch_latency
// · Layer 2 warn"; "" when no alert fires and every component is ok.
func (d *dashboardModel) layer2Line(s engine.Snapshot, w int) string {
	if !hasLayer2(s) {
		return ""
	}
	st := d.pc.styles
	h := s.Health
	ws := worstFirst(s).Health.Components
	worst := ws[0]
	if len(h.Alerts) == 0 && h.Status == watchdog.OK && worst.Ready && worst.Status == watchdog.OK {
		return ""
	}
	style, word := statusStyle(st, h.Status)
	l2 := st.Label.Render("Layer 2 ") + style.Render(word)
	if len(h.Alerts) == 0 {
		// No alert: the worst component says why.
		reason := worst.Reason
		if !worst.Ready {
			reason = "not ready: " + orDash(worst.NotReadyReason)
		}
		return fit(" "+l2+st.Muted.Render(" · ")+st.Value.Render(componentTitle(worst.Name))+" "+st.Text.Render(reason), w)
	}
	a := h.Alerts[0]
	for _, al := range h.Alerts {
		if al.Severity > a.Severity {
			a = al
		}
	}
	// As the Alerts screen's title: those a silence mutes are said so.
	firing := plural(len(h.Alerts), "alert") + " firing"
	silenced, now := 0, d.pc.now()
	for _, al := range h.Alerts {
		if _, ok := silencedNow(al, now); ok {
			silenced++
		}
	}
	if silenced > 0 {
		firing += " (" + strconv.Itoa(silenced) + " silenced)"
	}
	as, _ := statusStyle(st, a.Severity)
	head := as.Render(a.Severity.Symbol()+" "+firing+": ") +
		st.Value.Render(componentTitle(a.Component)+"/"+a.Condition)
	return fit(" "+head+st.Muted.Render(" · ")+l2+st.Muted.Render(" · ")+st.Text.Render(a.Summary), w)
}
