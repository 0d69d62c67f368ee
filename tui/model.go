package tui

import (
	"context"
	"strconv"
	"time"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"grace/engine"
	"grace/engine/intent"
)

// maxAnnounced bounds the set of intent IDs already announced; past it the
// set is rebuilt from what is still pending.
const maxAnnounced = 10000

// model is the root of the console. It owns the chrome (header, status
// line, footer, help) and the approval popup, keeps the refresh loop and the
// event subscription going, and routes everything else: keys to the active
// screen, async results to the screen that asked.
type model struct {
	pc     *programContext
	cancel context.CancelFunc

	screens    []screen
	active     int
	dash       *dashboardModel
	approvals  *approvalsModel
	narratives *narrativesModel
	alerts     *alertsModel
	chaos      *chaosModel
	popup      *popupModel
	halt       haltPrompt
	cmd        cmdLine
	// intentCmd is the decision flow of ":cancel ID" and ":retry ID":
	// its reason prompt takes the status line of whatever screen is on
	// show, and its result is said there.
	intentCmd decider
	// silence asks how long and why to silence alerts, or why to end a
	// silence (":silence", ":unsilence", the Alerts screen's silence
	// key), on the status line.
	silence silenceFlow

	showHelp bool
	// msgs is the status line's history, open in place of the screen
	// (":messages").
	msgs messagesView
	// frame is the last rendered view, kept while nothing it shows has
	// changed (see Update and View).
	frame frameCache

	fetchingSnap bool
	events       <-chan engine.Event
	streamClosed bool
	// resync is set when the engine said events were lost (an
	// engine.EventReset): the next approvals list announces the pending
	// intents that arrived since the console started and were not seen.
	resync      bool
	started     time.Time
	announced   map[string]struct{}
	lastPending int
	// popupsOff keeps Tier 0 arrivals out of the popup: they are named
	// on the status line and wait in the inbox (see togglePopups).
	popupsOff bool
}

// Init starts the refresh tick, the first snapshot, the event subscription
// and the first fetch of the approvals list and of the chaos status.
func (m *model) Init() tea.Cmd {
	m.fetchingSnap = true
	return tea.Batch(
		snapshotCmd(m.pc.api),
		tickCmd(m.pc.refresh),
		subscribeCmd(m.pc.ctx, m.pc.api),
		m.approvals.refresh(),
		m.pc.chaos.fetch(m.pc),
	)
}

// Update routes one message. It never blocks: everything that talks to the
// engine runs in a command. Every message but a batch of events that
// changes nothing on screen, or a tick that asks for a snapshot, marks the
// frame for drawing again: Bubble Tea asks for the view after each
// message, under a flood of engine events most batches concern intents
// the console does not show, and the snapshot a tick asks for redraws the
// frame (with the tick's time) when it arrives.
func (m *model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	if u, ok := msg.(fromEngine); ok {
		// What the engine sent is made safe to show before anything
		// keeps it (untrusted.go).
		msg = u.untrusted()
	}
	switch msg.(type) {
	case eventsMsg, tickMsg:
	default:
		m.frame.stale = true
	}
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.pc.width, m.pc.height = msg.Width, msg.Height
		return m, nil
	case tea.KeyMsg:
		if msg.Type == tea.KeyRunes && len(msg.Runes) > 1 && !msg.Paste {
			return m, m.handleRunes(msg)
		}
		return m, m.handleKey(msg)
	case tickMsg:
		cmds := []tea.Cmd{tickCmd(m.pc.refresh)}
		if !m.fetchingSnap {
			m.fetchingSnap = true
			cmds = append(cmds, snapshotCmd(m.pc.api))
		} else {
			// The last snapshot has not come back: show its age.
			m.frame.stale = true
		}
		switch m.screens[m.active].id() {
		case screenApprovals:
			cmds = append(cmds, m.approvals.tick())
		case screenAlerts:
			cmds = append(cmds, m.alerts.tick())
		case screenNarratives:
			cmds = append(cmds, m.narratives.tick())
		case screenChaos:
			cmds = append(cmds, m.chaos.tick())
		}
		if m.pc.chaos.needsPoll(m.pc.now(), m.pc.refresh) {
			cmds = append(cmds, m.pc.chaos.fetch(m.pc))
		}
		return m, tea.Batch(cmds...)
	case snapshotMsg:
		if msg.err != nil {
			m.snapshotFailed(msg.err)
			return m, nil
		}
		return m, m.takeSnapshot(msg.snap)
	case subscribedMsg:
		if msg.ch == nil {
			m.streamClosed = true
			m.pc.bgWarn(aboutStream, "no engine event stream: approvals show on refresh")
			return m, nil
		}
		m.events = msg.ch
		return m, waitEventsCmd(m.pc.ctx, m.events)
	case eventsMsg:
		cmd, shown := m.takeEvents(msg.events)
		if shown {
			m.frame.stale = true
		}
		if m.events == nil {
			return m, cmd
		}
		return m, tea.Batch(cmd, waitEventsCmd(m.pc.ctx, m.events))
	case eventsClosedMsg:
		m.events, m.streamClosed = nil, true
		if m.pc.ctx.Err() == nil {
			m.pc.bgWarn(aboutStream, "engine event stream closed: approvals show on refresh")
			m.pc.log.Warn("event stream closed")
		}
		return m, nil
	case pendingMsg:
		if m.streamClosed && msg.err == nil {
			m.announceUnseen(msg.items)
		}
		if m.resync && msg.err == nil {
			m.resync = false
			var since []intent.Intent
			for _, it := range msg.items {
				if !it.CreatedAt.Before(m.started) {
					since = append(since, it)
				}
			}
			m.announceUnseen(since)
		}
		return m, m.route(msg.owner, msg)
	case reviewMsg:
		return m, m.route(msg.owner, msg)
	case searchMsg:
		return m, m.route(msg.owner, msg)
	case storyMsg:
		return m, m.route(msg.owner, msg)
	case verifyMsg:
		return m, m.route(msg.owner, msg)
	case openStoryMsg:
		return m, m.openStory(msg.intentID)
	case commandLineMsg:
		m.cmd.start()
		m.cmd.input.SetValue(msg.line)
		return m, nil
	case decidedMsg:
		return m, m.decided(msg)
	case intentCheckedMsg:
		m.intentCmd.checked(m.pc, msg)
		return m, nil
	case chaosStatusMsg:
		return m, m.takeChaosStatus(msg)
	case chaosHaltedMsg:
		return m, m.halted(msg)
	case schedulerMsg:
		m.scheduled(msg)
		return m, nil
	case chaosScenariosMsg, chaosHistoryMsg, chaosStartedMsg, chaosRunMsg:
		return m, m.chaos.update(msg)
	case alertHistoryMsg:
		return m, m.alerts.takeHistory(msg)
	case silencesMsg:
		return m, m.alerts.takeSilences(msg)
	case silencedMsg:
		return m, m.silenced(msg)
	case silenceEndedMsg:
		return m, m.silenceEnded(msg)
	}
	return m, nil
}

// handleKey gives a key to whoever should have it: the command line or an
// open prompt first, then the full help, the popup, the global keys, and
// last the active screen.
func (m *model) handleKey(msg tea.KeyMsg) tea.Cmd {
	k := m.pc.keys
	if key.Matches(msg, k.ForceQuit) {
		return m.quit()
	}
	if m.cmd.open {
		if line, ok := m.cmd.handleKey(k, msg); ok {
			return m.execute(line)
		}
		return nil
	}
	if m.halt.asking {
		return m.haltKey(msg)
	}
	if m.intentCmd.prompting() {
		return m.intentCmd.handleKey(m.pc, msg)
	}
	if m.silence.prompting() {
		return m.silence.handleKey(m.pc, msg)
	}
	if m.popup.prompting() {
		_, cmd := m.popup.handleKey(msg)
		return cmd
	}
	cur := m.screens[m.active]
	if cur.capturing() {
		return cur.update(msg)
	}
	if m.showHelp {
		// Help closes on ? or esc; any other key closes it and acts.
		m.showHelp = false
		if key.Matches(msg, k.Help) || key.Matches(msg, k.Back) {
			return nil
		}
	}
	if m.msgs.open && m.messagesKey(msg) {
		return nil
	}
	if handled, cmd := m.popup.handleKey(msg); handled {
		return cmd
	}
	switch {
	case key.Matches(msg, k.Quit):
		return m.quit()
	case key.Matches(msg, k.Help):
		m.showHelp = true
		return nil
	case key.Matches(msg, k.Command):
		m.cmd.start()
		return nil
	case key.Matches(msg, k.Dashboard):
		return m.switchToID(screenDashboard)
	case key.Matches(msg, k.Approvals):
		return m.switchToID(screenApprovals)
	case key.Matches(msg, k.Narratives):
		return m.switchToID(screenNarratives)
	case key.Matches(msg, k.Alerts):
		return m.switchToID(screenAlerts)
	case key.Matches(msg, k.Chaos):
		return m.switchToID(screenChaos)
	case pressed(msg, k.HaltChaos):
		m.startHalt()
		return nil
	case key.Matches(msg, k.Popups):
		return m.togglePopups()
	case key.Matches(msg, k.Next):
		return m.switchTo((m.active + 1) % len(m.screens))
	case key.Matches(msg, k.Prev):
		return m.switchTo((m.active + len(m.screens) - 1) % len(m.screens))
	case key.Matches(msg, k.Back):
		if done, cmd := cur.back(); done {
			return cmd
		}
		m.pc.status.clear()
		return nil
	}
	return cur.update(msg)
}

// switchToID makes the screen with id active.
func (m *model) switchToID(id screenID) tea.Cmd {
	for i, s := range m.screens {
		if s.id() == id {
			return m.switchTo(i)
		}
	}
	return nil
}

// openStory shows intent id's whole story on the Narratives screen.
func (m *model) openStory(id string) tea.Cmd {
	switchCmd := m.switchToID(screenNarratives)
	return tea.Batch(switchCmd, m.narratives.openStory(id))
}

// quit ends the program: it stops the subscription and the commands that
// wait on the engine, then tells Bubble Tea to restore the terminal.
func (m *model) quit() tea.Cmd {
	m.cancel()
	return tea.Quit
}

// switchTo makes screen i active and lets it fetch what it shows. Going to
// Approvals with the popup up takes its arrivals along: they are all in the
// list, the announced one is selected, and no popup is left over the list
// to take a and d from under the operator. Under a flood of Tier 0
// arrivals this is the way out of the popup.
func (m *model) switchTo(i int) tea.Cmd {
	if i < 0 || i >= len(m.screens) {
		return nil
	}
	var cmd tea.Cmd
	if m.screens[i].id() == screenApprovals && m.popup.visible() {
		cur, n := m.popup.queue[0], len(m.popup.queue)
		m.popup.clear()
		m.approvals.focusOn(cur.ID)
		if n > 1 {
			m.pc.info(strconv.Itoa(n) + " arrivals are in the inbox")
		}
		cmd = m.approvals.refresh()
	}
	if i == m.active {
		return cmd
	}
	m.active = i
	return tea.Batch(cmd, m.screens[i].focus())
}

// route hands msg to the screen that owns it.
func (m *model) route(owner screenID, msg tea.Msg) tea.Cmd {
	for _, s := range m.screens {
		if s.id() == owner {
			return s.update(msg)
		}
	}
	m.pc.log.Warn("message for unknown owner dropped", "owner", owner)
	return nil
}

// decided routes a decision's result to its owner and keeps the other
// views consistent with it.
func (m *model) decided(msg decidedMsg) tea.Cmd {
	if msg.owner == ownerPopup {
		m.popup.decided(msg)
		if msg.err == nil || gone(msg.err) {
			m.approvals.remove(msg.id)
		}
		return tea.Batch(m.approvals.refresh(), m.refreshSnapshot())
	}
	if msg.owner == ownerCommand {
		m.intentCmd.finish(m.pc, msg)
		if msg.err == nil {
			// A cancelled pending intent leaves the inbox and the popup.
			m.popup.drop(msg.id)
			m.approvals.remove(msg.id)
		}
		return tea.Batch(m.approvals.refresh(), m.refreshSnapshot())
	}
	if msg.err == nil || gone(msg.err) {
		m.popup.drop(msg.id)
	}
	return tea.Batch(m.route(msg.owner, msg), m.refreshSnapshot())
}

// refreshSnapshot asks for a snapshot now (the badge follows decisions at
// once), unless one is already on its way.
func (m *model) refreshSnapshot() tea.Cmd {
	if m.fetchingSnap {
		return nil
	}
	m.fetchingSnap = true
	return snapshotCmd(m.pc.api)
}

// takeSnapshot stores a fresh snapshot, feeds the dashboard's history and
// refetches the approvals list when the pending count moved.
func (m *model) takeSnapshot(s engine.Snapshot) tea.Cmd {
	m.fetchingSnap = false
	prev := m.pc.snap
	recovered := m.pc.snapErr != nil
	m.pc.snap, m.pc.snapAt = s, m.pc.now()
	m.pc.snapErr, m.pc.snapErrSince = nil, time.Time{}
	m.dash.record(s, m.pc.snapAt)
	m.alerts.noteSnapshot(prev, s)
	if recovered {
		// The server is back: read again the lists that may have failed
		// (or changed) while it was away.
		m.pc.log.Info("engine reachable again")
		m.lastPending = s.PendingApprovals
		cmds := []tea.Cmd{m.approvals.refresh()}
		if m.approvals.review.loaded || m.approvals.review.failed != "" {
			cmds = append(cmds, m.approvals.refreshReview())
		}
		return tea.Batch(cmds...)
	}
	if s.PendingApprovals != m.lastPending {
		m.lastPending = s.PendingApprovals
		return m.approvals.refresh()
	}
	return nil
}

// snapshotFailed takes a remote engine's failure to answer: the figures
// stay the last ones, dated by snapAt, and the header says since when the
// server cannot be reached and why (see freshness).
func (m *model) snapshotFailed(err error) {
	m.fetchingSnap = false
	if m.pc.snapErr == nil {
		m.pc.snapErrSince = m.pc.now()
		m.pc.log.Warn("engine unreachable", "err", err)
	}
	m.pc.snapErr = err
}

// takeEvents reacts to intent events: an intent entering pending_approval
// is announced at once in the popup; one leaving it leaves the popup and the
// list. It reports whether anything on screen may have changed.
func (m *model) takeEvents(evs []engine.Event) (cmd tea.Cmd, shown bool) {
	changed := false
	var chaosCmds []tea.Cmd
	for _, ev := range evs {
		if ev.Kind == engine.EventReset {
			// Events were lost (a long disconnection, the engine
			// restarted): read again what they would have said.
			m.pc.log.Warn("event stream reset: events were lost; reading the state again")
			m.resync, changed, shown = true, true, true
			continue
		}
		if ev.Alert != nil {
			m.alerts.noteAlert(*ev.Alert)
			shown = true
			continue
		}
		if ev.Chaos != nil {
			chaosCmds = append(chaosCmds, m.noteChaos(*ev.Chaos))
			shown = true
			continue
		}
		it := ev.Intent
		if it.ID == "" {
			continue
		}
		if it.Tier == 1 && it.Reviewed {
			shown = true
			if d := &m.approvals.decider; d.prompting() && d.target == it.ID && d.dec.isReview() {
				// Reviewed elsewhere: the question is withdrawn.
				d.stage = stageIdle
				m.pc.news(aboutNews, levelInfo, it.ID+" was reviewed elsewhere")
			}
		}
		m.approvals.noteEvent(it)
		if it.State == intent.StatePendingApproval {
			if _, seen := m.announced[it.ID]; !seen {
				m.announced[it.ID] = struct{}{}
				m.announce(it)
				changed = true
			}
			continue
		}
		delete(m.announced, it.ID)
		ours := m.popup.decider.waiting() && m.popup.decider.target == it.ID ||
			m.approvals.decider.waiting() && m.approvals.decider.target == it.ID
		if m.popup.drop(it.ID) {
			shown = true
			if !ours {
				m.pc.news(aboutNews, levelInfo, it.ID+" is now "+stateLabel(it.State)+" (decided elsewhere)")
			}
		} else if d := &m.approvals.decider; d.prompting() && d.target == it.ID && !d.dec.isReview() {
			// As the popup does: the question about an intent decided
			// elsewhere is withdrawn, not left to fail on y.
			d.stage = stageIdle
			shown = true
			m.pc.news(aboutNews, levelInfo, it.ID+" is now "+stateLabel(it.State)+" (decided elsewhere)")
		}
		if m.approvals.knows(it.ID) {
			changed = true
		}
	}
	m.pruneAnnounced()
	if !changed {
		return tea.Batch(chaosCmds...), shown
	}
	return tea.Batch(append(chaosCmds, m.approvals.refresh(), m.refreshSnapshot())...), true
}

// noteChaos takes a chaos run's progress. When it ends a run, the run's
// results, the status, the library's standing and the runs are fetched
// again, and the verdict is said on the status line.
func (m *model) noteChaos(p engine.ChaosProgress) tea.Cmd {
	pc := m.pc
	if !pc.chaos.noteProgress(p, pc.now()) || pc.chaos.api == nil {
		return nil
	}
	pc.ok(aboutRunStart(p.RunID)) // "started" no longer applies
	mark, _ := verdictMark(pc.styles, p.State)
	text := "chaos run " + p.RunID + " ended: " + mark
	if p.State == engine.ChaosPassed {
		pc.news(aboutRunEnd, levelInfo, text)
	} else {
		pc.news(aboutRunEnd, levelWarn, text)
	}
	pc.log.Info("chaos run ended", "run", p.RunID, "state", p.State)
	return tea.Batch(chaosRunCmd(pc.ctx, pc.chaos.api, p.RunID), pc.chaos.fetch(pc), m.chaos.refresh())
}

// takeChaosStatus stores the chaos service's status. A failed fetch is
// logged and said once; the figures shown stay the last good ones.
func (m *model) takeChaosStatus(msg chaosStatusMsg) tea.Cmd {
	c := m.pc.chaos
	c.fetching = false
	if msg.err != nil {
		if c.err == nil {
			m.pc.bgWarn(aboutChaos, failText(msg.err))
		}
		c.err, c.statusAt = msg.err, msg.at
		m.pc.log.Warn("chaos status failed", "err", msg.err)
		return nil
	}
	if c.err != nil {
		m.pc.ok(aboutChaos)
	}
	c.status, c.statusAt, c.err = msg.status, msg.at, nil
	if r := c.status.Running; r != nil && r.RunID == c.endedID {
		c.status.Running = nil
	}
	// The status may have been asked before the latest event: it drops
	// the event's progress only when it says another run goes, or none
	// well after the event (a final event the console missed).
	if p := c.progress; p != nil {
		r := c.status.Running
		if r != nil && r.RunID != p.RunID || r == nil && msg.at.Sub(c.progressAt) > chaosPoll {
			c.progress = nil
		}
	}
	return nil
}

// announce tells the operator at once that it needs a human. On the
// Approvals screen the operator is already working the list, so a popup
// would take a and d from under them: there the arrival is listed at once
// and named on the status line. So it is everywhere while the operator has
// turned popups off. Everywhere else it pops up.
func (m *model) announce(it intent.Intent) {
	m.pc.log.Info("approval needed", "intent", it.ID, "type", it.Type, "actor", it.Actor, "popups", !m.popupsOff)
	if m.popupsOff || m.screens[m.active].id() == screenApprovals {
		m.pc.notice("approval needed: " + it.ID + " · " + it.Type + " by " + it.Actor)
		return
	}
	m.popup.announce(it)
}

// announceUnseen shows pending intents not seen before; it stands in for the
// event stream when the engine closed it.
func (m *model) announceUnseen(items []intent.Intent) {
	for _, it := range items {
		if _, seen := m.announced[it.ID]; !seen {
			m.announced[it.ID] = struct{}{}
			m.announce(it)
		}
	}
}

// pruneAnnounced keeps the announced set bounded: past maxAnnounced it
// keeps only the IDs still in the popup or the list.
func (m *model) pruneAnnounced() {
	if len(m.announced) <= maxAnnounced {
		return
	}
	keep := make(map[string]struct{}, len(m.popup.queue)+len(m.approvals.pending.items))
	for _, it := range m.popup.queue {
		keep[it.ID] = struct{}{}
	}
	for _, it := range m.approvals.pending.items {
		keep[it.ID] = struct{}{}
	}
	m.announced = keep
}

// handleRunes takes runes that arrived together (typed faster than the
// terminal is read, or sent by tmux) one key at a time, as if typed: a
// burst such as ":cancel" would otherwise be one key matching no binding,
// and the command line would never open. A bracketed paste is not split:
// pasted text is text, never commands (a pasted "query" must not quit on
// its q), and a text field takes it whole.
func (m *model) handleRunes(msg tea.KeyMsg) tea.Cmd {
	cmds := make([]tea.Cmd, 0, len(msg.Runes))
	for _, r := range msg.Runes {
		k := tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{r}, Alt: msg.Alt}
		if r == ' ' {
			k.Type = tea.KeySpace
		}
		cmds = append(cmds, m.handleKey(k))
	}
	return tea.Batch(cmds...)
}
