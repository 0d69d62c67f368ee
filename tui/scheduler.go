package tui

import (
	"context"
	"errors"
	"strings"

	tea "github.com/charmbracelet/bubbletea"

	"grace/engine"
)

// schedulerMsg is the engine's answer to ":pause" or ":resume"; typ is
// the intent type paused or resumed alone, actor the actor, if one was
// named.
type schedulerMsg struct {
	pause              bool
	typ, actor, reason string
	err                error
}

// schedulerCommand runs ":pause REASON" (pause true) and ":resume
// [REASON]": the engine stops dispatching (queued intents wait, intake
// goes on) until resumed, under the console's operator, on the record.
// With "type:T" first on the line, only intents of type T are held back
// (":pause type:deploy_model rollout", ":resume type:deploy_model"); with
// "actor:A", only the intents actor A submits, a quarantine of one agent
// (":pause actor:agent.builder runaway loop", ":resume actor:agent.builder").
// A read-only console, a console without an operator name, or an engine
// without scheduler control refuses; a pause needs its reason on the line.
func (m *model) schedulerCommand(pause bool, arg string) tea.Cmd {
	pc := m.pc
	verb := "resume"
	if pause {
		verb = "pause"
	}
	typ, actor, reason := "", "", arg
	switch first, rest, _ := strings.Cut(arg, " "); {
	case strings.HasPrefix(first, "type:"):
		typ, reason = strings.TrimPrefix(first, "type:"), strings.TrimSpace(rest)
	case strings.HasPrefix(first, "actor:"):
		actor, reason = strings.TrimPrefix(first, "actor:"), strings.TrimSpace(rest)
	}
	sc, ok := pc.api.(engine.SchedulerControl)
	tp, typeOK := pc.api.(engine.TypePauser)
	ap, actorOK := pc.api.(engine.ActorPauser)
	switch {
	case pc.readOnly:
		pc.warn("read-only console: " + verb + " is disabled")
		return nil
	case !ok && typ == "" && actor == "", !typeOK && typ != "", !actorOK && actor != "":
		pc.warn("this engine cannot " + verb + " its scheduler")
		return nil
	case pc.operator == "":
		pc.fail(verb + " refused: no operator name to record it under")
		return nil
	case strings.HasPrefix(arg, "type:") && typ == "":
		pc.fail(":" + verb + " type: needs a type, as in :" + verb + " type:deploy_model")
		return nil
	case strings.HasPrefix(arg, "actor:") && actor == "":
		pc.fail(":" + verb + " actor: needs an actor, as in :" + verb + " actor:agent.builder")
		return nil
	case pause && reason == "" && typ != "":
		pc.fail(":pause needs a reason, as in :pause type:" + typ + " model rollout")
		return nil
	case pause && reason == "" && actor != "":
		pc.fail(":pause needs a reason, as in :pause actor:" + actor + " runaway loop")
		return nil
	case pause && reason == "":
		pc.fail(":pause needs a reason, as in :pause downstream outage (type:T or actor:A first pauses one)")
		return nil
	}
	ctx, operator := pc.ctx, pc.operator
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(ctx, requestTimeout)
		defer cancel()
		var err error
		switch {
		case typ != "" && pause:
			err = tp.PauseType(ctx, operator, typ, reason)
		case typ != "":
			err = tp.ResumeType(ctx, operator, typ, reason)
		case actor != "" && pause:
			err = ap.PauseActor(ctx, operator, actor, reason)
		case actor != "":
			err = ap.ResumeActor(ctx, operator, actor, reason)
		case pause:
			err = sc.PauseScheduler(ctx, operator, reason)
		default:
			err = sc.ResumeScheduler(ctx, operator, reason)
		}
		return schedulerMsg{pause: pause, typ: typ, actor: actor, reason: reason, err: err}
	}
}

// scheduled takes the engine's answer to a pause or resume.
func (m *model) scheduled(msg schedulerMsg) {
	pc := m.pc
	switch {
	case msg.err != nil && (errors.Is(msg.err, engine.ErrAlreadyPaused) || errors.Is(msg.err, engine.ErrNotPaused)):
		pc.warn(firstErrLine(msg.err))
	case msg.err != nil:
		if _, _, transport := reachText(msg.err); transport {
			// Not the request and dial error, which hide the cause at 80
			// columns: what was asked and why it did not get there.
			pc.fail(msg.command() + " failed: " + failText(msg.err))
			break
		}
		pc.fail(firstErrLine(msg.err))
	case msg.pause && msg.typ != "":
		pc.warn(msg.typ + " paused: its intents wait until :resume type:" + msg.typ + " (" + msg.reason + ")")
		pc.log.Info("intent type paused", "operator", pc.operator, "type", msg.typ, "reason", msg.reason)
	case msg.typ != "":
		pc.info(msg.typ + " resumed: dispatching it again")
		pc.log.Info("intent type resumed", "operator", pc.operator, "type", msg.typ)
	case msg.pause && msg.actor != "":
		pc.warn("actor " + msg.actor + " paused: its intents wait until :resume actor:" + msg.actor + " (" + msg.reason + ")")
		pc.log.Info("actor paused", "operator", pc.operator, "actor", msg.actor, "reason", msg.reason)
	case msg.actor != "":
		pc.info("actor " + msg.actor + " resumed: dispatching its intents again")
		pc.log.Info("actor resumed", "operator", pc.operator, "actor", msg.actor)
	case msg.pause:
		pc.warn("scheduler paused: nothing is dispatched until :resume (" + msg.reason + ")")
		pc.log.Info("scheduler paused", "operator", pc.operator, "reason", msg.reason)
	default:
		pc.info("scheduler resumed: dispatching again")
		pc.log.Info("scheduler resumed", "operator", pc.operator)
	}
}

// command is the command line msg answers: ":pause", ":resume type:T".
func (msg schedulerMsg) command() string {
	c := ":resume"
	if msg.pause {
		c = ":pause"
	}
	switch {
	case msg.typ != "":
		c += " type:" + msg.typ
	case msg.actor != "":
		c += " actor:" + msg.actor
	}
	return c
}

// firstErrLine is the first line of err's message.
func firstErrLine(err error) string {
	s, _, _ := strings.Cut(err.Error(), "\n")
	return s
}
