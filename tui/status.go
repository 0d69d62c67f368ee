package tui

import (
	"time"
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

// How long a status message stays. Errors stay until something replaces
// them or the operator presses esc.
const (
	infoTTL = 8 * time.Second
	warnTTL = 20 * time.Second
)

// statusLine is the console's one line for info, warnings and errors. It
// never grows past one line and never covers the screen.
type statusLine struct {
	level level
	text  string
	at    time.Time
}

// set replaces the message.
func (s *statusLine) set(l level, text string, now time.Time) {
	s.level, s.text, s.at = l, text, now
}

// clear removes the message.
func (s *statusLine) clear() { *s = statusLine{} }

// current returns the message still worth showing at now.
func (s statusLine) current(now time.Time) (level, string) {
	switch s.level {
	case levelInfo:
		if now.Sub(s.at) > infoTTL {
			return levelNone, ""
		}
	case levelWarn, levelNotice:
		if now.Sub(s.at) > warnTTL {
			return levelNone, ""
		}
	}
	return s.level, s.text
}

// view renders the status line at width w: a symbol and the text, coloured
// by level.
func (s statusLine) view(st *styles, now time.Time, w int) string {
	l, text := s.current(now)
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
