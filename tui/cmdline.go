package tui

import (
	"context"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"grace/engine"
	"grace/engine/intent"
)

// maxHistory bounds the command line's history.
const maxHistory = 100

// commandNames are the commands the command line completes, in the order
// help lists them.
var commandNames = []string{"dashboard", "approvals", "review", "narratives", "search", "story", "cancel", "retry", "pause", "resume", "verify", "messages", "chaos", "alerts", "silence", "silences", "unsilence", "help", "quit", "q"}

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
	return cmdLine{input: newLineInput("dashboard, approvals, review, chaos [run ID|--all|halt], search words…, story ID, cancel|retry ID [reason], pause reason, resume, silence MATCH 2h why, silences, unsilence ID, messages, q")}
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

// complete finishes the command name being typed when only one fits, or
// as far as those that fit agree: "sil" becomes "silence", which
// :silences extends (else no name that is the start of another, as
// silence, could be reached by tab).
func (c *cmdLine) complete() {
	v := c.input.Value()
	if strings.Contains(v, " ") {
		return
	}
	var matches []string
	for _, name := range commandNames {
		if strings.HasPrefix(name, v) {
			matches = append(matches, name)
		}
	}
	switch len(matches) {
	case 0:
		return
	case 1:
		c.input.SetValue(matches[0] + " ")
		return
	}
	common := matches[0]
	for _, name := range matches[1:] {
		for !strings.HasPrefix(name, common) {
			common = common[:len(common)-1]
		}
	}
	if len(common) > len(v) {
		c.input.SetValue(common)
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
	case "silence", "mute":
		return m.silenceCommand(arg)
	case "silences":
		return m.silencesCommand(arg)
	case "unsilence", "unmute", "expire":
		return m.unsilenceCommand(arg)
	case "messages", "message", "msgs", "msg":
		m.openMessages()
		return nil
	case "help", "h", "?":
		m.msgs.open = false
		m.showHelp = true
		return nil
	}
	m.pc.failAbout(aboutCommand, "unknown command :"+name+" (try :help)")
	return nil
}

// onIntentCommand runs ":cancel ID [reason…]" and ":retry ID [reason…]":
// unless the line gave a reason it looks the intent up and, if it can be
// cancelled (pending, queued or running) or retried (failed, cancelled,
// expired or shed), asks for one on the status line; then it cancels the
// intent or submits it again, under the console's operator. An unknown
// intent, or one in the wrong state, is said at once, before anything is
// typed for nothing. The operator stays on the screen the command was
// typed on, and the result is said there. A read-only console refuses.
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
	reason = strings.TrimSpace(reason)
	if second, _, _ := strings.Cut(reason, " "); looksLikeID(second) {
		// ":cancel int_A int_B wrong plan", as the CLI takes many: it
		// cancelled int_A with the reason "int_B wrong plan" and left
		// int_B alone.
		m.pc.failAbout(aboutCommand, ":"+d.verb()+" takes one intent ID, then the reason: "+second+" would be read as the reason; "+d.verb()+" each on its own (grace intent "+d.verb()+" takes many)")
		return nil
	}
	if reason != "" {
		return m.intentCmd.startWith(m.pc, d, id, reason)
	}
	return m.intentCmd.check(m.pc, d, id)
}

// looksLikeID reports whether word is written as an intent's ID is, in
// any case ("int_" and 26 more characters).
func looksLikeID(word string) bool {
	return len(word) == 30 && strings.EqualFold(word[:4], "int_")
}

// intentCheckedMsg is the intent a ":cancel ID" or ":retry ID" looked up
// before asking for the reason.
type intentCheckedMsg struct {
	decision decision
	id       string
	intent   intent.Intent
	err      error
}

// getIntentCmd looks intent id up for decision d.
func getIntentCmd(ctx context.Context, api engine.OperatorAPI, d decision, id string) tea.Cmd {
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(ctx, requestTimeout)
		defer cancel()
		it, err := api.Get(ctx, id)
		return intentCheckedMsg{decision: d, id: id, intent: it, err: err}
	}
}

// check looks intent id up before the reason for decision d (cancel or
// retry) is asked: start opens the prompt when the answer comes back
// (checked) and the intent can take d. It refuses as start does, and at
// once when the engine cannot cancel or retry at all.
func (d *decider) check(pc *programContext, dec decision, id string) tea.Cmd {
	switch {
	case pc.operator == "":
		pc.fail(dec.verb() + " refused: no operator name to record it under")
		return nil
	case d.stage == stageWaiting:
		pc.warn("still waiting for the engine's answer about " + d.target)
		return nil
	}
	if why := unsupported(pc.api, dec); why != "" {
		pc.fail(dec.verb() + " " + id + " failed: " + why)
		return nil
	}
	d.stage, d.dec, d.target = stageChecking, dec, id
	pc.info("looking up " + id + "…")
	return getIntentCmd(pc.ctx, pc.api, dec, id)
}

// checked takes the looked-up intent: the reason prompt opens when the
// intent can be cancelled (or retried); otherwise the status line says
// why not. An answer about an intent no longer being checked is dropped.
func (d *decider) checked(pc *programContext, msg intentCheckedMsg) {
	if d.stage != stageChecking || d.target != msg.id || d.dec != msg.decision {
		return
	}
	d.stage = stageIdle
	if msg.err != nil {
		pc.fail(msg.decision.verb() + " " + msg.id + " failed: " + errText(msg.err, msg.id))
		return
	}
	if why := refusal(msg.decision, msg.intent); why != "" {
		pc.fail(msg.decision.verb() + " " + msg.id + " failed: " + why)
		return
	}
	d.start(pc, msg.decision, msg.id)
}

// unsupported says why api cannot take dec at all, "" when it can.
func unsupported(api engine.OperatorAPI, dec decision) string {
	switch dec {
	case decisionCancel:
		if _, ok := api.(engine.Canceller); !ok {
			return "this engine cannot cancel intents"
		}
	case decisionRetry:
		if _, ok := api.(engine.Retrier); !ok {
			return "this engine cannot retry intents"
		}
	}
	return ""
}

// refusal says why it cannot be cancelled (or retried) as the engine
// would refuse it, "" when it can: only a pending, queued or running
// intent is cancelled; only a failed, cancelled, expired or shed one is
// retried.
func refusal(dec decision, it intent.Intent) string {
	switch dec {
	case decisionCancel:
		switch it.State {
		case intent.StatePendingApproval, intent.StateQueued, intent.StateRunning:
			return ""
		}
		return engine.ErrNotCancellable.Error() + " (it is " + string(it.State) + ")"
	case decisionRetry:
		switch it.State {
		case intent.StateFailed, intent.StateCancelled, intent.StateExpired, intent.StateShed:
			return ""
		case intent.StateDenied:
			return engine.ErrNotRetryable.Error() + " (it was denied; a retry would ask again what a person has answered)"
		}
		return engine.ErrNotRetryable.Error() + " (it is " + string(it.State) + "; only a failed, cancelled, expired or shed intent can be retried)"
	}
	return ""
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
