package watchdog

import (
	"fmt"
	"strings"
	"time"
	"unicode"
)

// Silence mutes the notifications of the alerts its Match matches, from
// CreatedAt until EndsAt, or until an operator ends it sooner. It mutes
// nothing else: the watchdog still raises, records and keeps those
// alerts, and shows them (marked with Alert.Silenced). The engine keeps
// silences (engine.Engine.SilenceAlerts); this package only says what a
// silence is and what it matches.
type Silence struct {
	// ID is unique across runs ("sil_20260301T090000_3f9a1c2b7d").
	ID string `json:"id"`
	// Match is an alert key ("scheduler/paused"), "component/*",
	// "*/condition", or "*" (every alert: a maintenance window); see
	// CheckMatch.
	Match  string `json:"match"`
	Reason string `json:"reason"`
	// By is the operator who made it.
	By        string    `json:"by"`
	CreatedAt time.Time `json:"created_at"`
	EndsAt    time.Time `json:"ends_at"`
	// State is SilenceActive, SilenceExpired (EndsAt came: EndedAt is
	// EndsAt) or SilenceEnded (an operator ended it: EndedAt, EndedBy and
	// EndReason say when, who and why).
	State     string    `json:"state"`
	EndedAt   time.Time `json:"ended_at,omitzero"`
	EndedBy   string    `json:"ended_by,omitempty"`
	EndReason string    `json:"end_reason,omitempty"`
}

// The states of a silence.
const (
	SilenceActive  = "active"
	SilenceExpired = "expired"
	SilenceEnded   = "ended"
)

// MaxSilence bounds how long a silence lasts: a silence forgotten mutes
// its alerts a month at most.
const MaxSilence = 30 * 24 * time.Hour

// MinSilence is the shortest silence: one shorter than a minute (a typo
// as "1ns" or "500ms") would end before any check could be muted.
const MinSilence = time.Minute

// SilenceRetention is how long an ended or expired silence is kept (and
// listed) after it ended: as long as a silence can last. Then it is
// deleted; its records stay on the 5W1H record.
const SilenceRetention = 30 * 24 * time.Hour

// maxMatchBytes bounds a silence's Match.
const maxMatchBytes = 256

// Active reports whether s mutes its alerts at now: it has not ended and
// EndsAt has not come.
func (s Silence) Active(now time.Time) bool {
	return s.State == SilenceActive && s.EndedAt.IsZero() && now.Before(s.EndsAt)
}

// Matches reports whether s's Match matches the alert key ("component/
// condition"), without regard to case.
func (s Silence) Matches(key string) bool { return MatchKey(s.Match, key) }

// Ref is the short form of s that a silenced alert carries.
func (s Silence) Ref() *SilenceRef { return &SilenceRef{ID: s.ID, By: s.By, EndsAt: s.EndsAt} }

// SilenceRef names the silence that mutes an alert: its ID, who made it
// and when it ends.
type SilenceRef struct {
	ID     string    `json:"id"`
	By     string    `json:"by"`
	EndsAt time.Time `json:"ends_at"`
}

// MatchKey reports whether match (as CheckMatch accepts it) matches the
// alert key ("component/condition"), without regard to case: "*" matches
// every key, "component/*" every condition of the component, "*/condition"
// the condition of any component, and a key itself.
func MatchKey(match, key string) bool {
	match = strings.TrimSpace(match)
	if match == "*" {
		return true
	}
	mc, mcond, ok := strings.Cut(match, "/")
	if !ok {
		return false
	}
	kc, kcond, ok := strings.Cut(key, "/")
	if !ok {
		return false
	}
	return (mc == "*" || strings.EqualFold(mc, kc)) && (mcond == "*" || strings.EqualFold(mcond, kcond))
}

// CheckMatch says what is wrong with a silence's match, or "" when it is
// one: an alert key "component/condition", "component/*", "*/condition",
// or "*" alone ("*/*" is "*" too). A part is "*" or a name (printable, no
// spaces, no "*" inside a name: no other patterns); the key is cut at its
// first "/", so a condition may hold one. match is taken as it is (trim
// it first).
func CheckMatch(match string) string {
	const want = `give an alert key "component/condition" (as scheduler/paused), "component/*", "*/condition", or "*" for every alert`
	switch {
	case match == "":
		return "is required: " + want
	case len(match) > maxMatchBytes:
		return fmt.Sprintf("is %d bytes; the limit is %d", len(match), maxMatchBytes)
	case match == "*":
		return ""
	}
	bad := func(why string) string { return fmt.Sprintf("%q is not a silence match: %s; %s", match, why, want) }
	comp, cond, ok := strings.Cut(match, "/")
	if !ok {
		return bad("it has no \"/\"")
	}
	for _, p := range []struct{ part, text string }{{"component", comp}, {"condition", cond}} {
		switch {
		case p.text == "":
			return bad("the " + p.part + " is empty")
		case p.text == "*":
			continue
		case strings.Contains(p.text, "*"):
			return bad("the " + p.part + ` holds "*": a part is a name or "*" alone`)
		}
		for _, c := range p.text {
			if unicode.IsSpace(c) || !unicode.IsPrint(c) {
				return bad(fmt.Sprintf("the %s holds %U (a space or a character that is not printable)", p.part, c))
			}
		}
	}
	return ""
}

// Silencing returns the active silence among ss that mutes an alert of
// key at now, the one that ends last (it mutes the alert longest); ok is
// false when none does.
func Silencing(ss []Silence, key string, now time.Time) (s Silence, ok bool) {
	for _, x := range ss {
		if x.Active(now) && x.Matches(key) && (!ok || x.EndsAt.After(s.EndsAt)) {
			s, ok = x, true
		}
	}
	return s, ok
}

// MarkSilenced sets Silenced on each firing alert of as that an active
// silence of ss mutes at now (and clears it on the others); a resolved
// alert is never marked (nothing of it is muted any more). It changes as
// in place.
func MarkSilenced(as []Alert, ss []Silence, now time.Time) {
	for i := range as {
		as[i].Silenced = nil
		if !as[i].Firing() {
			continue
		}
		if s, ok := Silencing(ss, as[i].Key, now); ok {
			as[i].Silenced = s.Ref()
		}
	}
}

// SilenceQuery selects silences from a store, newest first.
type SilenceQuery struct {
	// Active selects only the silences not ended (EndedAt zero: neither
	// ended nor stored as expired); otherwise every state.
	Active bool
	// EndedSince, when set, leaves out the silences that ended before it
	// (past SilenceRetention: they are deleted in due course).
	EndedSince time.Time
	// Limit bounds the answer: 100 when 0, none when negative.
	Limit int
}

// AsOf is s as a list shows it at now: one stored active whose time has
// come is expired (at its EndsAt). kept is false when it ended more than
// SilenceRetention before now: it is no longer kept, nor listed.
func (s Silence) AsOf(now time.Time) (shown Silence, kept bool) {
	if s.State == SilenceActive && !now.Before(s.EndsAt) {
		s.State, s.EndedAt = SilenceExpired, s.EndsAt
	}
	return s, s.EndedAt.IsZero() || !s.EndedAt.Before(now.Add(-SilenceRetention))
}

// StoredSilencesQuery selects from a store the silences a list shows at
// now (SilencesAsOf): the active ones, or with all the newest
// DefaultLimit of every state ended within SilenceRetention.
func StoredSilencesQuery(all bool, now time.Time) SilenceQuery {
	return SilenceQuery{Active: !all, EndedSince: now.Add(-SilenceRetention), Limit: DefaultLimit}
}

// SilencesAsOf is ss, read from a store (StoredSilencesQuery), as a list
// shows them at now (AsOf): without the silences no longer kept, and,
// unless all, without those whose time has come while no engine ran.
func SilencesAsOf(ss []Silence, all bool, now time.Time) []Silence {
	out := make([]Silence, 0, len(ss))
	for _, s := range ss {
		s, kept := s.AsOf(now)
		if kept && (all || s.State == SilenceActive) {
			out = append(out, s)
		}
	}
	return out
}
