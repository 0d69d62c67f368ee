package tui

import (
	"strconv"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"

	"grace/engine/intent"
)

// popupModel announces intents that have just entered pending_approval,
// over whatever screen the operator is on. Arrivals queue up; the oldest is
// shown first, with a count of the others. a approves (y/N), d denies with a
// reason, esc leaves it for later (it stays in the Approvals screen).
type popupModel struct {
	pc      *programContext
	queue   []intent.Intent
	decider decider
	payload payloadCache
}

// newPopup returns an empty popup.
func newPopup(pc *programContext) *popupModel {
	return &popupModel{pc: pc, decider: newDecider(ownerPopup)}
}

// visible reports whether an arrival is waiting to be seen.
func (p *popupModel) visible() bool { return len(p.queue) > 0 }

// prompting reports whether the popup's prompt takes every key.
func (p *popupModel) prompting() bool { return p.visible() && p.decider.prompting() }

// announce queues it unless it is already queued.
func (p *popupModel) announce(it intent.Intent) {
	for i := range p.queue {
		if p.queue[i].ID == it.ID {
			p.queue[i] = it
			return
		}
	}
	p.queue = append(p.queue, it)
}

// drop removes intent id (decided, dismissed, or no longer pending). It
// reports whether id was the one on show.
func (p *popupModel) drop(id string) bool {
	for i := range p.queue {
		if p.queue[i].ID != id {
			continue
		}
		p.queue = append(p.queue[:i], p.queue[i+1:]...)
		if p.decider.target == id && p.decider.prompting() {
			p.decider.stage = stageIdle
		}
		return i == 0
	}
	return false
}

// clear empties the popup and closes any prompt it had open.
func (p *popupModel) clear() {
	p.queue = nil
	if p.decider.prompting() {
		p.decider.stage = stageIdle
	}
}

// handleKey answers the popup's keys. It reports whether the key was the
// popup's; other keys go on to the screens.
func (p *popupModel) handleKey(msg tea.KeyMsg) (bool, tea.Cmd) {
	if !p.visible() {
		return false, nil
	}
	if p.decider.prompting() {
		return true, p.decider.handleKey(p.pc, msg)
	}
	k := p.pc.keys
	cur := p.queue[0]
	switch {
	case pressed(msg, k.Approve):
		p.decider.start(p.pc, decisionApprove, cur.ID)
		return true, nil
	case pressed(msg, k.Deny):
		p.decider.start(p.pc, decisionDeny, cur.ID)
		return true, nil
	case key.Matches(msg, k.Back):
		p.drop(cur.ID)
		p.pc.info("later: " + cur.ID + " waits in Approvals (press " + firstKey(k.Approvals) + ")")
		return true, nil
	}
	return false, nil
}

// decided takes the answer to the popup's own request. A decided intent, or
// one that is no longer pending, leaves the popup; on any other error it
// stays so the operator can try again.
func (p *popupModel) decided(msg decidedMsg) {
	p.decider.finish(p.pc, msg)
	if msg.err == nil || gone(msg.err) {
		p.drop(msg.id)
	}
}

// helpKeys returns the popup's bindings for the footer.
func (p *popupModel) helpKeys() []key.Binding {
	if p.decider.prompting() {
		return p.decider.helpKeys(p.pc.keys)
	}
	k := p.pc.keys
	return []key.Binding{k.Approve, k.Deny, helpOnly(k.Back, firstKey(k.Back), "later"), inboxBinding(k)}
}

// inboxBinding is a help-only entry: the approvals key from the popup
// opens the inbox.
func inboxBinding(k *keyMap) key.Binding {
	return helpOnly(k.Approvals, firstKey(k.Approvals), "inbox")
}

// view renders the popup box for a body of w×h cells. It returns the box's
// lines and its top-left position.
func (p *popupModel) view(w, h int) (lines []string, x, y int) {
	st := p.pc.styles
	cur := p.queue[0]
	bw := min(68, w-4)
	if bw < 24 {
		bw = w
	}
	inner := bw - 4
	lw := 11 // label column
	row := func(label, value string) string {
		return cell(st.Label, label, lw) + st.Text.Render(clip(value, inner-lw))
	}
	body := []string{
		st.Value.Render(clip(cur.ID+" · "+cur.Type, inner)),
		row("actor", cur.Actor),
		row("tier", tierText(cur.Tier)),
		row("alignment", strconv.FormatFloat(cur.Decision.Alignment, 'f', 2, 64)),
		row("deadline", fmtDeadline(cur.Deadline, p.pc.now())),
	}
	reasons := cur.Decision.Reasoning
	if len(reasons) == 0 {
		reasons = []string{"—"}
	}
	// The reasons are what the operator decides on: each is wrapped, not
	// cut mid-word, as long as the popup has lines to spare; those that do
	// not fit are left to the Approvals screen, and say so.
	budget := 5
	if h < 16 {
		budget = 1
	}
	var why []string
	shown := 0
	for _, r := range reasons {
		wl := strings.Split(ansi.Wrap(r, max(inner-lw-2, 1), " "), "\n")
		room := budget - len(why)
		if shown < len(reasons)-1 {
			room-- // a line for the "+N more" note
		}
		if len(wl) > room {
			if shown == 0 {
				why, shown = append(why, "• "+clip(r, inner-lw-2)), 1
			}
			break
		}
		for i, l := range wl {
			if i == 0 {
				l = "• " + l
			} else {
				l = "  " + l
			}
			why = append(why, l)
		}
		shown++
	}
	if n := len(reasons) - shown; n > 0 {
		why = append(why, "(+"+strconv.Itoa(n)+" more in Approvals)")
	}
	for i, l := range why {
		label := ""
		if i == 0 {
			label = "why"
		}
		body = append(body, row(label, l))
	}
	// The payload is what the intent will do: as much of it as the popup
	// has room for under the reasons, the rest left to Approvals, which
	// the last line names.
	room := h - 2 - len(body) - 2 // the border, the blank and the prompt line
	rows, cut := payloadRows(p.payload.lines(cur, inner-lw), min(popupPayloadMax(h), room), firstKey(p.pc.keys.Approvals))
	for i, l := range rows {
		label, style := "", st.Text
		if i == 0 {
			label = "payload"
		}
		if cut && i == len(rows)-1 {
			style = st.Muted
		}
		body = append(body, cell(st.Label, label, lw)+style.Render(clip(l, inner-lw)))
	}
	body = append(body, "")
	if line := p.decider.view(p.pc, inner); line != "" {
		body = append(body, line)
	} else {
		k := p.pc.keys
		back, inbox := firstKey(k.Back), firstKey(k.Approvals)
		// The popups key is named where the line has room for it whole.
		off := st.Muted.Render(" · ") + st.Value.Render(firstKey(k.Popups)) + st.Muted.Render(" popups off")
		var hint string
		if p.pc.readOnly {
			hint = st.Muted.Render("read-only · " + back + " dismiss · " + inbox + " inbox")
		} else {
			hint = st.Value.Render(firstKey(k.Approve)) + st.Muted.Render(" approve · ") +
				st.Value.Render(firstKey(k.Deny)) + st.Muted.Render(" deny · ") +
				st.Value.Render(back) + st.Muted.Render(" later · ") +
				st.Value.Render(inbox) + st.Muted.Render(" inbox")
		}
		if ansi.StringWidth(hint+off) <= inner {
			hint += off
		}
		body = append(body, clipStyled(hint, inner))
	}
	title := "⚑ Approval needed"
	if n := len(p.queue); n > 1 {
		title += " · 1 of " + strconv.Itoa(n)
	}
	if len(body)+2 > h && h >= 5 {
		// Too short: keep the head and the prompt line, drop the middle.
		keep := h - 2 - 2
		body = append(body[:keep:keep], body[len(body)-2:]...)
	}
	bh := min(len(body)+2, h)
	return frame(st.PopupBorder, st.PopupTitle, title, body, bw, bh), (w - bw) / 2, max((h-bh)/2, 0)
}

// popupPayloadMax is the most payload lines the popup shows in a body h
// lines high: a third of it, so that the screen stays in sight around it,
// and never more than 10.
func popupPayloadMax(h int) int {
	return min(max((h-3)/3, 1), 10)
}
