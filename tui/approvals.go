package tui

import (
	"strconv"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"grace/engine/intent"
)

// splitLayout is the width from which Approvals shows the list and the
// selected intent's detail side by side.
const splitLayout = 140

// approvalsModel is screen 2: the inbox of intents waiting for a human,
// oldest first. j/k and g/G move, enter opens the detail (esc goes back,
// j/k scroll the payload there), a approves (y/N), d denies with a reason.
type approvalsModel struct {
	pc       *programContext
	items    []intent.Intent
	cursor   int
	offset   int
	detail   bool
	scroll   int
	loaded   bool
	fetching bool
	decider  decider
	pretty   prettyCache
	// want is an intent to select once a fetch lists it.
	want string
	// payloadRoom is how many payload lines the last detail view showed.
	payloadRoom int
	w, h        int
}

// newApprovals returns the approvals screen.
func newApprovals(pc *programContext) *approvalsModel {
	return &approvalsModel{pc: pc, decider: newDecider(screenApprovals)}
}

func (a *approvalsModel) id() screenID     { return screenApprovals }
func (a *approvalsModel) title() string    { return "Approvals" }
func (a *approvalsModel) capturing() bool  { return a.decider.prompting() }
func (a *approvalsModel) setSize(w, h int) { a.w, a.h = w, h }

// focus refreshes the list when the screen is shown.
func (a *approvalsModel) focus() tea.Cmd { return a.refresh() }

// refresh fetches the list unless a fetch is already in flight.
func (a *approvalsModel) refresh() tea.Cmd {
	if a.fetching {
		return nil
	}
	a.fetching = true
	return fetchPendingCmd(a.pc.ctx, a.pc.api, screenApprovals)
}

// selected returns the intent under the cursor.
func (a *approvalsModel) selected() (intent.Intent, bool) {
	if a.cursor < 0 || a.cursor >= len(a.items) {
		return intent.Intent{}, false
	}
	return a.items[a.cursor], true
}

// update handles the screen's keys and its own async results.
func (a *approvalsModel) update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case pendingMsg:
		a.fetching = false
		if msg.err != nil {
			a.pc.fail(msg.err.Error())
			a.pc.log.Warn("fetch failed", "what", "pending approvals", "err", msg.err)
			return nil
		}
		a.setItems(msg.items)
	case decidedMsg:
		a.decider.finish(a.pc, msg)
		if msg.err == nil || gone(msg.err) {
			a.remove(msg.id)
		}
		return a.refresh()
	case tea.KeyMsg:
		return a.handleKey(msg)
	}
	return nil
}

// handleKey answers a key while the screen is active.
func (a *approvalsModel) handleKey(msg tea.KeyMsg) tea.Cmd {
	if a.decider.prompting() {
		return a.decider.handleKey(a.pc, msg)
	}
	k := a.pc.keys
	it, ok := a.selected()
	switch {
	case pressed(msg, k.Approve), pressed(msg, k.Deny):
		dec := decisionApprove
		if pressed(msg, k.Deny) {
			dec = decisionDeny
		}
		if !ok && !a.pc.readOnly {
			a.pc.warn("nothing to " + dec.verb() + ": no intent is waiting")
			return nil
		}
		a.decider.start(a.pc, dec, it.ID)
	case key.Matches(msg, k.Up):
		if a.detail {
			a.scroll = max(a.scroll-1, 0)
		} else {
			a.move(-1)
		}
	case key.Matches(msg, k.Down):
		if a.detail {
			a.scroll = min(a.scroll+1, a.maxScroll())
		} else {
			a.move(1)
		}
	case key.Matches(msg, k.Top):
		if a.detail {
			a.scroll = 0
		} else {
			a.move(-len(a.items))
		}
	case key.Matches(msg, k.Bottom):
		if a.detail {
			a.scroll = a.maxScroll()
		} else {
			a.move(len(a.items))
		}
	case key.Matches(msg, k.Open):
		if ok {
			a.detail, a.scroll = true, 0
		}
	case key.Matches(msg, k.Back):
		a.detail = false
	case key.Matches(msg, k.Refresh):
		return a.refresh()
	}
	return nil
}

// move shifts the cursor by n rows, within the list.
func (a *approvalsModel) move(n int) {
	a.cursor = min(max(a.cursor+n, 0), max(len(a.items)-1, 0))
	a.scroll = 0
}

// setItems replaces the list, keeping the cursor on the same intent when it
// is still there.
func (a *approvalsModel) setItems(items []intent.Intent) {
	var keep string
	if it, ok := a.selected(); ok {
		keep = it.ID
	}
	if a.want != "" {
		keep, a.want = a.want, ""
	}
	a.items, a.loaded = items, true
	for i := range items {
		if items[i].ID == keep {
			a.cursor = i
			return
		}
	}
	a.cursor = min(a.cursor, max(len(items)-1, 0))
	if a.detail && keep != "" {
		// Never let the detail slide onto another intent unannounced.
		a.detail = false
		a.pc.info(keep + " is no longer pending")
	}
}

// focusOn selects intent id when it is listed, and otherwise once the next
// fetch lists it.
func (a *approvalsModel) focusOn(id string) {
	a.detail = false
	for i := range a.items {
		if a.items[i].ID == id {
			a.cursor = i
			return
		}
	}
	a.want = id
}

// remove drops intent id from the list at once, before the refetch lands.
func (a *approvalsModel) remove(id string) {
	for i := range a.items {
		if a.items[i].ID == id {
			items := append(append([]intent.Intent(nil), a.items[:i]...), a.items[i+1:]...)
			a.setItems(items)
			return
		}
	}
}

// knows reports whether id is in the list.
func (a *approvalsModel) knows(id string) bool {
	for i := range a.items {
		if a.items[i].ID == id {
			return true
		}
	}
	return false
}

// maxScroll is how far the payload of the selected intent can scroll.
func (a *approvalsModel) maxScroll() int {
	it, ok := a.selected()
	if !ok {
		return 0
	}
	return max(len(a.pretty.lines(it))-max(a.payloadRoom, 1), 0)
}

// ShortHelp lists the screen's keys for the footer.
func (a *approvalsModel) ShortHelp() []key.Binding {
	if keys := a.decider.helpKeys(a.pc.keys); keys != nil {
		return keys
	}
	k := a.pc.keys
	if a.detail {
		return []key.Binding{k.Approve, k.Deny, k.Back, scrollBinding(k)}
	}
	return []key.Binding{k.Approve, k.Deny, k.Open, navBinding(k)}
}

// FullHelp lists the screen's keys by group.
func (a *approvalsModel) FullHelp() [][]key.Binding {
	k := a.pc.keys
	return [][]key.Binding{
		{k.Up, k.Down, k.Top, k.Bottom},
		{k.Open, k.Back, k.Refresh},
		{k.Approve, k.Deny},
	}
}

// navBinding is a help-only entry for the list's movement keys.
func navBinding(k *keyMap) key.Binding {
	return key.NewBinding(key.WithKeys(k.Down.Keys()...), key.WithHelp("j/k g/G", "move"))
}

// scrollBinding is a help-only entry for scrolling the detail.
func scrollBinding(k *keyMap) key.Binding {
	return key.NewBinding(key.WithKeys(k.Down.Keys()...), key.WithHelp("j/k", "scroll payload"))
}

// countTitle is the list panel's title.
func (a *approvalsModel) countTitle() string {
	if !a.loaded {
		return "Pending approvals"
	}
	return "Pending approvals (" + strconv.Itoa(len(a.items)) + ") · oldest first"
}
