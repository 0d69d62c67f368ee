package tui

import (
	"errors"
	"strconv"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"

	"grace/engine"
)

// haltPrompt is the global halt: H on any screen asks "Halt every chaos
// run now? (y/N)" on the status line, No being the default, and y halts
// everything the chaos service runs. The root model owns it, so it works
// over every screen and the popup.
type haltPrompt struct {
	asking  bool
	waiting bool
}

// startHalt opens the question, or says why it cannot: a read-only
// console, an engine without chaos, no operator name to record, or a
// halt already on its way.
func (m *model) startHalt() {
	pc := m.pc
	switch {
	case pc.readOnly:
		pc.warn("read-only console: halt is disabled")
	case !pc.chaos.available():
		pc.warn(engine.ErrChaosUnavailable.Error())
	case pc.operator == "":
		pc.fail("halt refused: no operator name to record it under")
	case m.halt.waiting:
		pc.warn("still waiting for the engine to halt chaos")
	default:
		m.halt.asking = true
	}
}

// haltKey answers a key while the question is open: the confirm key
// halts, any other key cancels.
func (m *model) haltKey(msg tea.KeyMsg) tea.Cmd {
	m.halt.asking = false
	if !key.Matches(msg, m.pc.keys.ConfirmYes) {
		m.pc.info("halt cancelled: chaos goes on")
		return nil
	}
	m.halt.waiting = true
	m.pc.info("halting chaos…")
	m.pc.log.Info("chaos halt asked", "operator", m.pc.operator)
	return haltChaosCmd(m.pc.ctx, m.pc.chaos.api, m.pc.operator)
}

// halted takes the engine's answer to a halt.
func (m *model) halted(msg chaosHaltedMsg) tea.Cmd {
	m.halt.waiting = false
	pc := m.pc
	switch {
	case msg.err != nil:
		pc.fail("halt failed: " + chaosErrText(msg.err))
		pc.log.Warn("chaos halt failed", "err", msg.err)
		return nil
	case msg.res.Halted == 0:
		pc.info("nothing to halt: no chaos run was in progress")
	default:
		pc.warn("halted " + plural(msg.res.Halted, "chaos run") + " (" + strings.Join(msg.res.RunIDs, ", ") + ")")
		pc.log.Info("chaos halted", "runs", msg.res.RunIDs, "operator", pc.operator)
	}
	pc.chaos.progress = nil
	return tea.Batch(pc.chaos.fetch(pc), m.chaos.refresh())
}

// haltView is the question, in place of the status line.
func (m *model) haltView(w int) string {
	st := m.pc.styles
	q := "Halt every chaos run now and remove its faults? "
	if _, id, ok := m.pc.chaos.live(); ok {
		q = "Halt chaos run " + id + " now and remove its faults? "
		if ansi.StringWidth(q+ynAnswer) > w { // a run ID is long: keep its ends
			q = "Halt chaos run " + clipMiddle(id, 16) + " now and remove its faults? "
		}
	}
	return askLine(st, q, w)
}

// haltHelpKeys are the keys that work while the question is open.
func haltHelpKeys(k *keyMap) []key.Binding {
	return []key.Binding{helpOnly(k.ConfirmYes, firstKey(k.ConfirmYes), "halt"),
		key.NewBinding(key.WithKeys("n"), key.WithHelp("any other key", "no"))}
}

// chaosErrText is a chaos error in the operator's terms.
func chaosErrText(err error) string {
	var reqErr *engine.ChaosRequestError
	switch {
	case errors.Is(err, engine.ErrChaosBusy):
		return engine.ErrChaosBusy.Error() + " (halt it first, or wait)"
	case errors.Is(err, engine.ErrChaosUnavailable):
		return engine.ErrChaosUnavailable.Error()
	case errors.As(err, &reqErr):
		// The engine's error itself, not its message untrusted escaped.
		return printable(reqErr.Field + ": " + reqErr.Reason)
	}
	return failText(err)
}

// runCount is "3 of 5 passed" for a run's results.
func runCount(r engine.ChaosRun) string {
	passed := 0
	for _, s := range r.Scenarios {
		if s.Passed {
			passed++
		}
	}
	total := max(len(r.Requested), len(r.Scenarios))
	return strconv.Itoa(passed) + " of " + strconv.Itoa(total) + " passed"
}
