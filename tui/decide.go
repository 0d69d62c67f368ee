package tui

import (
	"errors"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"

	"grace/engine"
	"grace/engine/intent"
)

// approveReason is recorded with every approval made in the console.
const approveReason = "approved in console"

// stage is where a decision flow stands.
type stage int

const (
	stageIdle     stage = iota
	stageConfirm        // "Approve int_…? (y/N)"
	stageReason         // typing the reason for a denial
	stageWaiting        // the request is in flight
	stageChecking       // ":cancel ID": looking the intent up before asking why
)

// decider is the decision flow that the popup and the Approvals screen
// share: approve and acknowledge ask (y/N) with No the default; deny and
// flag ask for a reason and refuse an empty one. It sends the request as a
// command and carries its owner's id, so the result comes back to whoever
// asked.
type decider struct {
	owner  screenID
	stage  stage
	dec    decision
	target string
	input  lineInput
}

// newDecider returns an idle decider that reports to owner.
func newDecider(owner screenID) decider {
	return decider{owner: owner, input: newLineInput("")}
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
	d.target, d.dec = id, dec
	// The question is what the operator looks at now: what the status
	// line said about the last one no longer applies.
	pc.status.dismiss()
	if !dec.needsReason() {
		d.stage = stageConfirm
		return
	}
	d.stage = stageReason
	d.input.Reset()
	d.input.ti.Placeholder = "why is it " + dec.past() + "?"
}

// startWith opens the flow as start does; when the decision needs a
// reason and one is given, it is sent at once, as if typed at the prompt.
func (d *decider) startWith(pc *programContext, dec decision, id, reason string) tea.Cmd {
	d.start(pc, dec, id)
	if d.stage != stageReason || d.target != id || reason == "" {
		return nil
	}
	d.input.SetValue(reason)
	return d.handleKey(pc, tea.KeyMsg{Type: tea.KeyEnter})
}

// handleKey answers a key while prompting. It returns the request to send,
// if the operator confirmed one.
func (d *decider) handleKey(pc *programContext, msg tea.KeyMsg) tea.Cmd {
	switch d.stage {
	case stageConfirm:
		if key.Matches(msg, pc.keys.ConfirmYes) {
			d.stage = stageWaiting
			pc.info(d.dec.doing() + " " + d.target + "…")
			reason := ""
			if d.dec == decisionApprove {
				reason = approveReason
			}
			return decideCmd(pc.ctx, pc.api, d.owner, d.dec, d.target, pc.operator, reason)
		}
		d.stage = stageIdle
		pc.info(d.dec.verb() + " cancelled: " + d.target + d.stillText())
	case stageReason:
		switch {
		case key.Matches(msg, pc.keys.Cancel):
			d.stage = stageIdle
			pc.info(d.dec.verb() + " cancelled: " + d.target + d.stillText())
		case key.Matches(msg, pc.keys.Submit):
			reason := strings.TrimSpace(d.input.Value())
			if reason == "" {
				pc.failAbout(aboutReason, d.dec.verb()+" needs a reason: type why, then enter (esc cancels)")
				return nil
			}
			d.stage = stageWaiting
			pc.info(d.dec.doing() + " " + d.target + "…")
			return decideCmd(pc.ctx, pc.api, d.owner, d.dec, d.target, pc.operator, reason)
		default:
			before := d.input.Value()
			d.input.Update(msg)
			if d.input.Value() != before {
				pc.ok(aboutReason) // the operator is typing it
			}
		}
	}
	return nil
}

// stillText says what a cancelled decision leaves the intent as.
func (d *decider) stillText() string {
	if d.dec.isReview() {
		return " still awaits review"
	}
	if d.dec.onCommandLine() {
		return " is unchanged"
	}
	return " is still pending"
}

// finish takes the engine's answer: it ends the flow and tells the operator
// the outcome on the status line.
func (d *decider) finish(pc *programContext, msg decidedMsg) {
	if msg.id == d.target {
		d.stage = stageIdle
	}
	if msg.err != nil {
		pc.fail(msg.decision.verb() + " " + msg.id + " failed: " + errText(msg.err, msg.id))
		pc.log.Warn("decision failed", "decision", msg.decision.verb(), "intent", msg.id, "owner", msg.owner, "err", msg.err)
		return
	}
	if msg.decision == decisionRetry { // the answer is the new intent
		if msg.existing {
			hint := ""
			switch msg.intent.State {
			case intent.StateFailed, intent.StateCancelled, intent.StateExpired, intent.StateShed:
				hint = ": retry " + msg.intent.ID
			}
			pc.info(msg.id + " was already retried as " + msg.intent.ID + " (" + string(msg.intent.State) + ")" + hint)
		} else {
			pc.info("retried " + msg.id + " as " + msg.intent.ID + " (" + string(msg.intent.State) + ")")
		}
		pc.log.Info("decision made", "decision", msg.decision.verb(), "intent", msg.id, "retry", msg.intent.ID, "operator", pc.operator)
		return
	}
	pc.info(msg.decision.past() + " " + msg.id + " (" + msg.intent.Type + ")")
	pc.log.Info("decision made", "decision", msg.decision.verb(), "intent", msg.id, "operator", pc.operator)
}

// errText is the engine's error about intent id in the operator's words,
// for a line that already names the intent and the decision ("approve
// int_… failed: "): the errors the operator can act on in their plain
// meaning; a server that cannot be reached or refuses the token said in
// a few words ("connection refused");
// any other without the engine's wrapping that repeats the decision and
// the intent ("approve intent int_…: ") or the request ("POST http://…:
// "), so the reason is what shows.
func errText(err error, id string) string {
	if s := known(err); s != "" {
		return s
	}
	if what, why, transport := reachText(err); transport {
		// "connection refused", "no answer", "token refused": short
		// enough to show whole after the intent's ID at 80 columns
		// (the header says since when the server is unreachable).
		if why != "" {
			return why
		}
		return what
	}
	msg := err.Error()
	if id != "" {
		if i := strings.LastIndex(msg, id+": "); i >= 0 {
			msg = msg[i+len(id)+2:]
		}
	}
	return msg
}

// lastPart is msg after its last ": ".
func lastPart(msg string) string {
	if i := strings.LastIndex(msg, ": "); i >= 0 {
		return msg[i+2:]
	}
	return msg
}

// known is the plain meaning of the engine's errors the operator can act
// on, "" for others.
func known(err error) string {
	switch {
	case errors.Is(err, engine.ErrNotPending):
		return engine.ErrNotPending.Error()
	case errors.Is(err, engine.ErrNotFound):
		return "no such intent"
	case errors.Is(err, engine.ErrReasonRequired):
		return engine.ErrReasonRequired.Error()
	case errors.Is(err, engine.ErrNotReviewable):
		return engine.ErrNotReviewable.Error()
	case errors.Is(err, engine.ErrNotCancellable), errors.Is(err, engine.ErrNotRetryable):
		// The sentinel and the engine's why ("(it is completed)"), without
		// the wrapping that repeats the intent's ID.
		msg := err.Error()
		for _, s := range []error{engine.ErrNotCancellable, engine.ErrNotRetryable} {
			if i := strings.Index(msg, s.Error()); i >= 0 {
				return msg[i:]
			}
		}
	}
	return ""
}

// gone reports whether err means the intent is no longer waiting for the
// decision (someone else decided or reviewed it, or it expired).
func gone(err error) bool {
	return errors.Is(err, engine.ErrNotPending) || errors.Is(err, engine.ErrNotFound) ||
		errors.Is(err, engine.ErrNotReviewable)
}

// view renders the prompt line in w cells, or "" when idle.
func (d *decider) view(pc *programContext, w int) string {
	st := pc.styles
	switch d.stage {
	case stageConfirm:
		q := "Approve " + d.target + "? "
		if d.dec == decisionAcknowledge {
			q = "Acknowledge " + d.target + " as reviewed? "
		}
		return askLine(st, q, w)
	case stageReason:
		// Name the intent when there is room for it and a useful field.
		verb, what := "Deny", "reason"
		switch d.dec {
		case decisionFlag:
			verb, what = "Flag", "note"
		case decisionCancel:
			verb = "Cancel"
		case decisionRetry:
			verb = "Retry"
		}
		label := verb + " " + d.target + " · " + what + ": "
		if ansi.StringWidth(label) > w/2 && d.dec.onCommandLine() { // typed on the command line: no list shows it
			label = verb + " " + clipMiddle(d.target, 16) + " · " + what + ": "
		}
		if ansi.StringWidth(label) > w/2 {
			label = verb + " · " + what + ": "
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
		return []key.Binding{k.ConfirmYes, key.NewBinding(key.WithKeys("n"), key.WithHelp("any other key", "no"))}
	case stageReason:
		return []key.Binding{k.Submit, k.Cancel}
	}
	return nil
}
