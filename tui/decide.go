package tui

import (
	"errors"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"

	"grace/engine"
)

// approveReason is recorded with every approval made in the console.
const approveReason = "approved in console"

// stage is where a decision flow stands.
type stage int

const (
	stageIdle    stage = iota
	stageConfirm       // "Approve int_… ? (y/N)"
	stageReason        // typing the reason for a denial
	stageWaiting       // the request is in flight
)

// decider is the approve/deny flow that the popup and the Approvals screen
// share: approve asks (y/N) with No the default, deny asks for a reason and
// refuses an empty one. It sends the request as a command and carries its
// owner's id, so the result comes back to whoever asked.
type decider struct {
	owner  screenID
	stage  stage
	target string
	input  lineInput
}

// newDecider returns an idle decider that reports to owner.
func newDecider(owner screenID) decider {
	return decider{owner: owner, input: newLineInput("why is it denied?")}
}

// prompting reports whether the decider is asking the operator something
// and so takes every key.
func (d *decider) prompting() bool { return d.stage == stageConfirm || d.stage == stageReason }

// waiting reports whether a request is in flight for target.
func (d *decider) waiting() bool { return d.stage == stageWaiting }

// start opens the flow for decision dec on intent id. In read-only mode it
// only says so on the status line.
func (d *decider) start(pc *programContext, dec decision, id string) {
	if pc.readOnly {
		pc.readOnlyRefusal(dec)
		return
	}
	if pc.operator == "" {
		pc.fail(dec.verb() + " refused: no operator name to record it under")
		return
	}
	if d.stage == stageWaiting {
		pc.warn("still waiting for the engine's answer about " + d.target)
		return
	}
	d.target = id
	if dec == decisionApprove {
		d.stage = stageConfirm
		return
	}
	d.stage = stageReason
	d.input.Reset()
}

// handleKey answers a key while prompting. It returns the request to send,
// if the operator confirmed one.
func (d *decider) handleKey(pc *programContext, msg tea.KeyMsg) tea.Cmd {
	switch d.stage {
	case stageConfirm:
		if key.Matches(msg, pc.keys.ConfirmYes) {
			d.stage = stageWaiting
			pc.info("approving " + d.target + "…")
			return decideCmd(pc.ctx, pc.api, d.owner, decisionApprove, d.target, pc.operator, approveReason)
		}
		d.stage = stageIdle
		pc.info("approve cancelled: " + d.target + " is still pending")
	case stageReason:
		switch {
		case key.Matches(msg, pc.keys.Cancel):
			d.stage = stageIdle
			pc.info("deny cancelled: " + d.target + " is still pending")
		case key.Matches(msg, pc.keys.Submit):
			reason := strings.TrimSpace(d.input.Value())
			if reason == "" {
				pc.fail("deny needs a reason: type why, then enter (esc cancels)")
				return nil
			}
			d.stage = stageWaiting
			pc.info("denying " + d.target + "…")
			return decideCmd(pc.ctx, pc.api, d.owner, decisionDeny, d.target, pc.operator, reason)
		default:
			d.input.Update(msg)
		}
	}
	return nil
}

// finish takes the engine's answer: it ends the flow and tells the operator
// the outcome on the status line.
func (d *decider) finish(pc *programContext, msg decidedMsg) {
	if msg.id == d.target {
		d.stage = stageIdle
	}
	if msg.err != nil {
		pc.fail(msg.decision.verb() + " " + msg.id + " failed: " + errText(msg.err))
		pc.log.Warn("decision failed", "decision", msg.decision.verb(), "intent", msg.id, "owner", msg.owner, "err", msg.err)
		return
	}
	pc.info(msg.decision.past() + " " + msg.id + " (" + msg.intent.Type + ")")
	pc.log.Info("decision made", "decision", msg.decision.verb(), "intent", msg.id, "operator", pc.operator)
}

// errText shortens the engine's errors the operator can act on to their
// plain meaning; others are shown whole.
func errText(err error) string {
	switch {
	case errors.Is(err, engine.ErrNotPending):
		return engine.ErrNotPending.Error()
	case errors.Is(err, engine.ErrNotFound):
		return "no such intent"
	case errors.Is(err, engine.ErrReasonRequired):
		return engine.ErrReasonRequired.Error()
	}
	return err.Error()
}

// gone reports whether err means the intent is no longer waiting for a
// decision (someone else decided, or it expired).
func gone(err error) bool {
	return errors.Is(err, engine.ErrNotPending) || errors.Is(err, engine.ErrNotFound)
}

// view renders the prompt line in w cells, or "" when idle.
func (d *decider) view(pc *programContext, w int) string {
	st := pc.styles
	switch d.stage {
	case stageConfirm:
		return fit(st.Prompt.Render("Approve "+d.target+" ? ")+st.Value.Render("(y/N)"), w)
	case stageReason:
		// Name the intent when there is room for it and a useful field.
		label := "Deny " + d.target + " · reason: "
		if ansi.StringWidth(label) > w-24 {
			label = "Deny · reason: "
		}
		lw := min(ansi.StringWidth(label), w/2)
		return st.Prompt.Render(fit(label, lw)) + d.input.View(st, w-lw)
	case stageWaiting:
		return fit(st.Muted.Render("waiting for the engine… ("+d.target+")"), w)
	}
	return ""
}

// helpKeys returns the bindings that work while prompting.
func (d *decider) helpKeys(k *keyMap) []key.Binding {
	switch d.stage {
	case stageConfirm:
		return []key.Binding{k.ConfirmYes, key.NewBinding(key.WithKeys("n"), key.WithHelp("any other key", "cancel"))}
	case stageReason:
		return []key.Binding{k.Submit, k.Cancel}
	}
	return nil
}
