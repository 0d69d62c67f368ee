package tui

import (
	"slices"
	"strconv"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"grace/engine"
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
// selected scenario and R the whole library (each asks y/N). On an engine
// without a chaos service it explains that instead.
type chaosModel struct {
	pc      *programContext
	section chaosSection

	scenarios  []engine.ChaosScenario
	scenLoaded bool
	runs       []engine.ChaosRun
	runsLoaded bool

	cursor [chaosSectionCount]int
	offset [chaosSectionCount]int
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
func newChaos(pc *programContext) *chaosModel { return &chaosModel{pc: pc} }

func (c *chaosModel) id() screenID     { return screenChaos }
func (c *chaosModel) title() string    { return "Chaos" }
func (c *chaosModel) setSize(w, h int) { c.w, c.h = w, h }
func (c *chaosModel) capturing() bool  { return c.confirm != nil }

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
	return tea.Batch(chaosScenariosCmd(c.pc.ctx, api), chaosHistoryCmd(c.pc.ctx, api))
}

// rowCount is how many rows the current section lists.
func (c *chaosModel) rowCount() int {
	switch c.section {
	case chaosRuns:
		return len(c.runs)
	case chaosFindings:
		return len(c.pc.chaos.status.Findings)
	case chaosKnowledge:
		return len(c.pc.chaos.status.Knowledge)
	}
	return len(c.scenarios)
}

// selectedScenario is the scenario under the cursor.
func (c *chaosModel) selectedScenario() (engine.ChaosScenario, bool) {
	i := c.cursor[chaosScenarios]
	if i < 0 || i >= len(c.scenarios) {
		return engine.ChaosScenario{}, false
	}
	return c.scenarios[i], true
}

// update takes the screen's keys and the answers to its requests.
func (c *chaosModel) update(msg tea.Msg) tea.Cmd {
	pc := c.pc
	switch msg := msg.(type) {
	case tea.KeyMsg:
		return c.handleKey(msg)
	case chaosScenariosMsg:
		if msg.err != nil {
			pc.fail(msg.err.Error())
			return nil
		}
		c.scenarios, c.scenLoaded = msg.items, true
	case chaosHistoryMsg:
		if msg.err != nil {
			pc.fail(msg.err.Error())
			return nil
		}
		c.runs, c.runsLoaded = msg.runs, true
	case chaosStartedMsg:
		c.starting = false
		if msg.err != nil {
			pc.fail("chaos run of " + msg.what + " refused: " + chaosErrText(msg.err))
			pc.log.Warn("chaos run refused", "what", msg.what, "err", msg.err)
			return pc.chaos.fetch(pc)
		}
		pc.info("chaos run " + msg.run.RunID + " started: " + msg.what)
		pc.log.Info("chaos run started", "run", msg.run.RunID, "what", msg.what, "operator", pc.operator)
		run := msg.run
		if pc.chaos.status.Running == nil || pc.chaos.status.Running.RunID != run.RunID {
			pc.chaos.status.Running = &run
		}
		c.section, c.detail = chaosScenarios, false
		return pc.chaos.fetch(pc)
	case chaosRunMsg:
		if msg.err != nil {
			pc.warn(msg.err.Error())
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
	if !c.pc.chaos.available() {
		return nil
	}
	n := c.rowCount()
	cur := &c.cursor[c.section]
	page := max(c.h-8, 1)
	switch {
	case pressed(msg, k.RunChaos):
		sc, ok := c.selectedScenario()
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
}

// runByID asks to run scenario id (the :chaos run command): it checks the
// ID against the library when the library is known.
func (c *chaosModel) runByID(id string) {
	if c.scenLoaded && !slices.ContainsFunc(c.scenarios, func(s engine.ChaosScenario) bool { return s.ID == id }) {
		ids := make([]string, 0, len(c.scenarios))
		for _, s := range c.scenarios {
			ids = append(ids, s.ID)
		}
		c.pc.fail("no chaos scenario " + id + " (known: " + strings.Join(ids, ", ") + ")")
		return
	}
	c.section, c.detail = chaosScenarios, false
	for i, s := range c.scenarios {
		if s.ID == id {
			c.cursor[chaosScenarios] = i
		}
	}
	c.ask(engine.ChaosRequest{Scenarios: []string{id}}, id)
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
	c.pc.info("starting chaos run: " + what + "…")
	return startChaosCmd(c.pc.ctx, c.pc.chaos.api, req, what)
}

// back closes the detail, if one is open.
func (c *chaosModel) back() (bool, tea.Cmd) {
	if c.detail {
		c.detail, c.scroll = false, 0
		return true, nil
	}
	return false, nil
}

// ShortHelp lists the screen's keys for the footer.
func (c *chaosModel) ShortHelp() []key.Binding {
	k := c.pc.keys
	if c.confirm != nil {
		return []key.Binding{helpOnly(k.ConfirmYes, firstKey(k.ConfirmYes), "run"),
			key.NewBinding(key.WithKeys("n"), key.WithHelp("any other key", "no"))}
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
	return append(out, k.Open, helpOnly(k.NextSection, firstKey(k.PrevSection)+"/"+firstKey(k.NextSection), "section"))
}

// FullHelp lists the screen's own keys (the root adds the list keys).
func (c *chaosModel) FullHelp() [][]key.Binding {
	k := c.pc.keys
	return [][]key.Binding{{
		helpOnly(k.NextSection, firstKey(k.PrevSection)+"/"+firstKey(k.NextSection), "scenarios, runs, findings…"),
		helpOnly(k.RunChaos, k.RunChaos.Help().Key, "run scenario (y/N)"),
		helpOnly(k.RunAllChaos, k.RunAllChaos.Help().Key, "run all (y/N)"),
		helpOnly(k.Down, firstKey(k.Down)+"/"+firstKey(k.Up), "scroll a detail"),
	}}
}

// tabsLine is the sections with their counts, the current one marked.
func (c *chaosModel) tabsLine(w int) string {
	st := c.pc.styles
	var b strings.Builder
	for s := chaosScenarios; s < chaosSectionCount; s++ {
		label := s.name()
		switch s {
		case chaosScenarios:
			if c.scenLoaded {
				label += " " + strconv.Itoa(len(c.scenarios))
			}
		case chaosRuns:
			if c.runsLoaded {
				label += " " + strconv.Itoa(len(c.runs))
			}
		case chaosFindings:
			if !c.pc.chaos.statusAt.IsZero() {
				label += " " + strconv.Itoa(len(c.pc.chaos.status.Findings))
			}
		case chaosKnowledge:
			if !c.pc.chaos.statusAt.IsZero() {
				label += " " + strconv.Itoa(len(c.pc.chaos.status.Knowledge))
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
