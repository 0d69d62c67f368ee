package tui

import (
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"grace/engine"
)

// maxHistory bounds the command line's history.
const maxHistory = 100

// commandNames are the commands the command line completes, in the order
// help lists them.
var commandNames = []string{"dashboard", "approvals", "review", "narratives", "search", "story", "cancel", "retry", "pause", "resume", "verify", "chaos", "alerts", "help", "quit", "q"}

// cmdLine is the ":" command line: one line of input over the status line,
// enter runs it, esc closes it, ↑/↓ walk the history of commands run, tab
// completes a command's name.
type cmdLine struct {
	input   lineInput
	open    bool
	history []string
	// pos is the history entry shown while walking it; len(history)
	// means the line being typed, kept in draft.
	pos   int
	draft string
}

// newCmdLine returns a closed command line.
func newCmdLine() cmdLine {
	return cmdLine{input: newLineInput("dashboard, approvals, review, chaos [run ID|--all|halt], search words…, story ID, cancel|retry ID [reason], pause reason, resume, q")}
}

// start opens the line, empty.
func (c *cmdLine) start() {
	c.open, c.pos, c.draft = true, len(c.history), ""
	c.input.Reset()
}

// handleKey applies a key while the line is open. It returns the line to
// run when the operator pressed enter.
func (c *cmdLine) handleKey(k *keyMap, msg tea.KeyMsg) (run string, ok bool) {
	switch {
	case msg.Type == tea.KeyEnter || pressed(msg, k.Submit):
		line := strings.TrimSpace(c.input.Value())
		c.open = false
		if line != "" && (len(c.history) == 0 || c.history[len(c.history)-1] != line) {
			c.history = append(c.history, line)
			if len(c.history) > maxHistory {
				c.history = c.history[len(c.history)-maxHistory:]
			}
		}
		return line, true
	case pressed(msg, k.Cancel):
		c.open = false
	case msg.Type == tea.KeyUp:
		if c.pos > 0 {
			if c.pos == len(c.history) {
				c.draft = c.input.Value()
			}
			c.pos--
			c.input.SetValue(c.history[c.pos])
		}
	case msg.Type == tea.KeyDown:
		if c.pos < len(c.history) {
			c.pos++
			if c.pos == len(c.history) {
				c.input.SetValue(c.draft)
			} else {
				c.input.SetValue(c.history[c.pos])
			}
		}
	case msg.Type == tea.KeyTab:
		c.complete()
	default:
		c.input.Update(msg)
	}
	return "", false
}

// complete finishes the command name being typed when only one fits.
func (c *cmdLine) complete() {
	v := c.input.Value()
	if strings.Contains(v, " ") {
		return
	}
	var match string
	for _, name := range commandNames {
		if strings.HasPrefix(name, v) {
			if match != "" {
				return
			}
			match = name
		}
	}
	if match != "" {
		c.input.SetValue(match + " ")
	}
}

// view renders the open line in w cells.
func (c *cmdLine) view(st *styles, w int) string {
	if w < 3 {
		return fit("", w)
	}
	return st.Prompt.Render(":") + c.input.View(st, w-1)
}

// helpKeys are the bindings that work while the line is open.
func (c *cmdLine) helpKeys(k *keyMap) []key.Binding {
	return []key.Binding{
		helpOnly(k.Submit, "enter", "run"), helpOnly(k.Cancel, "esc", "cancel"),
		key.NewBinding(key.WithKeys("up", "down"), key.WithHelp("↑/↓", "history")),
		key.NewBinding(key.WithKeys("tab"), key.WithHelp("tab", "complete")),
	}
}

// execute runs one command line. Unknown commands and bad arguments are
// said on the status line.
func (m *model) execute(line string) tea.Cmd {
	name, arg, _ := strings.Cut(strings.TrimSpace(line), " ")
	arg = strings.TrimSpace(arg)
	if name != "" {
		m.pc.ok(aboutCommand) // the last line's refusal is answered by this one
	}
	switch strings.ToLower(name) {
	case "":
		return nil
	case "q", "q!", "quit", "exit":
		return m.quit()
	case "dashboard", "dash", "1":
		return m.switchToID(screenDashboard)
	case "approvals", "approval", "pending", "2":
		cmd := m.switchToID(screenApprovals)
		return tea.Batch(cmd, m.approvals.switchSection(sectionPending))
	case "review", "reviews":
		cmd := m.switchToID(screenApprovals)
		return tea.Batch(cmd, m.approvals.switchSection(sectionReview))
	case "narratives", "narr", "history", "4":
		return m.switchToID(screenNarratives)
	case "search", "s":
		m.switchToID(screenNarratives)
		return m.narratives.run(arg)
	case "story":
		if arg == "" {
			m.pc.failAbout(aboutCommand, ":story needs an intent ID, as in :story int_…")
			return nil
		}
		return m.openStory(arg)
	case "cancel":
		return m.onIntentCommand(decisionCancel, arg)
	case "retry":
		return m.onIntentCommand(decisionRetry, arg)
	case "pause":
		return m.schedulerCommand(true, arg)
	case "resume":
		return m.schedulerCommand(false, arg)
	case "verify", "audit":
		return m.narratives.startVerify()
	case "chaos", "3":
		return m.chaosCommand(arg)
	case "alerts", "alert", "5":
		return m.switchToID(screenAlerts)
	case "help", "h", "?":
		m.showHelp = true
		return nil
	}
	m.pc.failAbout(aboutCommand, "unknown command :"+name+" (try :help)")
	return nil
}

// onIntentCommand runs ":cancel ID [reason…]" and ":retry ID [reason…]":
// unless the line gave a reason it asks for one on the status line, then
// cancels the intent (pending, queued or running) or submits the failed
// intent again, under the console's operator. The operator stays on the
// screen the command was typed on, and the result is said there. A
// read-only console refuses.
func (m *model) onIntentCommand(d decision, arg string) tea.Cmd {
	id, reason, _ := strings.Cut(arg, " ")
	if id == "" {
		m.pc.failAbout(aboutCommand, ":"+d.verb()+" needs an intent ID, as in :"+d.verb()+" int_… [reason]")
		return nil
	}
	if m.pc.readOnly {
		m.pc.readOnlyRefusal(d)
		return nil
	}
	return m.intentCmd.startWith(m.pc, d, id, strings.TrimSpace(reason))
}

// chaosCommand runs ":chaos …": alone it shows the Chaos screen; "run ID"
// asks (y/N) to run scenario ID there, "run --all" (or "run all") the
// whole library; "halt" asks (y/N) to halt every run; "runs",
// "findings" and "knowledge" open those sections.
func (m *model) chaosCommand(arg string) tea.Cmd {
	switchCmd := m.switchToID(screenChaos)
	verb, rest, _ := strings.Cut(arg, " ")
	rest = strings.TrimSpace(rest)
	switch strings.ToLower(verb) {
	case "":
		return switchCmd
	case "run":
		switch rest {
		case "":
			m.pc.failAbout(aboutCommand, ":chaos run needs a scenario ID, or --all")
		case "--all", "all":
			m.chaos.section, m.chaos.detail = chaosScenarios, false
			m.chaos.ask(engine.ChaosRequest{All: true}, "all scenarios")
		default:
			m.chaos.runByID(rest)
		}
		return switchCmd
	case "halt", "stop":
		m.startHalt()
		return switchCmd
	case "runs", "history":
		m.chaos.section, m.chaos.detail = chaosRuns, false
		return switchCmd
	case "findings", "playbooks":
		m.chaos.section, m.chaos.detail = chaosFindings, false
		return switchCmd
	case "knowledge", "kb":
		m.chaos.section, m.chaos.detail = chaosKnowledge, false
		return switchCmd
	}
	m.pc.failAbout(aboutCommand, "unknown :chaos "+verb+" (try :chaos run ID, :chaos run --all, :chaos halt, :chaos runs)")
	return switchCmd
}
