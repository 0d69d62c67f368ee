package tui

import (
	"context"
	"errors"
	"strings"

	tea "github.com/charmbracelet/bubbletea"

	"grace/engine"
)

// schedulerMsg is the engine's answer to ":pause" or ":resume".
type schedulerMsg struct {
	pause  bool
	reason string
	err    error
}

// schedulerCommand runs ":pause REASON" (pause true) and ":resume
// [REASON]": the engine stops dispatching (queued intents wait, intake
// goes on) until resumed, under the console's operator, on the record. A
// read-only console, a console without an operator name, or an engine
// without scheduler control refuses; a pause needs its reason on the line.
func (m *model) schedulerCommand(pause bool, reason string) tea.Cmd {
	pc := m.pc
	verb := "resume"
	if pause {
		verb = "pause"
	}
	sc, ok := pc.api.(engine.SchedulerControl)
	switch {
	case pc.readOnly:
		pc.warn("read-only console: " + verb + " is disabled")
		return nil
	case !ok:
		pc.warn("this engine cannot " + verb + " its scheduler")
		return nil
	case pc.operator == "":
		pc.fail(verb + " refused: no operator name to record it under")
		return nil
	case pause && reason == "":
		pc.fail(":pause needs a reason, as in :pause downstream outage")
		return nil
	}
	ctx, operator := pc.ctx, pc.operator
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(ctx, requestTimeout)
		defer cancel()
		act := sc.ResumeScheduler
		if pause {
			act = sc.PauseScheduler
		}
		return schedulerMsg{pause: pause, reason: reason, err: act(ctx, operator, reason)}
	}
}

// scheduled takes the engine's answer to a pause or resume.
func (m *model) scheduled(msg schedulerMsg) {
	pc := m.pc
	switch {
	case msg.err != nil && (errors.Is(msg.err, engine.ErrAlreadyPaused) || errors.Is(msg.err, engine.ErrNotPaused)):
		pc.warn(firstErrLine(msg.err))
	case msg.err != nil:
		pc.fail(firstErrLine(msg.err))
	case msg.pause:
		pc.warn("scheduler paused: nothing is dispatched until :resume (" + msg.reason + ")")
		pc.log.Info("scheduler paused", "operator", pc.operator, "reason", msg.reason)
	default:
		pc.info("scheduler resumed: dispatching again")
		pc.log.Info("scheduler resumed", "operator", pc.operator)
	}
}

// firstErrLine is the first line of err's message.
func firstErrLine(err error) string {
	s, _, _ := strings.Cut(err.Error(), "\n")
	return s
}
