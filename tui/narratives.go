package tui

import (
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"grace/engine"
	"grace/engine/clarity"
	"grace/engine/intent"
)

// Narrative paging: entries per request, the most kept loaded (past it
// the operator is asked to narrow the search), and how many pages in a
// row may stop early at the engine's read budget with no match before the
// list stops reading on (each reads up to 100,000 records).
const (
	narrPage      = 200
	narrMaxLoaded = 20000
	narrDryStops  = 3
)

// narrativesModel is screen 4: the 5W1H history. The search box takes
// full-text words and field:value filters (/ edits it, enter runs it);
// results come newest first, a page at a time as the cursor nears the end;
// enter focuses the selected record's detail (the whole 5W1H record, its
// clarity data and audit entry), v verifies the audit chain, s shows the
// record's intent's whole story, oldest first. esc goes back a step, and
// on the results clears the search. With the cursor on the newest result
// and nothing open, the results follow the record: each refresh adds the
// matches written since, newest on top ("following" on the search line).
type narrativesModel struct {
	pc      *programContext
	search  lineInput
	editing bool
	// text is the search in force, query its parse when it ran.
	text  string
	query narrQuery

	results entryList
	story   *storyView
	// detail: the detail pane has the focus (and, when narrow, the
	// screen); scroll is its first line.
	detail     bool
	scroll     int
	detailRoom int
	// detailBuf is the detail's lines as last drawn, and detailRoom how
	// many of them showed: scrolling stops at the end.
	detailBuf []string

	verify verifyState
	// seq numbers the searches, storySeq the stories: a result carries
	// the number of the request it answers and is dropped if that request
	// was abandoned.
	seq      int
	storySeq int
	// newer: a fetch of the matches newer than the top result is on its
	// way (see tick).
	newer bool
	w, h  int
}

// entryList is a list of narrative entries with a cursor, loaded a page at
// a time.
type entryList struct {
	entries   []clarity.Entry
	cursor    int
	offset    int
	loaded    bool
	loading   bool
	exhausted bool
	capped    bool
	// resume is where the last page stopped early, at the engine's read
	// budget (0: it did not): the next page reads on from there. dry
	// counts the pages in a row that stopped so with no match; after
	// narrDryStops of them the list stops reading on, and says where.
	resume int64
	dry    int
	at     time.Time
	// failed is why the last fetch failed ("" when it did not): with no
	// entries to show, the list says so instead of "no match". refused
	// is set when the failure is the engine's refusal of the query
	// (searchRefusal), which trying again would not mend: the list says
	// why and how to change the search, and offers no retry; noWords
	// when the query had no letters or digits.
	failed  string
	refused string
	noWords bool
}

// selected returns the entry under the cursor.
func (l *entryList) selected() (clarity.Entry, bool) {
	if l.cursor < 0 || l.cursor >= len(l.entries) {
		return clarity.Entry{}, false
	}
	return l.entries[l.cursor], true
}

// move shifts the cursor by n rows, within the loaded entries.
func (l *entryList) move(n int) {
	l.cursor = min(max(l.cursor+n, 0), max(len(l.entries)-1, 0))
}

// storyView is one intent's story: every record about it, oldest first.
type storyView struct {
	intentID string
	intent   *intent.Intent
	list     entryList
	seq      int
}

// verifyState is the last audit verification and whether one is running.
type verifyState struct {
	running bool
	done    bool
	rep     engine.AuditReport
	err     error
	at      time.Time
	took    time.Duration
}

// newNarratives returns the narratives screen.
func newNarratives(pc *programContext) *narrativesModel {
	return &narrativesModel{pc: pc, search: newLineInput(searchHint)}
}

func (n *narrativesModel) id() screenID     { return screenNarratives }
func (n *narrativesModel) title() string    { return "Narratives" }
func (n *narrativesModel) setSize(w, h int) { n.w, n.h = w, h }
func (n *narrativesModel) capturing() bool  { return n.editing }

// focus runs the first search (the newest narratives) the first time the
// screen is shown.
func (n *narrativesModel) focus() tea.Cmd {
	if n.results.loaded || n.results.loading {
		return nil
	}
	return n.run(n.text)
}

// list returns the list on show: the story's, or the results.
func (n *narrativesModel) list() *entryList {
	if n.story != nil {
		return &n.story.list
	}
	return &n.results
}

// run parses text and starts a new search for it; a parse error goes to
// the status line and leaves the search in force alone.
func (n *narrativesModel) run(text string) tea.Cmd {
	q, err := parseNarrQuery(text, n.pc.now())
	if err != nil {
		n.pc.failAbout(aboutSearch, "search: "+err.Error())
		return nil
	}
	if q.Text != "" && !hasWords(q.Text) {
		// The engine refuses it (clarity.ErrNoWords): said before asking.
		n.pc.failAbout(aboutSearch, "nothing searched: "+noWordsText(q.Text)+"; type a word, or none to list the newest")
		return nil
	}
	n.text, n.query = strings.TrimSpace(text), q
	n.search.SetValue(n.text)
	n.seq++
	n.results = entryList{loading: true}
	n.story, n.detail, n.scroll, n.newer = nil, false, 0, false
	return searchCmd(n.pc.ctx, n.pc.api, screenNarratives, n.seq, false, q.clarityQuery(narrPage, 0), n.pc.now)
}

// more fetches the next page of results when the cursor is within a
// screen of the last loaded entry.
func (n *narrativesModel) more() tea.Cmd {
	l := &n.results
	if n.story != nil || !l.loaded || l.loading || l.exhausted || l.capped {
		return nil
	}
	if len(l.entries)-l.cursor > max(n.h, 10) {
		return nil
	}
	if len(l.entries) >= narrMaxLoaded {
		l.capped = true
		return nil
	}
	l.loading = true
	before := l.resume
	if before == 0 {
		before = l.entries[len(l.entries)-1].ID
	}
	return searchCmd(n.pc.ctx, n.pc.api, screenNarratives, n.seq, true, n.query.clarityQuery(narrPage, before), n.pc.now)
}

// following reports whether the results follow the record: the cursor
// on the newest, nothing open over them, and the search not bounded in
// time (an until: bound has nothing newer to show).
func (n *narrativesModel) following() bool {
	l := &n.results
	return n.story == nil && !n.detail && !n.editing && l.loaded && l.failed == "" && l.cursor == 0 && n.query.Until.IsZero()
}

// tick fetches the matches newer than the top result while following.
func (n *narrativesModel) tick() tea.Cmd {
	if !n.following() || n.results.loading || n.newer {
		return nil
	}
	n.newer = true
	q := n.query.clarityQuery(narrPage, 0)
	if l := n.results.entries; len(l) > 0 {
		q.AfterID = l[0].ID
	}
	fetch := searchCmd(n.pc.ctx, n.pc.api, screenNarratives, n.seq, false, q, n.pc.now)
	return func() tea.Msg {
		msg := fetch().(searchMsg)
		msg.newer = true
		return msg
	}
}

// takeNewer puts the matches written since the top result above it. More
// than a page of them replaces the list, as a new search would (the rest
// are older than those and load as the cursor goes down); a failure keeps
// the list, for the next refresh to try again.
func (n *narrativesModel) takeNewer(msg searchMsg) {
	n.newer = false
	l := &n.results
	if msg.err != nil {
		n.pc.log.Warn("fetch failed", "what", "newer narratives", "err", msg.err)
		return
	}
	l.at = msg.at
	k := len(msg.entries)
	switch {
	case k == 0 && msg.resume == 0:
	case k >= msg.limit || msg.resume > 0: // a page, or more newer than a page reads
		l.entries, l.cursor, l.offset, l.exhausted, l.capped = msg.entries, 0, 0, false, false
		l.resume, l.dry = msg.resume, 0
	default:
		l.entries = append(msg.entries[:k:k], l.entries...)
		if l.cursor > 0 { // the operator moved since: the same row stays selected, where it was
			l.cursor += k
			l.offset += k
		}
		if len(l.entries) > narrMaxLoaded {
			l.entries, l.exhausted = l.entries[:narrMaxLoaded], false
		}
	}
}

// openStory shows intent id's story, fetching it.
func (n *narrativesModel) openStory(id string) tea.Cmd {
	n.storySeq++
	n.story = &storyView{intentID: id, seq: n.storySeq, list: entryList{loading: true}}
	n.detail, n.scroll = false, 0
	return storyCmd(n.pc.ctx, n.pc.api, screenNarratives, n.storySeq, id)
}

// startVerify verifies the audit chain unless a verification is running.
func (n *narrativesModel) startVerify() tea.Cmd {
	if n.verify.running {
		n.pc.info("the audit chain is being verified…")
		return nil
	}
	n.verify.running = true
	n.pc.info("verifying the audit chain…")
	return verifyCmd(n.pc.ctx, n.pc.api, screenNarratives, n.pc.now)
}

// update handles the screen's keys and its own async results.
func (n *narrativesModel) update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case searchMsg:
		return n.takeResults(msg)
	case storyMsg:
		n.takeStory(msg)
	case verifyMsg:
		n.takeVerify(msg)
	case tea.KeyMsg:
		return n.handleKey(msg)
	}
	return nil
}

// takeResults adds a page of results, dropping a page of an abandoned
// search.
func (n *narrativesModel) takeResults(msg searchMsg) tea.Cmd {
	if msg.seq != n.seq {
		return nil
	}
	if msg.newer {
		n.takeNewer(msg)
		return nil
	}
	l := &n.results
	l.loading = false
	if msg.err != nil {
		l.loaded, l.failed = true, msg.err.Error()
		l.refused, l.noWords = searchRefusal(msg.err, n.query.Text)
		if l.refused != "" {
			if l.noWords {
				n.pc.failAbout(aboutSearch, "nothing searched: "+l.refused)
			} else {
				n.pc.failAbout(aboutSearch, "search refused: "+l.refused)
			}
			n.pc.log.Info("search refused", "query", n.text, "err", msg.err)
			return nil
		}
		n.pc.failAbout(aboutSearch, failText(msg.err))
		n.pc.log.Warn("fetch failed", "what", "narratives", "err", msg.err)
		return nil
	}
	l.failed, l.refused, l.noWords = "", "", false
	n.pc.ok(aboutSearch)
	if !msg.more {
		l.entries, l.cursor, l.offset, l.at = nil, 0, 0, msg.at
		l.dry = 0
	}
	l.loaded = true
	l.entries = append(l.entries, msg.entries...)
	l.resume = msg.resume
	switch {
	case msg.resume == 0:
		l.exhausted = len(msg.entries) < msg.limit
	case len(msg.entries) > 0:
		l.dry, l.exhausted = 0, false
	default:
		l.dry++
		l.exhausted = l.dry >= narrDryStops
	}
	return n.more()
}

// takeStory shows a fetched story, unless the operator left it.
func (n *narrativesModel) takeStory(msg storyMsg) {
	if n.story == nil || n.story.seq != msg.seq {
		return
	}
	s := n.story
	s.list.loading, s.list.loaded, s.list.exhausted = false, true, true
	s.list.failed = ""
	if msg.err != nil {
		s.list.failed = msg.err.Error()
		n.pc.failAbout(aboutStory, failText(msg.err))
		n.pc.log.Warn("fetch failed", "what", "story", "intent", msg.intentID, "err", msg.err)
		return
	}
	n.pc.ok(aboutStory)
	s.intent, s.list.entries, s.list.capped, s.list.at = msg.intent, msg.entries, msg.capped, n.pc.now()
	// The ID as the engine writes it, not as typed (":story int_01m8…"
	// finds it in any case): the title shows it, and s on one of its
	// records knows it is this story.
	switch {
	case msg.intent != nil:
		s.intentID = msg.intent.ID
	case len(msg.entries) > 0 && strings.EqualFold(msg.entries[0].IntentID, s.intentID):
		s.intentID = msg.entries[0].IntentID
	}
	if len(msg.entries) == 0 {
		n.pc.warn("no records about " + msg.intentID)
	}
}

// takeVerify records a verification's outcome and says it on the status
// line.
func (n *narrativesModel) takeVerify(msg verifyMsg) {
	n.verify = verifyState{done: true, rep: msg.rep, err: msg.err, at: msg.at, took: msg.took}
	switch {
	case msg.err != nil:
		n.pc.fail("audit verify failed: " + failText(msg.err))
		n.pc.log.Warn("audit verify failed", "err", msg.err)
	case msg.rep.OK:
		n.pc.info("audit chain intact: " + fmtInt(msg.rep.Entries) + " entries, head #" + fmtInt(msg.rep.HeadSeq))
	case msg.rep.FirstBroken == 0: // no entry is at fault: the checkpoints could not be checked
		n.pc.fail("audit chain not verified: " + msg.rep.Problem)
		n.pc.log.Error("audit chain not verified", "problem", msg.rep.Problem)
	default:
		n.pc.fail("audit chain broken at entry #" + fmtInt(msg.rep.FirstBroken) + ": " + msg.rep.Problem)
		n.pc.log.Error("audit chain broken", "first_broken", msg.rep.FirstBroken, "problem", msg.rep.Problem)
	}
}

// handleKey answers a key while the screen is active.
func (n *narrativesModel) handleKey(msg tea.KeyMsg) tea.Cmd {
	k := n.pc.keys
	if n.editing {
		switch {
		case msg.Type == tea.KeyEnter || pressed(msg, k.Submit):
			n.editing = false
			if cmd := n.run(n.search.Value()); cmd != nil {
				return cmd
			}
			n.editing = true // a bad query stays open to be fixed
		case pressed(msg, k.Cancel):
			n.editing = false
			n.search.SetValue(n.text)
		default:
			n.search.Update(msg)
		}
		return nil
	}
	l := n.list()
	e, ok := l.selected()
	switch {
	case key.Matches(msg, k.Filter):
		n.editing = true
		n.search.SetValue(n.text)
	case key.Matches(msg, k.Verify):
		return n.startVerify()
	case key.Matches(msg, k.Story):
		switch {
		case !ok:
		case e.IntentID == "":
			n.pc.warn("this record concerns no single intent: it has no story")
		case n.story != nil && n.story.intentID == e.IntentID:
			n.pc.info("this is " + e.IntentID + "'s story")
		default:
			return n.openStory(e.IntentID)
		}
	case key.Matches(msg, k.CancelIntent):
		switch {
		case !ok:
		case e.IntentID == "":
			n.pc.warn("this record concerns no single intent: there is nothing to cancel")
		default:
			line := "cancel " + e.IntentID + " "
			return func() tea.Msg { return commandLineMsg{line: line} }
		}
	case key.Matches(msg, k.RetryIntent):
		switch {
		case !ok:
		case e.IntentID == "":
			n.pc.warn("this record concerns no single intent: there is nothing to retry")
		default:
			line := "retry " + e.IntentID + " "
			return func() tea.Msg { return commandLineMsg{line: line} }
		}
	case key.Matches(msg, k.Open):
		if ok {
			n.detail, n.scroll = true, 0
		}
	case key.Matches(msg, k.Refresh):
		if n.story != nil {
			return n.openStory(n.story.intentID)
		}
		return n.run(n.text)
	case key.Matches(msg, k.Up):
		return n.moveOrScroll(-1)
	case key.Matches(msg, k.Down):
		return n.moveOrScroll(1)
	case key.Matches(msg, k.PageUp):
		return n.moveOrScroll(-n.page())
	case key.Matches(msg, k.PageDown):
		return n.moveOrScroll(n.page())
	case key.Matches(msg, k.Top):
		return n.moveOrScroll(-1 << 30)
	case key.Matches(msg, k.Bottom):
		return n.moveOrScroll(1 << 30)
	}
	return nil
}

// back leaves the detail, then the story, then clears the search; it
// reports whether esc did any of these.
func (n *narrativesModel) back() (bool, tea.Cmd) {
	switch {
	case n.detail:
		n.detail = false
	case n.story != nil:
		n.story = nil
		n.storySeq++ // a story still on its way is dropped
		n.scroll = 0
	case n.text != "":
		n.pc.info("search cleared")
		return true, n.run("")
	default:
		return false, nil
	}
	return true, nil
}

// page is how many rows a page key moves.
func (n *narrativesModel) page() int { return max(n.h-8, 1) }

// moveOrScroll moves the cursor n rows, or scrolls the detail, and loads
// more results when the cursor nears the end.
func (n *narrativesModel) moveOrScroll(d int) tea.Cmd {
	if n.detail {
		n.scroll = min(max(n.scroll+d, 0), max(len(n.detailBuf)-max(n.detailRoom, 1), 0))
		return nil
	}
	n.list().move(d)
	n.scroll = 0
	return n.more()
}

// ShortHelp lists the screen's keys for the footer.
func (n *narrativesModel) ShortHelp() []key.Binding {
	k := n.pc.keys
	if n.editing {
		return []key.Binding{helpOnly(k.Submit, "enter", "search"), helpOnly(k.Cancel, "esc", "cancel")}
	}
	search := helpOnly(k.Filter, firstKey(k.Filter), "search")
	if n.detail {
		return []key.Binding{k.Verify, k.Story, k.Back, scrollBinding(k)}
	}
	return []key.Binding{search, k.Open, k.Story, k.Verify}
}

// FullHelp lists the screen's own keys (the root adds the list keys).
func (n *narrativesModel) FullHelp() [][]key.Binding {
	k := n.pc.keys
	return [][]key.Binding{{
		helpOnly(k.Filter, k.Filter.Help().Key, "edit the search"), k.Refresh,
		helpOnly(k.Story, k.Story.Help().Key, "intent's story"), k.Verify,
		// One row for both: the help of an 80x24 terminal has no room for two.
		helpOnly(k.CancelIntent, firstKey(k.CancelIntent)+"/"+firstKey(k.RetryIntent), "cancel, retry it"),
	}}
}
