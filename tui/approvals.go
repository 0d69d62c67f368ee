package tui

import (
	"strconv"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"grace/engine/intent"
)

// splitLayout is the width from which list screens show the list and the
// selected row's detail side by side.
const splitLayout = 140

// section is one of the Approvals screen's two lists.
type section int

const (
	// sectionPending: Tier 0 intents waiting for a human, oldest first.
	sectionPending section = iota
	// sectionReview: finished Tier 1 intents awaiting after-the-fact
	// review, newest first.
	sectionReview
)

// approvalsModel is screen 2. Its pending section is the inbox of intents
// waiting for a human: a approves (y/N), d denies with a reason. Its review
// section lists the finished Tier 1 intents nobody has reviewed: a
// acknowledges (y/N), f flags with a note. h/l switch sections; j/k and
// g/G move, enter opens the detail (esc goes back, j/k scroll the payload
// there), / filters, s opens the intent's story in Narratives.
type approvalsModel struct {
	pc      *programContext
	section section
	pending intentList
	review  intentList
	// reviewRunning counts unreviewed Tier 1 intents still running.
	reviewRunning int
	// reviewCapped is set when the review list holds only the newest
	// reviewLimit: its count is then a floor ("500+").
	reviewCapped bool
	// reviewDirty says a Tier 1 intent finished since the last fetch.
	reviewDirty bool
	detail      bool
	scroll      int
	decider     decider
	filter      filterBox
	pretty      prettyCache
	// payloadRoom is how many payload lines the last detail view showed,
	// payloadW how wide they were wrapped.
	payloadRoom, payloadW int
	// wholeMax is how far the whole detail scrolls when its payload has
	// too little room under the reasoning (see wholeDetail); -1 when the
	// payload scrolls alone.
	wholeMax int
	w, h     int
}

// newApprovals returns the approvals screen.
func newApprovals(pc *programContext) *approvalsModel {
	return &approvalsModel{pc: pc, decider: newDecider(screenApprovals), filter: newFilterBox()}
}

func (a *approvalsModel) id() screenID     { return screenApprovals }
func (a *approvalsModel) title() string    { return "Approvals" }
func (a *approvalsModel) setSize(w, h int) { a.w, a.h = w, h }

// capturing reports whether a prompt or the filter takes every key.
func (a *approvalsModel) capturing() bool { return a.decider.prompting() || a.filter.editing }

// focus refreshes both lists when the screen is shown.
func (a *approvalsModel) focus() tea.Cmd { return tea.Batch(a.refresh(), a.refreshReview()) }

// list returns the section on show.
func (a *approvalsModel) list() *intentList {
	if a.section == sectionReview {
		return &a.review
	}
	return &a.pending
}

// refresh fetches the pending list unless a fetch is already in flight.
func (a *approvalsModel) refresh() tea.Cmd {
	if a.pending.fetching {
		return nil
	}
	a.pending.fetching = true
	return fetchPendingCmd(a.pc.ctx, a.pc.api, screenApprovals)
}

// refreshReview fetches the review list unless a fetch is in flight.
func (a *approvalsModel) refreshReview() tea.Cmd {
	if a.review.fetching {
		return nil
	}
	a.review.fetching, a.reviewDirty = true, false
	return fetchReviewCmd(a.pc.ctx, a.pc.api, screenApprovals)
}

// tick refetches the review list, while it is on show, when a Tier 1
// intent finished or was reviewed since the last fetch.
func (a *approvalsModel) tick() tea.Cmd {
	if a.section == sectionReview && a.reviewDirty {
		return a.refreshReview()
	}
	return nil
}

// noteEvent takes an intent event that concerns the review list: a Tier 1
// intent that finished is to be listed; one reviewed elsewhere leaves.
func (a *approvalsModel) noteEvent(it intent.Intent) {
	if it.Tier != 1 || !it.State.Terminal() {
		return
	}
	if it.Reviewed {
		a.review.remove(it.ID)
		return
	}
	a.reviewDirty = true
}

// selected returns the intent under the cursor of the section on show.
func (a *approvalsModel) selected() (intent.Intent, bool) { return a.list().selected() }

// update handles the screen's keys and its own async results.
func (a *approvalsModel) update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case pendingMsg:
		a.pending.fetching = false
		a.pending.failed = ""
		if msg.err != nil {
			a.pending.failed = msg.err.Error()
			a.pc.bgFail(aboutPending, failText(msg.err))
			a.pc.log.Warn("fetch failed", "what", "pending approvals", "err", msg.err)
			return nil
		}
		a.pc.ok(aboutPending)
		a.setItems(sectionPending, msg.items)
	case reviewMsg:
		a.review.fetching = false
		a.review.failed = ""
		if msg.err != nil {
			a.review.failed = msg.err.Error()
			a.pc.bgFail(aboutReview, failText(msg.err))
			a.pc.log.Warn("fetch failed", "what", "review list", "err", msg.err)
			return nil
		}
		a.pc.ok(aboutReview)
		a.reviewRunning, a.reviewCapped = msg.running, msg.capped
		a.setItems(sectionReview, msg.items)
	case decidedMsg:
		a.decider.finish(a.pc, msg)
		l, refetch := &a.pending, a.refresh
		if msg.decision.isReview() {
			l, refetch = &a.review, a.refreshReview
		}
		if msg.err == nil || gone(msg.err) {
			a.removeFrom(l, msg.id)
		}
		return refetch()
	case tea.KeyMsg:
		return a.handleKey(msg)
	}
	return nil
}

// setItems replaces section s's items. A detail view never slides onto
// another intent unannounced.
func (a *approvalsModel) setItems(s section, items []intent.Intent) {
	l := &a.pending
	if s == sectionReview {
		l = &a.review
	}
	lost := l.setItems(items)
	if lost != "" && a.detail && s == a.section {
		a.detail = false
		if s == sectionReview {
			a.pc.news(aboutNews, levelInfo, lost+" no longer awaits review")
		} else {
			a.pc.news(aboutNews, levelInfo, lost+" is no longer pending")
		}
	}
}

// removeFrom drops id from l after a decision about it; an open detail of
// it closes.
func (a *approvalsModel) removeFrom(l *intentList, id string) {
	if it, ok := l.selected(); ok && it.ID == id && l == a.list() {
		a.detail = false
	}
	l.remove(id)
}

// handleKey answers a key while the screen is active.
func (a *approvalsModel) handleKey(msg tea.KeyMsg) tea.Cmd {
	if a.decider.prompting() {
		return a.decider.handleKey(a.pc, msg)
	}
	l := a.list()
	if a.filter.editing {
		l.setFilter(a.filter.handleKey(a.pc.keys, msg))
		return nil
	}
	k := a.pc.keys
	it, ok := l.selected()
	switch {
	case a.section == sectionPending && (pressed(msg, k.Approve) || pressed(msg, k.Deny)):
		dec := decisionApprove
		if pressed(msg, k.Deny) {
			dec = decisionDeny
		}
		if !ok && !a.pc.readOnly {
			a.pc.warn(a.nothingSelected(dec, "no intent is waiting"))
			return nil
		}
		a.decider.start(a.pc, dec, it.ID)
	case a.section == sectionReview && (pressed(msg, k.Acknowledge) || pressed(msg, k.Flag)):
		dec := decisionAcknowledge
		if pressed(msg, k.Flag) {
			dec = decisionFlag
		}
		if !ok && !a.pc.readOnly {
			a.pc.warn(a.nothingSelected(dec, "no Tier 1 intent awaits review"))
			return nil
		}
		a.decider.start(a.pc, dec, it.ID)
	case key.Matches(msg, k.PrevSection), key.Matches(msg, k.NextSection):
		return a.switchSection(1 - a.section)
	case key.Matches(msg, k.Filter):
		a.detail = false
		a.filter.start(l.filter)
	case key.Matches(msg, k.Story):
		if ok {
			id := it.ID
			return func() tea.Msg { return openStoryMsg{intentID: id} }
		}
	case key.Matches(msg, k.Up):
		a.moveOrScroll(-1)
	case key.Matches(msg, k.Down):
		a.moveOrScroll(1)
	case key.Matches(msg, k.PageUp):
		a.moveOrScroll(-a.page())
	case key.Matches(msg, k.PageDown):
		a.moveOrScroll(a.page())
	case key.Matches(msg, k.Top):
		a.moveOrScroll(-1 << 30)
	case key.Matches(msg, k.Bottom):
		a.moveOrScroll(1 << 30)
	case key.Matches(msg, k.Open):
		if ok {
			a.detail, a.scroll = true, 0
		}
	case key.Matches(msg, k.Refresh):
		if a.section == sectionReview {
			return a.refreshReview()
		}
		return a.refresh()
	}
	return nil
}

// nothingSelected says why decision dec has no intent to act on: the
// filter hides every one, or (empty) none is listed.
func (a *approvalsModel) nothingSelected(dec decision, empty string) string {
	l := a.list()
	if l.filter != "" && len(l.items) > 0 {
		return "nothing selected: the filter “" + l.filter + "” matches none of " + fmtInt(len(l.items)) +
			" (" + firstKey(a.pc.keys.Back) + " clears it)"
	}
	return "nothing to " + dec.verb() + ": " + empty
}

// back closes the detail, else clears the filter; it reports whether esc
// did either.
func (a *approvalsModel) back() (bool, tea.Cmd) {
	l := a.list()
	switch {
	case a.detail:
		a.detail = false
	case l.filter != "":
		l.setFilter("")
		a.pc.info("filter cleared")
	default:
		return false, nil
	}
	return true, nil
}

// switchSection shows section s, fetching it if it was never loaded.
func (a *approvalsModel) switchSection(s section) tea.Cmd {
	a.section, a.detail, a.scroll = s, false, 0
	if s == sectionReview && (!a.review.loaded || a.reviewDirty) {
		return a.refreshReview()
	}
	return nil
}

// page is how many rows j/k move per page key.
func (a *approvalsModel) page() int { return max(a.h-6, 1) }

// moveOrScroll moves the cursor n rows, or scrolls the payload n lines in
// the detail view.
func (a *approvalsModel) moveOrScroll(n int) {
	if a.detail {
		a.scroll = min(max(a.scroll+n, 0), a.maxScroll())
		return
	}
	a.list().move(n)
	a.scroll = 0
}

// focusOn selects intent id in the pending section.
func (a *approvalsModel) focusOn(id string) {
	a.section, a.detail = sectionPending, false
	a.pending.focusOn(id)
}

// remove drops intent id from the pending list at once.
func (a *approvalsModel) remove(id string) { a.removeFrom(&a.pending, id) }

// knows reports whether id is in the pending list.
func (a *approvalsModel) knows(id string) bool { return a.pending.knows(id) }

// maxScroll is how far the payload of the selected intent can scroll.
func (a *approvalsModel) maxScroll() int {
	it, ok := a.selected()
	if !ok {
		return 0
	}
	if a.wholeMax >= 0 {
		return a.wholeMax
	}
	return max(len(a.pretty.lines(it, a.payloadW))-max(a.payloadRoom, 1), 0)
}

// ShortHelp lists the screen's keys for the footer.
func (a *approvalsModel) ShortHelp() []key.Binding {
	if keys := a.decider.helpKeys(a.pc.keys); keys != nil {
		return keys
	}
	k := a.pc.keys
	if a.filter.editing {
		return []key.Binding{helpOnly(k.Submit, "enter", "keep filter"), helpOnly(k.Cancel, "esc", "clear")}
	}
	decide := []key.Binding{k.Approve, k.Deny}
	if a.section == sectionReview {
		decide = []key.Binding{k.Acknowledge, k.Flag}
	}
	if a.detail {
		return append(decide, k.Story, k.Back, scrollBinding(k))
	}
	return append(decide, k.Open, k.Story, sectionBinding(k), k.Filter)
}

// FullHelp lists the screen's own keys (the root adds the list keys).
func (a *approvalsModel) FullHelp() [][]key.Binding {
	k := a.pc.keys
	return [][]key.Binding{{
		helpOnly(k.NextSection, firstKey(k.PrevSection)+"/"+firstKey(k.NextSection), "pending ⇄ review"),
		helpOnly(k.Approve, k.Approve.Help().Key, "approve (pending)"), helpOnly(k.Deny, k.Deny.Help().Key, "deny (pending)"),
		helpOnly(k.Acknowledge, k.Acknowledge.Help().Key, "acknowledge (review)"), helpOnly(k.Flag, k.Flag.Help().Key, "flag (review)"),
		k.Filter, helpOnly(k.Story, k.Story.Help().Key, "intent's story"), k.Refresh,
	}}
}

// scrollBinding is a help-only entry for scrolling a detail view.
func scrollBinding(k *keyMap) key.Binding {
	return helpOnly(k.Down, firstKey(k.Down)+"/"+firstKey(k.Up), "scroll")
}

// sectionBinding is a help-only entry for the section keys.
func sectionBinding(k *keyMap) key.Binding {
	return helpOnly(k.NextSection, firstKey(k.PrevSection)+"/"+firstKey(k.NextSection), "section")
}

// sectionTitles are the two sections' names with their counts.
func (a *approvalsModel) sectionTitles() (pending, review string) {
	pending, review = "Pending approvals", "Tier 1 review"
	if a.pending.loaded {
		pending += " (" + strconv.Itoa(len(a.pending.items)) + ")"
	}
	if a.review.loaded {
		n := strconv.Itoa(len(a.review.items))
		if a.reviewCapped {
			n += "+" // only the newest reviewLimit were fetched
		}
		review += " (" + n + ")"
	}
	return pending, review
}

// countTitle is the list panel's title.
func (a *approvalsModel) countTitle() string {
	l := a.list()
	pending, review := a.sectionTitles()
	title := pending + " · oldest first"
	if a.section == sectionReview {
		title = review + " · newest first"
	}
	if l.filter != "" {
		title += " · filter “" + l.filter + "”: " + strconv.Itoa(l.len()) + " shown"
	}
	return title
}
