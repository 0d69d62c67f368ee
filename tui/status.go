package tui

import (
	"slices"
	"strings"
	"time"

	"github.com/charmbracelet/x/ansi"
)

// level is a status message's severity.
type level int

const (
	levelNone level = iota
	levelInfo
	levelWarn
	levelNotice
	levelError
)

// How the status line chooses what to say, and for how long.
//
// Messages come from two places. The operator's actions (a decision, a
// command, a search, a verification, a key that did nothing) say their
// result; the next action's message replaces it. Everything else (a
// background fetch's failure, an event's news, a Tier 0 arrival while
// popups are off) is kept by what it is about, beside the action's
// message.
//
// The line shows the newest message still current, except that an
// action's result holds it against anything newer from the background:
// an error for as long as it lasts, any other result for actionHold, so
// an arrival or a fetch's error never hides what the operator just did.
//
// A message about something is cleared when that thing next succeeds: a
// fetch's error when the same fetch comes back, a search's error on the
// next search that returns, a command line's error when the next command
// runs. It also gives way when it no longer applies: an action's message
// when a question or a reason prompt opens (it was about what came
// before), "deny needs a reason" once the operator types, "chaos run …
// started" when that run ends. And none stays for ever: info lasts
// infoTTL, warnings and notices warnTTL, errors errorTTL (they are all in
// the log as well). Esc clears the line. Every message said is also kept,
// whole, in the line's history (the newest maxMessages), which :messages
// shows (statuslog.go): the line cuts what is longer than the terminal is
// wide, and then the key hints name :messages.
const (
	infoTTL    = 8 * time.Second
	warnTTL    = 20 * time.Second
	errorTTL   = 30 * time.Second
	actionHold = 5 * time.Second
)

// What some messages are about (statusEntry.about): a later success of
// the same thing clears them.
const (
	aboutCommand  = "command"  // the command line's own refusals (":frobnicate")
	aboutSearch   = "search"   // a narratives search
	aboutStory    = "story"    // an intent's story
	aboutNotice   = "arrival"  // Tier 0 arrivals named while popups are off or on Approvals
	aboutNews     = "news"     // what events said happened elsewhere
	aboutPending  = "pending"  // the approvals list's fetch
	aboutReview   = "review"   // the Tier 1 review list's fetch
	aboutAlerts   = "alerts"   // the alert history's fetch
	aboutSilences = "silences" // the list of alert silences' fetch
	aboutChaos    = "chaos"    // the chaos status, scenarios, runs fetches
	aboutStream   = "events"   // the engine's event stream
	aboutRunEnd   = "chaosrun" // a chaos run's verdict
	aboutReason   = "reason"   // a reason prompt's refusal of an empty reason
	aboutRunAsk   = "chaosask" // "starting chaos run: …", until the engine answers
	aboutNoAPI    = "noapi"    // the engine's HTTP API not served (Options.NoAPI)
)

// aboutRunStart is what "chaos run ID started" is about: the run's end
// clears it.
func aboutRunStart(runID string) string { return "chaosstart:" + runID }

// statusEntry is one message: its severity, text, when it was said and
// what it is about ("" when nothing else clears it).
type statusEntry struct {
	level level
	text  string
	at    time.Time
	about string
	// seq orders the messages: a later one has a larger seq (the clock
	// may say the same time for both).
	seq uint64
}

// live reports whether e is still worth showing at now.
func (e statusEntry) live(now time.Time) bool {
	ttl := infoTTL
	switch e.level {
	case levelNone:
		return false
	case levelWarn, levelNotice:
		ttl = warnTTL
	case levelError:
		ttl = errorTTL
	}
	return now.Sub(e.at) <= ttl
}

// statusLine is the console's one line for info, warnings and errors. It
// never grows past one line and never covers the screen.
type statusLine struct {
	// action is the operator's last action's message.
	action statusEntry
	// background are the other messages, one per subject.
	background map[string]statusEntry
	seq        uint64
	// history is every message said, oldest first, the same one said
	// again and again kept once with how many times (see record).
	history []said
}

// maxMessages bounds the status line's history.
const maxMessages = 200

// said is a message of the history: the last time it was said (at) and
// how many times in a row.
type said struct {
	statusEntry
	times int
}

// record keeps e in the history. The same message said again (a fetch
// failing at each refresh) is counted, not listed again.
func (s *statusLine) record(e statusEntry) {
	if e.level == levelNone || e.text == "" {
		return
	}
	if n := len(s.history); n > 0 && s.history[n-1].level == e.level && s.history[n-1].text == e.text {
		s.history[n-1].at = e.at
		s.history[n-1].times++
		return
	}
	s.history = append(s.history, said{statusEntry: e, times: 1})
	if len(s.history) > maxMessages {
		s.history = slices.Delete(s.history, 0, len(s.history)-maxMessages)
	}
}

// set replaces the operator's action's message.
func (s *statusLine) set(l level, text string, now time.Time) {
	s.setAbout("", l, text, now)
}

// setAbout replaces the operator's action's message with one about
// subject (cleared by clearAbout(subject)).
func (s *statusLine) setAbout(subject string, l level, text string, now time.Time) {
	s.seq++
	s.action = statusEntry{level: l, text: text, at: now, about: subject, seq: s.seq}
	s.record(s.action)
}

// note keeps a background message about subject, replacing the last one
// about it.
func (s *statusLine) note(subject string, l level, text string, now time.Time) {
	if s.background == nil {
		s.background = map[string]statusEntry{}
	}
	s.seq++
	s.background[subject] = statusEntry{level: l, text: text, at: now, about: subject, seq: s.seq}
	s.record(s.background[subject])
}

// clearAbout removes what is said about subject: it went well since.
func (s *statusLine) clearAbout(subject string) {
	if s.action.about == subject {
		s.action = statusEntry{}
	}
	delete(s.background, subject)
}

// dismiss removes the operator's action's message: a prompt opened since,
// and the message was about what came before it. What the background said
// stays.
func (s *statusLine) dismiss() { s.action = statusEntry{} }

// clear removes every message.
func (s *statusLine) clear() { s.action, s.background = statusEntry{}, nil }

// shown is the message the line shows at now (level none when there is
// none); see the rules above.
func (s statusLine) shown(now time.Time) statusEntry {
	var bg statusEntry
	for _, e := range s.background {
		if e.live(now) && (bg.level == levelNone || e.seq > bg.seq) {
			bg = e
		}
	}
	a := s.action
	if !a.live(now) {
		return bg
	}
	if bg.level == levelNone || bg.seq < a.seq || a.level == levelError || now.Sub(a.at) < actionHold {
		return a
	}
	return bg
}

// current returns the message still worth showing at now.
func (s statusLine) current(now time.Time) (level, string) {
	e := s.shown(now)
	return e.level, e.text
}

// cut reports whether the message shown at now is too long for a line
// of w cells.
func (s statusLine) cut(now time.Time, w int) bool {
	l, text := s.current(now)
	return l != levelNone && ansi.StringWidth(oneLine(text))+2 > w
}

// oneLine is text on one line: the lines of an error of several
// (errors.Join's) are joined by spaces, for the status line; :messages
// shows them as lines.
func oneLine(text string) string { return strings.ReplaceAll(text, "\n", " ") }

// view renders the status line at width w: a symbol and the text, coloured
// by level.
func (s statusLine) view(st *styles, now time.Time, w int) string {
	l, text := s.current(now)
	text = oneLine(text)
	switch l {
	case levelInfo:
		return fit(st.OK.Render("✓")+" "+st.Text.Render(text), w)
	case levelWarn:
		return fit(st.Warn.Render("▲ "+text), w)
	case levelNotice:
		return fit(st.Badge.Render("⚑ "+text), w)
	case levelError:
		return fit(st.Crit.Render("✗ "+text), w)
	}
	return fit("", w)
}
