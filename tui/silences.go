package tui

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"

	"grace/engine"
	"grace/engine/watchdog"
)

// Alert silences, as an operator of Alertmanager knows them: the engine
// (engine.AlertSilencer, embedded or an attached server's) mutes the
// webhooks of the alerts a match selects for a while, with a reason; the
// watchdog still raises and records them, and a firing alert a silence
// mutes carries it (watchdog.Alert.Silenced). The console marks those
// alerts on the Alerts screen, silences the selected alert's key (the
// silence key asks how long and why), lists the silences (h/l on the
// Alerts screen, ":silences [all]") and ends one (the silence key on that
// list, or ":unsilence ID [REASON]"); ":silence MATCH [DURATION REASON]"
// takes a match with wildcards ("htm_orchestrator/*"). A read-only console
// lists them but neither silences nor ends one; an engine that cannot
// silence (no AlertSilencer, a server older than silences, an engine that
// keeps none) says so.

// silencesMsg is a list of silences: the active ones, or with all the
// newest of every state.
type silencesMsg struct {
	all   bool
	items []watchdog.Silence
	at    time.Time
	err   error
}

// silencedMsg is the engine's answer to a silence of match asked for d.
type silencedMsg struct {
	match string
	d     time.Duration
	s     watchdog.Silence
	err   error
}

// silenceEndedMsg is the engine's answer to the end of silence id.
type silenceEndedMsg struct {
	id  string
	s   watchdog.Silence
	err error
}

// silencesCmd lists the silences (all: every state).
func silencesCmd(ctx context.Context, s engine.AlertSilencer, all bool, now func() time.Time) tea.Cmd {
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(ctx, requestTimeout)
		defer cancel()
		items, err := s.Silences(ctx, all)
		if err != nil {
			err = wrapOnce("list silences", err)
		}
		return silencesMsg{all: all, items: items, at: now(), err: err}
	}
}

// silenceCmd asks the engine to silence match for d, as operator.
func silenceCmd(ctx context.Context, s engine.AlertSilencer, match string, d time.Duration, reason, operator string) tea.Cmd {
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(ctx, requestTimeout)
		defer cancel()
		sil, err := s.SilenceAlerts(ctx, engine.SilenceRequest{Match: match, For: d, Reason: reason, Operator: operator})
		return silencedMsg{match: match, d: d, s: sil, err: err}
	}
}

// endSilenceCmd asks the engine to end silence id, as operator.
func endSilenceCmd(ctx context.Context, s engine.AlertSilencer, id, operator, reason string) tea.Cmd {
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(ctx, requestTimeout)
		defer cancel()
		sil, err := s.EndSilence(ctx, id, operator, reason)
		return silenceEndedMsg{id: id, s: sil, err: err}
	}
}

// silencesOff says why the console cannot use silences ("" when it can):
// an engine without them, or one that answered that it keeps none.
func (pc *programContext) silencesOff() string {
	if pc.silencer == nil {
		return "this engine cannot silence alerts"
	}
	return pc.noSilences
}

// noteUnsupported reports whether err says that the engine keeps no
// silences (a server older than them: errors.ErrUnsupported; an engine
// without a store for them: engine.ErrNoSilences), and then remembers
// it: the console asks no more and says so at once.
func (pc *programContext) noteUnsupported(err error) bool {
	switch {
	case errors.Is(err, engine.ErrNoSilences):
		pc.noSilences = engine.ErrNoSilences.Error()
	case errors.Is(err, errors.ErrUnsupported):
		pc.noSilences = "the server keeps no alert silences (it may be older than them)"
		if pc.server != "" {
			pc.noSilences = "the server at " + pc.server + " keeps no alert silences (it may be older than them)"
		}
	default:
		return false
	}
	pc.log.Info("no alert silences", "err", err)
	return true
}

// silenceFlow is the prompt of a silence made or ended: how long and why
// for a silence of a match (the selected alert's key, or ":silence
// MATCH"), why for the end of one. The root model owns it, so that a
// command typed on any screen asks on the status line there; the Alerts
// screen opens it with the silence key.
type silenceFlow struct {
	stage  stage // stageIdle, stageReason (asking), stageWaiting
	ending bool  // ending silence target; otherwise silencing match target
	target string
	// label names the silence ended in the prompt (its match), "" when
	// the console does not know it.
	label string
	input lineInput
}

func newSilenceFlow() silenceFlow { return silenceFlow{input: newLineInput("")} }

// prompting reports whether the flow is asking and so takes every key.
func (f *silenceFlow) prompting() bool { return f.stage == stageReason }

// may reports whether verb ("silence", "unsilence") can be asked now,
// saying why not when it cannot.
func (f *silenceFlow) may(pc *programContext, verb string) bool {
	switch {
	case pc.readOnly:
		pc.warn("read-only console: " + verb + " is disabled")
	case pc.silencesOff() != "":
		pc.warn(verb + " unavailable: " + pc.silencesOff())
	case pc.operator == "":
		pc.fail(verb + " refused: no operator name to record it under")
	case f.stage == stageWaiting:
		pc.warn("still waiting for the engine's answer about " + f.target)
	default:
		return true
	}
	return false
}

// silenceHint is the duration-and-reason prompt's placeholder.
const silenceHint = "2h queue migration (up to 30d)"

// startSilence asks how long and why to silence match; text is what the
// command line gave of it already: with both it is sent at once.
func (f *silenceFlow) startSilence(pc *programContext, match, text string) tea.Cmd {
	if !f.may(pc, "silence") {
		return nil
	}
	f.stage, f.ending, f.target, f.label = stageReason, false, match, ""
	pc.status.dismiss()
	f.input.Reset()
	f.input.ti.Placeholder = silenceHint
	if text = strings.TrimSpace(text); text != "" {
		f.input.SetValue(text)
		if _, reason, _ := strings.Cut(text, " "); strings.TrimSpace(reason) != "" {
			return f.submit(pc)
		}
	}
	return nil
}

// startEnd asks why to end silence id (label: its match, if known); with
// a reason given it is sent at once.
func (f *silenceFlow) startEnd(pc *programContext, id, label, reason string) tea.Cmd {
	if !f.may(pc, "unsilence") {
		return nil
	}
	f.stage, f.ending, f.target, f.label = stageReason, true, id, label
	pc.status.dismiss()
	f.input.Reset()
	f.input.ti.Placeholder = "why end it now?"
	if reason = strings.TrimSpace(reason); reason != "" {
		f.input.SetValue(reason)
		return f.submit(pc)
	}
	return nil
}

// handleKey answers a key while asking: enter sends, esc cancels.
func (f *silenceFlow) handleKey(pc *programContext, msg tea.KeyMsg) tea.Cmd {
	switch {
	case key.Matches(msg, pc.keys.Cancel):
		f.stage = stageIdle
		if f.ending {
			pc.info("unsilence cancelled: silence " + f.target + " goes on")
		} else {
			pc.info("silence cancelled: no silence of " + f.target + " was made")
		}
	case key.Matches(msg, pc.keys.Submit):
		return f.submit(pc)
	default:
		before := f.input.Value()
		f.input.Update(msg)
		if f.input.Value() != before {
			pc.ok(aboutReason) // the operator is typing it
		}
	}
	return nil
}

// submit sends what the prompt holds. A missing or unreadable duration,
// or a missing reason, is said on the status line and the prompt stays
// open to fix it.
func (f *silenceFlow) submit(pc *programContext) tea.Cmd {
	text := strings.TrimSpace(f.input.Value())
	if f.ending {
		if text == "" {
			pc.failAbout(aboutReason, "unsilence needs a reason: type why, then enter (esc cancels)")
			return nil
		}
		f.stage = stageWaiting
		pc.info("ending silence " + f.target + "…")
		return endSilenceCmd(pc.ctx, pc.silencer, f.target, pc.operator, text)
	}
	first, reason, _ := strings.Cut(text, " ")
	reason = strings.TrimSpace(reason)
	d, err := parseSilenceFor(first)
	switch {
	case text == "":
		pc.failAbout(aboutReason, "silence needs how long and why, as 2h queue migration (esc cancels)")
	case err != nil:
		pc.failAbout(aboutReason, "silence: "+err.Error())
	case reason == "":
		pc.failAbout(aboutReason, "silence needs a reason after how long, as "+first+" queue migration (esc cancels)")
	default:
		f.stage = stageWaiting
		pc.info("silencing " + f.target + " for " + fmtDur(d) + "…")
		return silenceCmd(pc.ctx, pc.silencer, f.target, d, reason, pc.operator)
	}
	return nil
}

// parseSilenceFor reads how long a silence lasts: a Go duration (90m,
// 2h, 1h30m), days (1d, 7d) or both (1d12h); at least
// watchdog.MinSilence (1m), at most watchdog.MaxSilence (30 days), as the
// engine takes it.
func parseSilenceFor(s string) (time.Duration, error) {
	bad := fmt.Errorf("%q is not how long: give it first, as 30m, 2h, 1d or 1d12h, then why", s)
	var d time.Duration
	rest := s
	if days, after, ok := strings.Cut(s, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil || n < 0 || n > 366 {
			return 0, bad
		}
		d, rest = time.Duration(n)*24*time.Hour, after
	}
	if rest != "" {
		// A sign after the days would count back: "1d-2h" is not 22h.
		x, err := time.ParseDuration(rest)
		if err != nil || d > 0 && strings.ContainsAny(rest, "+-") {
			return 0, bad
		}
		d += x
	}
	switch {
	case d <= 0:
		return 0, fmt.Errorf("%q: a silence must last more than 0", s)
	case d < watchdog.MinSilence:
		return 0, fmt.Errorf("%q is shorter than a silence lasts: 1m at least", s)
	case d > watchdog.MaxSilence:
		return 0, fmt.Errorf("%q is longer than a silence lasts: 30d at most", s)
	}
	return d, nil
}

// view renders the prompt line in w cells, "" when not asking.
func (f *silenceFlow) view(pc *programContext, w int) string {
	if f.stage != stageReason {
		return ""
	}
	st := pc.styles
	label := func(target string) string {
		if f.ending {
			return "End silence " + target + " · why: "
		}
		return "Silence " + target + " · for, why: "
	}
	target := f.target
	if f.ending && f.label != "" {
		target = f.label
	}
	// The label names the alert key whole where it can: the answer
	// ("2h queue migration") needs about 30 cells.
	room := max(w/2, w-30)
	l := label(target)
	if over := ansi.StringWidth(l) - room; over > 0 {
		l = label(clipMiddle(target, max(ansi.StringWidth(target)-over, 8)))
	}
	lw := min(ansi.StringWidth(l), room)
	return st.Prompt.Render(fit(l, lw)) + f.input.View(st, w-lw)
}

// helpKeys are the keys that work while asking.
func (f *silenceFlow) helpKeys(k *keyMap) []key.Binding {
	if f.ending {
		return []key.Binding{helpOnly(k.Submit, "enter", "end it"), helpOnly(k.Cancel, "esc", "keep it")}
	}
	return []key.Binding{helpOnly(k.Submit, "enter", "silence"), helpOnly(k.Cancel, "esc", "cancel")}
}

// silenceCommand runs ":silence MATCH [DURATION REASON]": MATCH is an
// alert key (scheduler/paused), "component/*", "*/condition" or "*"; with
// how long and why on the line the silence is asked at once, otherwise
// the status line asks for them.
func (m *model) silenceCommand(arg string) tea.Cmd {
	match, rest, _ := strings.Cut(strings.TrimSpace(arg), " ")
	if match == "" {
		m.pc.failAbout(aboutCommand, ":silence needs an alert key or match, as in :silence htm_orchestrator/* 2h queue migration")
		return nil
	}
	if why := watchdog.CheckMatch(match); why != "" {
		m.pc.failAbout(aboutCommand, ":silence: match "+why)
		return nil
	}
	return m.silence.startSilence(m.pc, match, rest)
}

// unsilenceCommand runs ":unsilence ID [REASON]": ends silence ID,
// asking why unless the line says.
func (m *model) unsilenceCommand(arg string) tea.Cmd {
	id, reason, _ := strings.Cut(strings.TrimSpace(arg), " ")
	if id == "" {
		m.pc.failAbout(aboutCommand, ":unsilence needs a silence's ID, as in :unsilence sil_… [reason] (:silences lists them)")
		return nil
	}
	label := ""
	if s, ok := m.alerts.knownSilence(id); ok {
		if !s.Active(m.pc.now()) {
			m.pc.warn("silence " + s.ID + " of " + s.Match + " " + endedText(s, m.pc.now()) + ": nothing to end")
			return nil
		}
		id, label = s.ID, s.Match
	}
	return m.silence.startEnd(m.pc, id, label, reason)
}

// silencesCommand runs ":silences [all]": the Alerts screen's list of
// silences, the active ones or (all, --all) every state.
func (m *model) silencesCommand(arg string) tea.Cmd {
	all := false
	switch strings.ToLower(strings.TrimSpace(arg)) {
	case "":
	case "all", "--all", "-a":
		all = true
	default:
		m.pc.failAbout(aboutCommand, "unknown :silences "+arg+" (try :silences, or :silences all for ended ones too)")
		return nil
	}
	switchCmd := m.switchToID(screenAlerts)
	return tea.Batch(switchCmd, m.alerts.showSilences(all))
}

// silenced takes the engine's answer to a silence.
func (m *model) silenced(msg silencedMsg) tea.Cmd {
	pc, f := m.pc, &m.silence
	if f.stage == stageWaiting && !f.ending && f.target == msg.match {
		f.stage = stageIdle
	}
	switch {
	case msg.err == nil:
		s := msg.s
		pc.warn("silenced " + s.Match + " until " + clockAt(s.EndsAt, pc.now()) + " (" + fmtDur(s.EndsAt.Sub(s.CreatedAt)) +
			"): its webhooks are not told · " + s.ID)
		pc.log.Info("alerts silenced", "operator", pc.operator, "match", s.Match, "silence_id", s.ID, "until", s.EndsAt)
		return tea.Batch(m.alerts.refreshSilences(), m.refreshSnapshot())
	case pc.noteUnsupported(msg.err):
		pc.warn("silence unavailable: " + pc.noSilences)
	case errors.Is(msg.err, engine.ErrTooManySilences):
		pc.fail("silence " + msg.match + " refused: " + silenceErrText(msg.err, "silence alerts: ") + " (:silences lists them)")
	default:
		pc.fail("silence " + msg.match + " failed: " + silenceErrText(msg.err, "silence alerts: "))
		pc.log.Warn("silence failed", "match", msg.match, "err", msg.err)
	}
	return nil
}

// silenceEnded takes the engine's answer to the end of a silence.
func (m *model) silenceEnded(msg silenceEndedMsg) tea.Cmd {
	pc, f := m.pc, &m.silence
	if f.stage == stageWaiting && f.ending && strings.EqualFold(f.target, msg.id) {
		f.stage = stageIdle
	}
	switch {
	case msg.err == nil:
		pc.info("ended silence " + msg.s.ID + " of " + msg.s.Match + ": its alerts notify again (those still firing now)")
		pc.log.Info("alert silence ended", "operator", pc.operator, "silence_id", msg.s.ID)
		return tea.Batch(m.alerts.refreshSilences(), m.refreshSnapshot())
	case pc.noteUnsupported(msg.err):
		pc.warn("unsilence unavailable: " + pc.noSilences)
		return nil
	case errors.Is(msg.err, engine.ErrSilenceNotFound):
		pc.fail("unsilence " + msg.id + " failed: no such silence (:silences lists them)")
	case errors.Is(msg.err, engine.ErrSilenceEnded):
		pc.warn("unsilence " + msg.id + ": " + silenceErrText(msg.err, "end silence "+msg.id+": "))
	default:
		pc.fail("unsilence " + msg.id + " failed: " + silenceErrText(msg.err, "end silence "+msg.id+": "))
		pc.log.Warn("unsilence failed", "silence_id", msg.id, "err", msg.err)
		return nil
	}
	// The list may have been wrong about it: read it again.
	return m.alerts.refreshSilences()
}

// silenceErrText is a silence's error in a few words: a server that
// cannot be reached said as such, otherwise the engine's reason without
// its wrapping (prefix, the embedded engine's).
func silenceErrText(err error, prefix string) string {
	if what, why, transport := reachText(err); transport {
		if why != "" {
			return why
		}
		return what
	}
	msg := firstErrLine(err)
	if rest, ok := strings.CutPrefix(msg, prefix); ok {
		return rest
	}
	return msg
}

// endedText says how silence s ended, or when it ends, by the console's
// clock.
func endedText(s watchdog.Silence, now time.Time) string {
	switch {
	case s.State == watchdog.SilenceEnded:
		return "was ended by " + s.EndedBy + " at " + clockAt(s.EndedAt, now) + ": " + s.EndReason
	case s.State == watchdog.SilenceExpired:
		return "expired at " + clockAt(s.EndedAt, now)
	case !now.Before(s.EndsAt):
		return "expired at " + clockAt(s.EndsAt, now)
	}
	return "ends at " + clockAt(s.EndsAt, now) + " (in " + fmtDur(s.EndsAt.Sub(now)) + ")"
}

// silencedNow returns the silence that mutes al by the console's clock:
// its mark, while it fires and the silence has not ended.
func silencedNow(al watchdog.Alert, now time.Time) (*watchdog.SilenceRef, bool) {
	if al.Silenced == nil || !al.Firing() || !now.Before(al.Silenced.EndsAt) {
		return nil, false
	}
	return al.Silenced, true
}
