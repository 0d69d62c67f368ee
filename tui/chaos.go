package tui

import (
	"slices"
	"strconv"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"grace/engine"
	"grace/engine/chaos"
)

// chaosSection is one of the Chaos screen's lists.
type chaosSection int

const (
	// chaosScenarios: the library by category, with each scenario's
	// standing, and the run in progress or the last verdict above it.
	chaosScenarios chaosSection = iota
	// chaosRuns: the stored runs, newest first.
	chaosRuns
	// chaosFindings: what the autonomous loop found, with its playbooks.
	chaosFindings
	// chaosKnowledge: the verified fixes.
	chaosKnowledge
	chaosSectionCount
)

// name is the section's tab label.
func (s chaosSection) name() string {
	switch s {
	case chaosRuns:
		return "Runs"
	case chaosFindings:
		return "Findings"
	case chaosKnowledge:
		return "Knowledge"
	}
	return "Scenarios"
}

// chaosModel is screen 3: the chaos launcher. Its sections (h/l) are the
// scenarios grouped by category with their last verdict, pass streak,
// difficulty and runs, under the resilience score and the run in progress
// (or the last verdict); the stored runs; the loop's findings with their
// playbooks; and its knowledge base. j/k and g/G move, enter opens the
// selected row's detail (esc goes back, j/k scroll it), r runs the
// selected scenario and R the whole library (each asks y/N). / filters the
// current section (enter keeps the filter, esc clears it; each section
// keeps its own). On an engine without a chaos service it explains that
// instead.
type chaosModel struct {
	pc      *programContext
	section chaosSection

	scenarios  []engine.ChaosScenario
	scenLoaded bool
	runs       []engine.ChaosRun
	runsLoaded bool
	// scenFailed and runsFailed are why the library and the runs could
	// not be fetched ("" once they were); scenFetching and runsFetching
	// say a fetch is on its way.
	scenFailed, runsFailed     string
	scenFetching, runsFetching bool

	// cursor is each section's selected row among the rows its filter
	// shows.
	cursor [chaosSectionCount]int
	offset [chaosSectionCount]int
	// filter is the filter box; query is the filter in force in each
	// section.
	filter filterBox
	query  [chaosSectionCount]string
	detail bool
	scroll int
	// detailRoom is how many lines the last detail view showed.
	detailRoom int

	// confirm is the run waiting for its y/N (nil when none); what names
	// it in the question.
	confirm *engine.ChaosRequest
	what    string
	// starting says a start request is on its way.
	starting bool
	w, h     int
}

// newChaos returns the chaos screen.
func newChaos(pc *programContext) *chaosModel {
	return &chaosModel{pc: pc, filter: newFilterBox()}
}

func (c *chaosModel) id() screenID     { return screenChaos }
func (c *chaosModel) title() string    { return "Chaos" }
func (c *chaosModel) setSize(w, h int) { c.w, c.h = w, h }

// capturing reports whether the run question or the filter box takes
// every key.
func (c *chaosModel) capturing() bool { return c.confirm != nil || c.filter.editing }

// focus fetches the library, the runs and the status.
func (c *chaosModel) focus() tea.Cmd {
	return tea.Batch(c.refresh(), c.pc.chaos.fetch(c.pc))
}

// refresh fetches the library and the stored runs (nil without a chaos
// service).
func (c *chaosModel) refresh() tea.Cmd {
	api := c.pc.chaos.api
	if api == nil {
		return nil
	}
	c.scenFetching, c.runsFetching = true, true
	return tea.Batch(chaosScenariosCmd(c.pc.ctx, api), chaosHistoryCmd(c.pc.ctx, api))
}

// tick fetches again, while the screen shows, the library or the runs
// that could not be fetched and were never loaded: otherwise the screen
// said "loading" until the operator left it and came back.
func (c *chaosModel) tick() tea.Cmd {
	api := c.pc.chaos.api
	if api == nil {
		return nil
	}
	var cmds []tea.Cmd
	if !c.scenLoaded && c.scenFailed != "" && !c.scenFetching {
		c.scenFetching = true
		cmds = append(cmds, chaosScenariosCmd(c.pc.ctx, api))
	}
	if !c.runsLoaded && c.runsFailed != "" && !c.runsFetching {
		c.runsFetching = true
		cmds = append(cmds, chaosHistoryCmd(c.pc.ctx, api))
	}
	return tea.Batch(cmds...)
}

// rowCount is how many rows the current section shows under its filter.
func (c *chaosModel) rowCount() int { return c.shownCount(c.section) }

// shownCount is how many rows section s shows under its filter.
func (c *chaosModel) shownCount(s chaosSection) int {
	switch s {
	case chaosRuns:
		return len(c.shownRuns())
	case chaosFindings:
		return len(c.shownFindings())
	case chaosKnowledge:
		return len(c.shownKnowledge())
	}
	return len(c.shownScenarios())
}

// totalCount is how many rows section s has, filter or not.
func (c *chaosModel) totalCount(s chaosSection) int {
	switch s {
	case chaosRuns:
		return len(c.runs)
	case chaosFindings:
		return len(c.pc.chaos.status.Findings)
	case chaosKnowledge:
		return len(c.pc.chaos.status.Knowledge)
	}
	return len(c.scenarios)
}

// words are section s's filter, lower-cased, word by word: a row is shown
// when its text holds every one.
func (c *chaosModel) words(s chaosSection) []string {
	return strings.Fields(strings.ToLower(c.query[s]))
}

// shownScenarios are the scenarios whose ID, category or description
// match the Scenarios filter, in library order.
func (c *chaosModel) shownScenarios() []engine.ChaosScenario {
	return filterRows(c.scenarios, c.words(chaosScenarios), func(s engine.ChaosScenario) []string {
		return []string{s.ID, s.Category, s.Description}
	})
}

// shownRuns are the runs whose ID, state, operator (or trigger) or
// scenario IDs match the Runs filter, newest first.
func (c *chaosModel) shownRuns() []engine.ChaosRun {
	return filterRows(c.runs, c.words(chaosRuns), func(r engine.ChaosRun) []string {
		out := append([]string{r.RunID, r.State, r.Operator, r.Trigger}, r.Requested...)
		for _, res := range r.Scenarios {
			out = append(out, res.ID)
		}
		return out
	})
}

// shownFindings are the findings whose scenario, safeguard, state or
// summary match the Findings filter.
func (c *chaosModel) shownFindings() []engine.ChaosFinding {
	return filterRows(c.pc.chaos.status.Findings, c.words(chaosFindings), func(f engine.ChaosFinding) []string {
		return []string{f.Scenario, f.Safeguard, f.State, f.Summary}
	})
}

// shownKnowledge are the verified fixes whose scenario, safeguard or fix
// match the Knowledge filter.
func (c *chaosModel) shownKnowledge() []engine.ChaosKnowledge {
	return filterRows(c.pc.chaos.status.Knowledge, c.words(chaosKnowledge), func(k engine.ChaosKnowledge) []string {
		return []string{k.Scenario, k.Safeguard, k.Fix}
	})
}

// filterRows is the rows whose fields, lower-cased, hold every word; all
// of them (the same slice) when there are no words.
func filterRows[T any](rows []T, words []string, fields func(T) []string) []T {
	if len(words) == 0 {
		return rows
	}
	var out []T
	for _, r := range rows {
		if matchesAll(strings.ToLower(strings.Join(fields(r), " ")), words) {
			out = append(out, r)
		}
	}
	return out
}

// selectedKey names the current section's selected row ("" when none),
// so the selection can be found again when the filter changes.
func (c *chaosModel) selectedKey() string {
	keys := c.rowKeys()
	if i := c.cursor[c.section]; i >= 0 && i < len(keys) {
		return keys[i]
	}
	return ""
}

// rowKeys name the current section's shown rows, in order.
func (c *chaosModel) rowKeys() []string {
	var keys []string
	switch c.section {
	case chaosRuns:
		for _, r := range c.shownRuns() {
			keys = append(keys, r.RunID)
		}
	case chaosFindings:
		for _, f := range c.shownFindings() {
			keys = append(keys, f.ID)
		}
	case chaosKnowledge:
		for _, k := range c.shownKnowledge() {
			keys = append(keys, k.FindingID+"\x00"+k.Scenario+"\x00"+k.Safeguard)
		}
	default:
		for _, s := range c.shownScenarios() {
			keys = append(keys, s.ID)
		}
	}
	return keys
}

// setFilter puts q in force on the current section and keeps the cursor
// on a shown row: the one selected before when it is still shown.
func (c *chaosModel) setFilter(q string) {
	sel := c.selectedKey()
	c.query[c.section] = strings.TrimSpace(q)
	keys := c.rowKeys()
	cur := &c.cursor[c.section]
	if i := slices.Index(keys, sel); sel != "" && i >= 0 {
		*cur = i
	}
	*cur = min(max(*cur, 0), max(len(keys)-1, 0))
}

// selectedScenario is the scenario under the cursor among those shown.
func (c *chaosModel) selectedScenario() (engine.ChaosScenario, bool) {
	shown := c.shownScenarios()
	i := c.cursor[chaosScenarios]
	if i < 0 || i >= len(shown) {
		return engine.ChaosScenario{}, false
	}
	return shown[i], true
}

// update takes the screen's keys and the answers to its requests.
func (c *chaosModel) update(msg tea.Msg) tea.Cmd {
	pc := c.pc
	switch msg := msg.(type) {
	case tea.KeyMsg:
		return c.handleKey(msg)
	case chaosScenariosMsg:
		c.scenFetching = false
		if msg.err != nil {
			c.scenFailed = msg.err.Error()
			pc.bgFail(aboutChaos, failText(msg.err))
			return nil
		}
		pc.ok(aboutChaos)
		c.scenarios, c.scenLoaded, c.scenFailed = msg.items, true, ""
	case chaosHistoryMsg:
		c.runsFetching = false
		if msg.err != nil {
			c.runsFailed = msg.err.Error()
			pc.bgFail(aboutChaos, failText(msg.err))
			return nil
		}
		pc.ok(aboutChaos)
		c.runs, c.runsLoaded, c.runsFailed = msg.runs, true, ""
	case chaosStartedMsg:
		c.starting = false
		if msg.err != nil {
			pc.fail("chaos run of " + msg.what + " refused: " + chaosErrText(msg.err))
			pc.log.Warn("chaos run refused", "what", msg.what, "err", msg.err)
			return pc.chaos.fetch(pc)
		}
		pc.log.Info("chaos run started", "run", msg.run.RunID, "what", msg.what, "operator", pc.operator)
		run := msg.run
		if pc.chaos.endedID == run.RunID {
			// A short run's end came over the event stream before the
			// answer to its start: the status line says its verdict.
			pc.ok(aboutRunAsk)
			c.section, c.detail = chaosScenarios, false
			return pc.chaos.fetch(pc)
		}
		// Said until the run ends (noteChaos), not after.
		pc.status.setAbout(aboutRunStart(run.RunID), levelInfo, "chaos run "+run.RunID+" started: "+msg.what, pc.now())
		if pc.chaos.status.Running == nil || pc.chaos.status.Running.RunID != run.RunID {
			pc.chaos.status.Running = &run
		}
		c.section, c.detail = chaosScenarios, false
		return pc.chaos.fetch(pc)
	case chaosRunMsg:
		if msg.err != nil {
			pc.bgWarn(aboutRunEnd, failText(msg.err))
			return nil
		}
		run := msg.run
		pc.chaos.last = &run
		c.noteRun(run)
	}
	return nil
}

// noteRun puts a run that ended at the head of the runs list.
func (c *chaosModel) noteRun(run engine.ChaosRun) {
	c.runs = slices.DeleteFunc(c.runs, func(r engine.ChaosRun) bool { return r.RunID == run.RunID })
	c.runs = slices.Insert(c.runs, 0, run)
}

// handleKey answers a key: the open question first, then the section,
// list, detail and run keys.
func (c *chaosModel) handleKey(msg tea.KeyMsg) tea.Cmd {
	k := c.pc.keys
	if c.confirm != nil {
		return c.confirmKey(msg)
	}
	if c.filter.editing {
		c.setFilter(c.filter.handleKey(k, msg))
		return nil
	}
	if !c.pc.chaos.available() {
		return nil
	}
	n := c.rowCount()
	cur := &c.cursor[c.section]
	page := max(c.h-8, 1)
	switch {
	case pressed(msg, k.RunChaos):
		sc, ok := c.selectedScenario()
		if c.section == chaosScenarios && !c.scenLoaded {
			// Nothing to select yet: say why, not "select a scenario".
			c.pc.warn("no scenario to run: " + c.libraryState())
			return nil
		}
		if c.section != chaosScenarios || !ok {
			c.pc.warn("select a scenario to run (" + firstKey(k.PrevSection) + "/" + firstKey(k.NextSection) + " to Scenarios)")
			return nil
		}
		c.ask(engine.ChaosRequest{Scenarios: []string{sc.ID}}, sc.ID)
		return nil
	case pressed(msg, k.RunAllChaos):
		c.ask(engine.ChaosRequest{All: true}, "all scenarios")
		return nil
	case key.Matches(msg, k.NextSection):
		c.section, c.detail, c.scroll = (c.section+1)%chaosSectionCount, false, 0
		return nil
	case key.Matches(msg, k.PrevSection):
		c.section, c.detail, c.scroll = (c.section+chaosSectionCount-1)%chaosSectionCount, false, 0
		return nil
	case key.Matches(msg, k.Open):
		if n > 0 {
			c.detail, c.scroll = true, 0
		}
		return nil
	case key.Matches(msg, k.Filter):
		c.detail, c.scroll = false, 0
		c.filter.start(c.query[c.section])
		return nil
	}
	if c.detail {
		room := max(c.detailMax()-c.detailRoom, 0)
		switch {
		case key.Matches(msg, k.Down):
			c.scroll++
		case key.Matches(msg, k.Up):
			c.scroll--
		case key.Matches(msg, k.PageDown):
			c.scroll += page
		case key.Matches(msg, k.PageUp):
			c.scroll -= page
		case key.Matches(msg, k.Top):
			c.scroll = 0
		case key.Matches(msg, k.Bottom):
			c.scroll = room
		}
		c.scroll = min(max(c.scroll, 0), room)
		return nil
	}
	switch {
	case key.Matches(msg, k.Down):
		*cur++
	case key.Matches(msg, k.Up):
		*cur--
	case key.Matches(msg, k.Top):
		*cur = 0
	case key.Matches(msg, k.Bottom):
		*cur = n - 1
	case key.Matches(msg, k.PageDown):
		*cur += page
	case key.Matches(msg, k.PageUp):
		*cur -= page
	}
	*cur = min(max(*cur, 0), max(n-1, 0))
	return nil
}

// detailMax is how many lines the open detail has.
func (c *chaosModel) detailMax() int { return len(c.detailLines(max(c.w-4, 10))) }

// ask opens the y/N question for req, or says why it cannot.
func (c *chaosModel) ask(req engine.ChaosRequest, what string) {
	pc := c.pc
	switch {
	case pc.readOnly:
		pc.warn("read-only console: running chaos is disabled")
		return
	case !pc.chaos.available():
		pc.warn(engine.ErrChaosUnavailable.Error())
		return
	case pc.operator == "":
		pc.fail("chaos run refused: no operator name to record it under")
		return
	case c.starting:
		pc.warn("still waiting for the engine to start the last run")
		return
	}
	if _, id, ok := pc.chaos.live(); ok {
		pc.warn("chaos run " + id + " is in progress: wait for it, or halt it (" + firstKey(pc.keys.HaltChaos) + ")")
		return
	}
	req.Operator, req.Trigger = pc.operator, engine.ChaosTriggerOperator
	c.confirm, c.what = &req, what
	pc.status.dismiss()
}

// runByID asks to run scenario id (the :chaos run command): it checks the
// ID against the library when the library is known.
func (c *chaosModel) runByID(id string) {
	if c.scenLoaded && !slices.ContainsFunc(c.scenarios, func(s engine.ChaosScenario) bool { return s.ID == id }) {
		if m := c.suggest(id); m != "" {
			// As the CLI says it: the whole list cut at the edge of the
			// status line did not show the one meant.
			c.pc.fail("no chaos scenario " + id + ": did you mean " + m + "? (scenario IDs are case-sensitive)")
			return
		}
		ids := make([]string, 0, len(c.scenarios))
		for _, s := range c.scenarios {
			ids = append(ids, s.ID)
		}
		c.pc.fail("no chaos scenario " + id + " (known: " + strings.Join(ids, ", ") + ")")
		return
	}
	c.section, c.detail = chaosScenarios, false
	shown := c.shownScenarios()
	if c.scenLoaded && !slices.ContainsFunc(shown, func(s engine.ChaosScenario) bool { return s.ID == id }) {
		// The filter hides the scenario asked for: it is shown again.
		c.query[chaosScenarios] = ""
		shown = c.scenarios
	}
	for i, s := range shown {
		if s.ID == id {
			c.cursor[chaosScenarios] = i
		}
	}
	c.ask(engine.ChaosRequest{Scenarios: []string{id}}, id)
}

// suggest is the scenario the operator may have meant by id, or "", as
// the CLI finds it (chaos.Library.Suggest): the one whose ID differs only
// in case, else the one whose ID holds id (case aside).
func (c *chaosModel) suggest(id string) string {
	lib := chaos.Library{Scenarios: make([]*chaos.Scenario, len(c.scenarios))}
	for i, s := range c.scenarios {
		lib.Scenarios[i] = &chaos.Scenario{ID: s.ID}
	}
	return lib.Suggest(id)
}

// confirmKey answers the run question: the confirm key starts the run,
// any other key cancels it.
func (c *chaosModel) confirmKey(msg tea.KeyMsg) tea.Cmd {
	req, what := *c.confirm, c.what
	c.confirm = nil
	if !key.Matches(msg, c.pc.keys.ConfirmYes) {
		c.pc.info("chaos run cancelled: " + what + " not run")
		return nil
	}
	c.starting = true
	c.pc.status.setAbout(aboutRunAsk, levelInfo, "starting chaos run: "+what+"…", c.pc.now())
	return startChaosCmd(c.pc.ctx, c.pc.chaos.api, req, what)
}

// back closes the detail, else clears the current section's filter; it
// reports whether esc did either.
func (c *chaosModel) back() (bool, tea.Cmd) {
	switch {
	case c.detail:
		c.detail, c.scroll = false, 0
	case c.query[c.section] != "":
		c.setFilter("")
		c.pc.info("filter cleared")
	default:
		return false, nil
	}
	return true, nil
}

// ShortHelp lists the screen's keys for the footer.
func (c *chaosModel) ShortHelp() []key.Binding {
	k := c.pc.keys
	if c.confirm != nil {
		return []key.Binding{helpOnly(k.ConfirmYes, firstKey(k.ConfirmYes), "run"),
			key.NewBinding(key.WithKeys("n"), key.WithHelp("any other key", "no"))}
	}
	if c.filter.editing {
		return []key.Binding{helpOnly(k.Submit, "enter", "keep filter"), helpOnly(k.Cancel, "esc", "clear")}
	}
	if !c.pc.chaos.available() {
		return nil
	}
	out := []key.Binding{}
	if c.section == chaosScenarios {
		out = append(out, helpOnly(k.RunChaos, firstKey(k.RunChaos), "run"), helpOnly(k.RunAllChaos, firstKey(k.RunAllChaos), "run all"))
	}
	out = append(out, helpOnly(k.HaltChaos, firstKey(k.HaltChaos), "halt"))
	if c.detail {
		return append(out, helpOnly(k.Back, firstKey(k.Back), "back"), scrollBinding(k))
	}
	return append(out, k.Open, helpOnly(k.Filter, firstKey(k.Filter), "filter"),
		helpOnly(k.NextSection, firstKey(k.PrevSection)+"/"+firstKey(k.NextSection), "section"))
}

// FullHelp lists the screen's own keys (the root adds the list keys).
func (c *chaosModel) FullHelp() [][]key.Binding {
	k := c.pc.keys
	return [][]key.Binding{{
		helpOnly(k.NextSection, firstKey(k.PrevSection)+"/"+firstKey(k.NextSection), "previous, next section"),
		helpOnly(k.RunChaos, k.RunChaos.Help().Key, "run scenario (y/N)"),
		helpOnly(k.RunAllChaos, k.RunAllChaos.Help().Key, "run all (y/N)"),
		helpOnly(k.Filter, firstKey(k.Filter), "filter the section"),
		helpOnly(k.Back, firstKey(k.Back), "back, clear the filter"),
		helpOnly(k.Down, firstKey(k.Down)+"/"+firstKey(k.Up), "scroll a detail"),
	}}
}

// tabsLine is the sections with their counts, the current one marked.
func (c *chaosModel) tabsLine(w int) string {
	st := c.pc.styles
	var b strings.Builder
	for s := chaosScenarios; s < chaosSectionCount; s++ {
		label := s.name()
		loaded := !c.pc.chaos.statusAt.IsZero()
		switch s {
		case chaosScenarios:
			loaded = c.scenLoaded
		case chaosRuns:
			loaded = c.runsLoaded
		}
		if loaded {
			// A filtered section shows how many of its rows it shows.
			label += " " + strconv.Itoa(c.totalCount(s))
			if c.query[s] != "" {
				label = s.name() + " " + strconv.Itoa(c.shownCount(s)) + "/" + strconv.Itoa(c.totalCount(s))
			}
		}
		if s == c.section {
			b.WriteString(st.TabActive.Render("[" + label + "]"))
		} else {
			b.WriteString(st.Tab.Render(" " + label + " "))
		}
		b.WriteString(" ")
	}
	return fit(b.String(), w)
}
