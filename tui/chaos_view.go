package tui

import (
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/charmbracelet/lipgloss"

	"grace/engine"
)

// chaosPhases are the phases of one scenario in order, for "phase 2/6".
var chaosPhases = []string{engine.ChaosPhaseSteadyBefore, engine.ChaosPhaseInject, engine.ChaosPhaseWatch,
	engine.ChaosPhaseRollback, engine.ChaosPhaseSteadyAfter, engine.ChaosPhaseInvariants}

// phaseText is a phase with its place in the order: "inject (2/6)".
func phaseText(phase string) string {
	if phase == "" {
		return "starting"
	}
	if i := slices.Index(chaosPhases, phase); i >= 0 {
		return strings.ReplaceAll(phase, "_", " ") + " (" + strconv.Itoa(i+1) + "/" + strconv.Itoa(len(chaosPhases)) + ")"
	}
	return strings.ReplaceAll(phase, "_", " ")
}

// verdictMark is a verdict in colour plus symbol and word.
func verdictMark(st *styles, verdict string) (string, lipgloss.Style) {
	switch verdict {
	case engine.ChaosPassed:
		return "✓ passed", st.OK
	case engine.ChaosFailed:
		return "✗ failed", st.Crit
	case engine.ChaosHalted:
		return "■ halted", st.Warn
	case engine.ChaosError:
		return "✗ error", st.Crit
	case engine.ChaosRunning:
		return "▶ running", st.Warn
	}
	return "· never run", st.Muted
}

// scoreText is a 0–100 score with a symbol for its level.
func scoreText(st *styles, v float64) string {
	s := strconv.FormatFloat(v, 'f', 0, 64)
	switch {
	case v >= 90:
		return st.OK.Render("● " + s)
	case v >= 70:
		return st.Warn.Render("▲ " + s)
	}
	return st.Crit.Render("✗ " + s)
}

// shortCategory is a category's name where room is short:
// layer2_orchestration is layer2.
func shortCategory(cat string) string {
	if before, _, ok := strings.Cut(cat, "_"); ok && strings.HasPrefix(cat, "layer") {
		return before
	}
	return cat
}

// scoreLine is the resilience score overall and per category.
func (c *chaosModel) scoreLine(w int) string {
	st := c.pc.styles
	sc := c.pc.chaos.status.Score
	if c.pc.chaos.statusAt.IsZero() {
		return st.Muted.Render(fit("resilience score: loading…", w))
	}
	if sc.Runs == 0 {
		return st.Label.Render("resilience ") + st.Muted.Render(clip("no score yet: no scenario has run", w-11))
	}
	parts := []string{st.Label.Render("resilience ") + scoreText(st, sc.Overall)}
	cats := make([]string, 0, len(sc.ByCategory))
	for cat := range sc.ByCategory {
		cats = append(cats, cat)
	}
	sort.Strings(cats)
	for _, cat := range cats {
		parts = append(parts, st.Label.Render(shortCategory(cat)+" ")+scoreText(st, sc.ByCategory[cat]))
	}
	parts = append(parts, st.Muted.Render("over "+plural(sc.Runs, "run")))
	return fit(strings.Join(parts, st.Muted.Render(" · ")), w)
}

// view renders the screen in w×h cells.
func (c *chaosModel) view() []string {
	w, h := c.w, c.h
	if w <= 0 || h <= 0 {
		return nil
	}
	st := c.pc.styles
	if !c.pc.chaos.available() {
		return st.panel("Chaos · not available", c.unavailableLines(w-4), w, h)
	}
	out := []string{c.tabsLine(w), " " + c.scoreLine(w-1)}
	bottom := []string{}
	if c.confirm != nil {
		bottom = append(bottom, c.confirmLine(w))
	}
	if c.filter.editing {
		bottom = append(bottom, c.filter.view(st, w))
	}
	if c.section == chaosScenarios && !c.detail {
		if lines := c.runLines(w - 4); len(lines) > 0 {
			title := "Run in progress"
			if _, _, ok := c.pc.chaos.live(); !ok {
				title = "Last run"
			}
			rh := min(len(lines)+2, max(h-len(out)-len(bottom)-5, 3))
			out = append(out, st.panel(title, lines, w, rh)...)
		}
	}
	rest := h - len(out) - len(bottom)
	if rest >= 3 {
		if c.detail {
			out = append(out, c.detailPanel(w, rest)...)
		} else if w >= splitLayout {
			lw := w * 11 / 20
			out = append(out, hjoin(c.listPanel(lw, rest), c.sidePanel(w-lw, rest))...)
		} else {
			out = append(out, c.listPanel(w, rest)...)
		}
	}
	out = append(out, bottom...)
	for len(out) < h {
		out = append(out, fit("", w))
	}
	return out[:h]
}

// unavailableLines explain an engine without a chaos service.
func (c *chaosModel) unavailableLines(w int) []string {
	st := c.pc.styles
	text := []string{
		"This engine offers no chaos service, so there are no scenarios to run here.",
		"",
		"The console talks to the engine through its operator API; the chaos part of it " +
			"(scenarios, runs, halts, the autonomous loop's findings) is missing from this one, " +
			"as with a server attached over HTTP that does not offer chaos.",
		"",
		"Everything else works as usual. On an engine with chaos this screen lists the scenario " +
			"library, runs a scenario after a (y/N), shows its progress and verdict, and " +
			firstKey(c.pc.keys.HaltChaos) + " halts every run from any screen.",
	}
	out := []string{st.Warn.Render(clip("▲ "+engine.ErrChaosUnavailable.Error(), w)), ""}
	for _, t := range text {
		if t == "" {
			out = append(out, "")
			continue
		}
		out = append(out, wrapLines("", st.Text, t, 0, w)...)
	}
	return out
}

// confirmLine is the run question.
func (c *chaosModel) confirmLine(w int) string {
	st := c.pc.styles
	q := "Run " + c.what
	if len(c.confirm.Scenarios) == 1 {
		for _, s := range c.scenarios {
			if s.ID == c.confirm.Scenarios[0] {
				q += " (" + s.Category + ", difficulty " + strconv.Itoa(max(s.Difficulty, 1)) + ")"
			}
		}
	}
	q += " on an isolated engine? "
	return askLine(st, q, w)
}

// runLines describe the run in progress (scenario i/n, phase, faults
// active, safeguards fired so far) or, when none runs, the last run seen
// finishing with its verdict and failures. Nil when there is neither.
func (c *chaosModel) runLines(w int) []string {
	st := c.pc.styles
	const lw = 11
	if p, id, ok := c.pc.chaos.live(); ok {
		head := st.Warn.Render("▶ running ") + st.Value.Render(id)
		if p.Scenario != "" {
			head += st.Muted.Render(" · scenario ") + st.Value.Render(p.Scenario) +
				st.Muted.Render(" "+strconv.Itoa(p.Index)+"/"+strconv.Itoa(p.Total))
		}
		lines := []string{fit(head, w),
			st.kv("phase", phaseText(p.Phase), lw, w),
			st.kv("faults", orDash(strings.Join(p.FaultsActive, ", ")), lw, w),
			st.kv("safeguards", orDash(strings.Join(p.SafeguardsFired, ", ")), lw, w),
		}
		if k := c.pc.keys.HaltChaos; k.Enabled() {
			lines[0] = fit(head+st.Muted.Render(" · "+firstKey(k)+" halts"), w)
		}
		return lines
	}
	r := c.pc.chaos.last
	if r == nil {
		return nil
	}
	mark, ms := verdictMark(st, r.State)
	lines := []string{fit(ms.Render(mark)+" "+st.Value.Render(r.RunID)+st.Muted.Render(" · "+runCount(*r)+" · "+c.runWhen(*r)), w)}
	for _, res := range r.Scenarios {
		if res.Passed {
			continue
		}
		for _, f := range orNone(res.Failures) {
			lines = append(lines, st.Crit.Render("✗ ")+st.Value.Render(res.ID)+" "+st.Text.Render(clip(f, max(w-len(res.ID)-3, 1))))
		}
	}
	if r.Error != "" {
		lines = append(lines, st.Crit.Render(clip("✗ "+r.Error, w)))
	}
	if r.HaltedBy != "" {
		lines = append(lines, st.Warn.Render(clip("■ halted by "+r.HaltedBy, w)))
	}
	if len(lines) == 1 && r.State == engine.ChaosPassed {
		lines = append(lines, st.OK.Render(clip("✓ every safeguard fired, every invariant held", w)))
	}
	return lines
}

// orNone gives a failed scenario without reasons one line all the same.
func orNone(fs []string) []string {
	if len(fs) == 0 {
		return []string{"failed (no reason given)"}
	}
	return fs
}

// fmtTook is how long something took: milliseconds under a second, else
// fmtDur.
func fmtTook(d time.Duration) string {
	if d < time.Second {
		return strconv.FormatInt(d.Milliseconds(), 10) + "ms"
	}
	return fmtDur(d)
}

// ago is how long before now t was: "3h00m ago".
func (c *chaosModel) ago(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return fmtDur(c.pc.now().Sub(t)) + " ago"
}

// runWhen is when a run started, its age and how long it took.
func (c *chaosModel) runWhen(r engine.ChaosRun) string {
	now := c.pc.now()
	s := clockAt(r.StartedAt, now) + " (" + fmtDur(now.Sub(r.StartedAt)) + " ago)"
	if !r.FinishedAt.IsZero() {
		s += " · took " + fmtTook(r.FinishedAt.Sub(r.StartedAt))
	}
	return s
}

// listPanel is the current section's list in a panel of w×h cells.
func (c *chaosModel) listPanel(w, h int) []string {
	st := c.pc.styles
	rows := max(h-3, 1)
	var title string
	var head string
	var lines []string
	inner := w - 4
	switch c.section {
	case chaosRuns:
		title = "Runs · newest first"
		head, lines = c.runRows(inner, rows)
	case chaosFindings:
		title = "Findings of the loop · newest first"
		head, lines = c.findingRows(inner, rows)
	case chaosKnowledge:
		title = "Knowledge base · verified fixes"
		head, lines = c.knowledgeRows(inner, rows)
	default:
		title = "Scenarios by category"
		head, lines = c.scenarioRows(inner, rows)
	}
	if q := c.query[c.section]; q != "" {
		title += " · filter “" + q + "”: " + strconv.Itoa(c.rowCount()) + "/" + strconv.Itoa(c.totalCount(c.section)) + " shown"
	}
	return st.panel(title, append([]string{st.TableHeader.Render(fit(head, inner))}, lines...), w, h)
}

// sidePanel is the selected row's detail beside the list (wide screens).
func (c *chaosModel) sidePanel(w, h int) []string {
	lines := c.detailLines(w - 4)
	return c.pc.styles.panel(c.detailTitle(), lines, w, h)
}

// detailPanel is the selected row's detail, scrolled, in w×h cells.
func (c *chaosModel) detailPanel(w, h int) []string {
	lines := c.detailLines(w - 4)
	c.detailRoom = h - 2
	c.scroll = min(c.scroll, max(len(lines)-c.detailRoom, 0))
	title := c.detailTitle()
	if len(lines) > c.detailRoom {
		title += " · " + strconv.Itoa(c.scroll+1) + "–" + strconv.Itoa(min(c.scroll+c.detailRoom, len(lines))) +
			" of " + strconv.Itoa(len(lines)) + " lines"
	}
	return c.pc.styles.panel(title, lines[min(c.scroll, len(lines)):], w, h)
}

// detailTitle names the detail being shown.
func (c *chaosModel) detailTitle() string {
	switch c.section {
	case chaosRuns:
		return "Run"
	case chaosFindings:
		return "Finding and playbook"
	case chaosKnowledge:
		return "Verified fix"
	}
	return "Scenario"
}

// listWindow keeps the cursor of the current section on screen among n
// rows, rows at a time; it returns the first row to show.
func (c *chaosModel) listWindow(n, rows int) int {
	s := c.section
	c.cursor[s] = min(max(c.cursor[s], 0), max(n-1, 0))
	c.offset[s] = window(c.cursor[s], c.offset[s], n, rows)
	return c.offset[s]
}

// notLoadedLines stand for a list not loaded yet in w cells: "loading
// what…", or, when its fetch failed, that it could not be fetched and why
// (each refresh asks again while the screen shows).
func (c *chaosModel) notLoadedLines(what, failed string, w int) []string {
	st := c.pc.styles
	if failed == "" {
		return []string{st.Muted.Render(clip("loading "+what+"…", w))}
	}
	lines := []string{st.Crit.Render(clip("✗ Could not fetch "+what+"; asking again each refresh.", w))}
	return append(lines, wrapLines("", st.Muted, failed, 0, w)...)
}

// libraryState says why no scenario can be selected before the library
// loaded: it is loading, or could not be fetched.
func (c *chaosModel) libraryState() string {
	if c.scenFailed != "" {
		return "the scenario library could not be fetched"
	}
	return "the scenario library is loading"
}

// noMatch is the line of a section whose filter hides every row.
func (c *chaosModel) noMatch(w int) []string {
	return []string{c.pc.styles.Muted.Render(clip("nothing matches the filter “"+c.query[c.section]+"” (esc clears it)", w))}
}

// rowMark is the selection mark and the style of a row's name.
func (c *chaosModel) rowMark(selected bool) (string, lipgloss.Style) {
	st := c.pc.styles
	if selected {
		return st.Selected.Render("▸ "), st.Selected
	}
	return "  ", st.Value
}

// scenarioRows is the library grouped by category: a header line per
// category and a row per scenario with its last verdict, difficulty, pass
// streak, runs and last run.
func (c *chaosModel) scenarioRows(w, rows int) (string, []string) {
	st := c.pc.styles
	const verdictW, lastW = 12, 10
	numW, streakHead := 7, "STREAK"
	if w < 2+12+1+verdictW+3*numW+1+lastW {
		// The figures close up rather than push LAST RUN off the edge.
		numW, streakHead = 5, "STRK"
	}
	descW := 0
	idW := max(w-2-verdictW-3*numW-lastW-4, 12)
	if w >= 110 {
		idW = 32
		descW = max(w-2-idW-verdictW-3*numW-lastW-5, 0)
	}
	head := "  " + fit("SCENARIO", idW) + " " + fit("LAST", verdictW) + fitRight("DIFF", numW) + fitRight(streakHead, numW) +
		fitRight("RUNS", numW) + " " + fitRight("LAST RUN", lastW)
	if descW > 0 {
		head += " " + fit("DESCRIPTION", descW)
	}
	if !c.scenLoaded {
		return head, c.notLoadedLines("the scenario library", c.scenFailed, w)
	}
	if len(c.scenarios) == 0 {
		return head, []string{st.Muted.Render("the scenario library is empty")}
	}
	shown := c.shownScenarios()
	if len(shown) == 0 {
		return head, c.noMatch(w)
	}
	// Display lines: a header before each new category.
	type line struct {
		text string
		row  int // scenario index, -1 for a header
	}
	var all []line
	cat := ""
	for i, s := range shown {
		if s.Category != cat || i == 0 {
			cat = s.Category
			n := 0
			for _, x := range shown {
				if x.Category == cat {
					n++
				}
			}
			label := cat + " · " + plural(n, "scenario")
			if v, ok := c.pc.chaos.status.Score.ByCategory[cat]; ok && c.pc.chaos.status.Score.Runs > 0 {
				label += " · score " + strconv.FormatFloat(v, 'f', 0, 64)
			}
			all = append(all, line{text: st.Accent.Render(fit(label, w)), row: -1})
		}
		all = append(all, line{row: i})
	}
	cur := c.cursor[chaosScenarios]
	curLine := 0
	for i, l := range all {
		if l.row == cur {
			curLine = i
		}
	}
	c.cursor[chaosScenarios] = min(max(cur, 0), len(shown)-1)
	off := window(curLine, c.offset[chaosScenarios], len(all), rows)
	// Show the category header of the first row when it scrolls by one.
	if off > 0 && all[off-1].row == -1 && curLine-off+1 < rows {
		off--
	}
	c.offset[chaosScenarios] = off
	now := c.pc.now()
	var out []string
	for i := off; i < len(all) && len(out) < rows; i++ {
		l := all[i]
		if l.row < 0 {
			out = append(out, l.text)
			continue
		}
		s := shown[l.row]
		mark, name := c.rowMark(l.row == c.cursor[chaosScenarios])
		vt, vs := verdictMark(st, s.LastVerdict)
		last := "—"
		if !s.LastRunAt.IsZero() {
			last = fmtDur(now.Sub(s.LastRunAt)) + " ago"
		}
		streak := strconv.Itoa(s.Streak)
		if s.Streak >= 5 {
			streak = "★" + streak
		}
		row := mark + cell(name, s.ID, idW) + " " + cell(vs, vt, verdictW) + cellRight(st.Text, strconv.Itoa(max(s.Difficulty, 1)), numW) +
			cellRight(st.Text, streak, numW) + cellRight(st.Muted, strconv.Itoa(s.Runs), numW) + " " + cellRight(st.Muted, last, lastW)
		if descW > 0 {
			row += " " + cell(st.Text, s.Description, descW)
		}
		out = append(out, row)
	}
	return head, out
}

// runRows is the stored runs: verdict, ID, when, who, how many passed.
func (c *chaosModel) runRows(w, rows int) (string, []string) {
	st := c.pc.styles
	const verdictW, whenW, whoW = 11, 10, 14
	// The run IDs whole when there is room (they differ at the end).
	idW := 16
	for _, r := range c.runs {
		idW = max(idW, len(r.RunID))
	}
	idW = min(idW, max(w-2-verdictW-whenW-whoW-4-12, 16))
	countW := max(w-2-verdictW-idW-whenW-whoW-4, 8)
	head := "  " + fit("VERDICT", verdictW) + " " + fit("RUN", idW) + " " + fit("WHEN", whenW) + " " + fit("WHO", whoW) + " " + fit("SCENARIOS", countW)
	if !c.runsLoaded {
		return head, c.notLoadedLines("the runs", c.runsFailed, w)
	}
	if len(c.runs) == 0 {
		return head, []string{st.Muted.Render("no chaos run yet: " + firstKey(c.pc.keys.RunChaos) + " on Scenarios runs one")}
	}
	runs := c.shownRuns()
	if len(runs) == 0 {
		return head, c.noMatch(w)
	}
	off := c.listWindow(len(runs), rows)
	var out []string
	for i := off; i < len(runs) && len(out) < rows; i++ {
		r := runs[i]
		mark, name := c.rowMark(i == c.cursor[chaosRuns])
		vt, vs := verdictMark(st, r.State)
		who := r.Operator
		if r.Trigger == engine.ChaosTriggerLoop || who == "" {
			who = orDash(r.Trigger)
		}
		what := runCount(r)
		if len(r.Requested) == 1 {
			what = r.Requested[0]
		} else if len(r.Requested) > 1 {
			what += " · " + strings.Join(r.Requested, ", ")
		}
		out = append(out, mark+cell(vs, vt, verdictW)+" "+cell(name, clipMiddle(r.RunID, idW), idW)+" "+
			cell(st.Muted, c.ago(r.StartedAt), whenW)+" "+cell(st.Text, who, whoW)+" "+cell(st.Text, what, countW))
	}
	return head, out
}

// findingState is a finding's state in colour plus symbol.
func findingState(st *styles, state string) (string, lipgloss.Style) {
	switch state {
	case engine.FindingOpen:
		return "✗ open", st.Crit
	case engine.FindingProposed:
		return "⚑ proposed", st.Warn
	case engine.FindingApplied:
		return "▲ applied", st.Warn
	case engine.FindingVerified:
		return "✓ verified", st.OK
	case engine.FindingRejected:
		return "✗ rejected", st.Crit
	}
	return "· " + state, st.Muted
}

// findingRows is the loop's findings: state, scenario, safeguard, summary.
func (c *chaosModel) findingRows(w, rows int) (string, []string) {
	st := c.pc.styles
	fs := c.pc.chaos.status.Findings
	const stateW, sgW = 11, 22
	scW := min(max(w/4, 14), 28)
	sumW := max(w-2-stateW-scW-sgW-3, 0)
	head := "  " + fit("STATE", stateW) + " " + fit("SCENARIO", scW) + " " + fit("SAFEGUARD", sgW) + " " + fit("SUMMARY", sumW)
	if len(fs) == 0 {
		return head, []string{st.Muted.Render("no findings: the loop has found no missing safeguard")}
	}
	if fs = c.shownFindings(); len(fs) == 0 {
		return head, c.noMatch(w)
	}
	off := c.listWindow(len(fs), rows)
	var out []string
	for i := off; i < len(fs) && len(out) < rows; i++ {
		f := fs[i]
		mark, name := c.rowMark(i == c.cursor[chaosFindings])
		t, s := findingState(st, f.State)
		out = append(out, mark+cell(s, t, stateW)+" "+cell(name, f.Scenario, scW)+" "+cell(st.Text, f.Safeguard, sgW)+" "+cell(st.Text, f.Summary, sumW))
	}
	return head, out
}

// knowledgeRows is the knowledge base: the verified fixes.
func (c *chaosModel) knowledgeRows(w, rows int) (string, []string) {
	st := c.pc.styles
	ks := c.pc.chaos.status.Knowledge
	const sgW, whenW = 22, 10
	scW := min(max(w/4, 14), 28)
	fixW := max(w-2-scW-sgW-whenW-3, 0)
	head := "  " + fit("SCENARIO", scW) + " " + fit("SAFEGUARD", sgW) + " " + fit("VERIFIED", whenW) + " " + fit("FIX", fixW)
	if len(ks) == 0 {
		return head, []string{st.Muted.Render("no verified fix yet")}
	}
	if ks = c.shownKnowledge(); len(ks) == 0 {
		return head, c.noMatch(w)
	}
	off := c.listWindow(len(ks), rows)
	var out []string
	for i := off; i < len(ks) && len(out) < rows; i++ {
		k := ks[i]
		mark, name := c.rowMark(i == c.cursor[chaosKnowledge])
		out = append(out, mark+cell(name, k.Scenario, scW)+" "+cell(st.Text, k.Safeguard, sgW)+" "+
			cell(st.Muted, c.ago(k.VerifiedAt), whenW)+" "+cell(st.Text, k.Fix, fixW))
	}
	return head, out
}

// detailLines is the selected row's whole detail at width w.
func (c *chaosModel) detailLines(w int) []string {
	st := c.pc.styles
	none := []string{st.Muted.Render(clip("nothing selected", w))}
	i := c.cursor[c.section]
	switch c.section {
	case chaosRuns:
		runs := c.shownRuns()
		if i < 0 || i >= len(runs) {
			return none
		}
		return c.runDetail(runs[i], w)
	case chaosFindings:
		fs := c.shownFindings()
		if i < 0 || i >= len(fs) {
			return none
		}
		return c.findingDetail(fs[i], w)
	case chaosKnowledge:
		ks := c.shownKnowledge()
		if i < 0 || i >= len(ks) {
			return none
		}
		k := ks[i]
		const lw = 11
		out := []string{st.kv("scenario", k.Scenario, lw, w), st.kv("safeguard", k.Safeguard, lw, w),
			st.kv("finding", k.FindingID, lw, w), st.kv("verified", k.VerifiedAt.In(c.pc.now().Location()).Format(time.DateTime)+" by "+k.VerifiedBy, lw, w),
			cell(st.Label, "fix", lw)}
		return append(out, wrapLines("  ", st.Text, k.Fix, 2, w)...)
	}
	sc, ok := c.selectedScenario()
	if !ok {
		return none
	}
	return c.scenarioDetail(sc, w)
}

// scenarioDetail describes a scenario: description, faults, safeguards,
// invariants, source and standing.
func (c *chaosModel) scenarioDetail(s engine.ChaosScenario, w int) []string {
	st := c.pc.styles
	const lw = 11
	vt, vs := verdictMark(st, s.LastVerdict)
	standing := "difficulty " + strconv.Itoa(max(s.Difficulty, 1)) + " · streak " + strconv.Itoa(s.Streak) + " · " + plural(s.Runs, "run")
	out := []string{
		st.Value.Render(clip(s.ID, w)) + st.Muted.Render(clip(" · "+s.Category, max(w-len(s.ID), 0))),
		cell(st.Label, "last", lw) + vs.Render(clip(vt, w-lw)),
		st.kv("standing", standing, lw, w),
		"",
	}
	out = append(out, wrapLines("", st.Text, orDash(s.Description), 0, w)...)
	out = append(out, "", cell(st.Label, "faults", lw))
	out = append(out, bullets(st, orDashList(s.Faults), w)...)
	out = append(out, cell(st.Label, "safeguards", lw))
	out = append(out, bullets(st, orDashList(s.Safeguards), w)...)
	out = append(out, cell(st.Label, "invariants", lw))
	out = append(out, bullets(st, orDashList(s.Invariants), w)...)
	out = append(out, st.kv("source", orDash(s.Source), lw, w))
	return out
}

// orDashList gives an empty list one "—" item.
func orDashList(xs []string) []string {
	if len(xs) == 0 {
		return []string{"—"}
	}
	return xs
}

// runDetail describes a run: its verdict, and each scenario's result with
// its safeguards, invariants and failures.
func (c *chaosModel) runDetail(r engine.ChaosRun, w int) []string {
	st := c.pc.styles
	const lw = 11
	vt, vs := verdictMark(st, r.State)
	who := r.Trigger
	if r.Operator != "" {
		who += " · " + r.Operator
	}
	where := "isolated engine"
	if r.Live {
		where = "live engine"
	}
	out := []string{
		st.Value.Render(clip(r.RunID, w)),
		cell(st.Label, "verdict", lw) + vs.Render(clip(vt+" · "+runCount(r), w-lw)),
		st.kv("when", c.runWhen(r), lw, w),
		st.kv("who", who+" · "+where, lw, w),
	}
	if r.HaltedBy != "" {
		out = append(out, cell(st.Label, "halted", lw)+st.Warn.Render(clip("■ by "+r.HaltedBy, w-lw)))
	}
	if r.Error != "" {
		// Wrapped, not cut: the end of an error is often the part that
		// says what went wrong.
		out = append(out, wrapLines(cell(st.Label, "error", lw), st.Crit, r.Error, lw, w)...)
	}
	for _, res := range r.Scenarios {
		mark, ms := "✓ ", st.OK
		if !res.Passed {
			mark, ms = "✗ ", st.Crit
		}
		out = append(out, "", ms.Render(mark)+st.Value.Render(clip(res.ID, w-2))+
			st.Muted.Render(clip(" · difficulty "+strconv.Itoa(res.Difficulty)+" · "+fmtTook(time.Duration(res.DurationMS)*time.Millisecond), max(w-2-len(res.ID), 0))))
		for _, f := range res.Failures {
			out = append(out, wrapLines(st.Crit.Render("  ✗ "), st.Crit, f, 4, w)...)
		}
		if res.Error != "" {
			// Not carried out: nothing below was measured, so none of it is
			// shown as if it had been (an unchecked audit is not a broken one).
			if !slices.Contains(res.Failures, res.Error) {
				out = append(out, wrapLines(st.Crit.Render("  ✗ "), st.Crit, "not carried out: "+res.Error, 4, w)...)
			}
			out = append(out, wrapLines("  invariants ", st.Text, "not checked: the scenario was not carried out", 13, w)...)
			continue
		}
		var sgs []string
		for _, sg := range res.Safeguards {
			m := "✓ "
			switch {
			case sg.Expected && !sg.Fired:
				m = "✗ "
			case !sg.Expected:
				m = "· "
			}
			m += sg.Name
			if !sg.Enabled {
				m += " (off)"
			}
			sgs = append(sgs, m)
		}
		if len(sgs) > 0 {
			out = append(out, wrapLines("  safeguards ", st.Text, strings.Join(sgs, "  "), 13, w)...)
		}
		inv := res.Invariants
		invText := "lost " + strconv.Itoa(inv.Lost) + " · duplicated " + strconv.Itoa(inv.Duplicated) +
			" · unauthorized " + strconv.Itoa(inv.UnauthorizedExecutions) + revivedText(inv.CancelledRevived) + " · audit "
		if inv.AuditIntact {
			invText += "intact"
		} else {
			invText += "BROKEN"
		}
		if inv.Linearizable != nil {
			if *inv.Linearizable {
				invText += " · linearizable"
			} else {
				invText += " · NOT linearizable"
			}
		}
		out = append(out, wrapLines("  invariants ", st.Text, invText, 13, w)...)
	}
	if p, id, ok := c.pc.chaos.live(); ok && id == r.RunID {
		out = append(out, "", st.Warn.Render(clip("▶ now: "+p.Scenario+" · "+phaseText(p.Phase), w)))
	}
	return out
}

// findingDetail describes a finding and shows its playbook.
func (c *chaosModel) findingDetail(f engine.ChaosFinding, w int) []string {
	st := c.pc.styles
	const lw = 11
	t, s := findingState(st, f.State)
	loc := c.pc.now().Location()
	out := []string{
		st.Value.Render(clip(f.ID, w)),
		cell(st.Label, "state", lw) + s.Render(clip(t, w-lw)),
		st.kv("scenario", f.Scenario+" · run "+f.RunID, lw, w),
		st.kv("safeguard", f.Safeguard, lw, w),
		st.kv("found", f.CreatedAt.In(loc).Format(time.DateTime)+" · updated "+f.UpdatedAt.In(loc).Format(time.DateTime), lw, w),
	}
	if f.RemediationIntent != "" {
		out = append(out, st.kv("remedy", f.RemediationIntent, lw, w))
	}
	if f.VerifiedBy != "" {
		out = append(out, st.kv("verified", "by run "+f.VerifiedBy, lw, w))
	}
	out = append(out, wrapLines(cell(st.Label, "summary", lw), st.Text, orDash(f.Summary), lw, w)...)
	out = append(out, "", st.TableHeader.Render(clip("PLAYBOOK "+f.Playbook, w)))
	for _, l := range strings.Split(strings.TrimRight(f.PlaybookYAML, "\n"), "\n") {
		out = append(out, st.Text.Render(clip(strings.ReplaceAll(l, "\t", "  "), w)))
	}
	return out
}

// revivedText names cancelled intents that ran again; nothing when none
// did (most scenarios cancel nothing).
func revivedText(n int) string {
	if n == 0 {
		return ""
	}
	return " · cancelled revived " + strconv.Itoa(n)
}
