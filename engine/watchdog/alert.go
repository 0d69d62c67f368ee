package watchdog

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"time"
)

// Alert is one lasting condition: raised when a check first finds it,
// updated (last seen, count, severity) while it lasts, resolved when a
// check no longer finds it. A condition that returns after it was resolved
// is a new alert.
type Alert struct {
	// ID is unique across runs ("alr_20251115T123456_3f9a1c").
	ID string `json:"id"`
	// Key is "<component>/<condition>": at most one alert per key fires at
	// a time (de-duplication).
	Key       string `json:"key"`
	Component string `json:"component"`
	Condition string `json:"condition"`
	// Severity is the current severity (Warn or Critical); Peak the
	// highest it reached.
	Severity Status `json:"severity"`
	Peak     Status `json:"peak"`
	// Summary is the latest reason the check gave.
	Summary string `json:"summary"`
	// FirstSeen and LastSeen are the first and latest checks that found
	// the condition; Count is how many checks found it.
	FirstSeen time.Time `json:"first_seen"`
	LastSeen  time.Time `json:"last_seen"`
	Count     int       `json:"count"`
	// ResolvedAt is when a check first found the condition gone (zero
	// while the alert fires); Resolution says how it ended.
	ResolvedAt time.Time `json:"resolved_at,omitzero"`
	Resolution string    `json:"resolution,omitempty"`
	// Silenced names the active silence that mutes the alert's
	// notifications, when one does (see Silence). The watchdog never sets
	// it and History does not keep it: whoever shows a firing alert marks
	// it as the silences stand then (MarkSilenced).
	Silenced *SilenceRef `json:"silenced,omitempty"`
}

// Firing reports whether the alert has not been resolved.
func (a Alert) Firing() bool { return a.ResolvedAt.IsZero() }

// Change is what one check did to an alert.
type Change int

// The changes a check makes to an alert.
const (
	Continued   Change = iota // still firing at the same severity
	Raised                    // new
	Escalated                 // severity rose
	Deescalated               // severity fell, still firing
	Resolved                  // the condition is gone
)

// String returns "continued", "raised", "escalated", "deescalated" or
// "resolved".
func (c Change) String() string {
	switch c {
	case Raised:
		return "raised"
	case Escalated:
		return "escalated"
	case Deescalated:
		return "deescalated"
	case Resolved:
		return "resolved"
	}
	return "continued"
}

// MarshalText writes the change as its name.
func (c Change) MarshalText() ([]byte, error) { return []byte(c.String()), nil }

// UnmarshalText reads a change's name.
func (c *Change) UnmarshalText(b []byte) error {
	for k := Continued; k <= Resolved; k++ {
		if k.String() == string(b) {
			*c = k
			return nil
		}
	}
	return fmt.Errorf("unknown alert change %q", b)
}

// AlertEvent is an alert as a change made it: for subscribers. An alert
// that a silence mutes carries it (Alert.Silenced): webhooks are not told.
// When a silence ends (and no other silence mutes the alert), what its
// webhooks missed is announced, once, with AfterSilence set and
// EndedSilence naming the silence: an alert still firing whose change
// was muted (raised, escalated or de-escalated under the silence) as
// Raised, and the resolution of an alert the webhooks were told fired
// before the silence as Resolved, with ToldPeak the highest severity
// they were told of. Nothing stays hidden, and an alert that did not
// change under the silence is not announced again.
type AlertEvent struct {
	Change       Change `json:"change"`
	Alert        Alert  `json:"alert"`
	AfterSilence bool   `json:"after_silence,omitempty"`
	EndedSilence string `json:"ended_silence,omitempty"`
	// ToldPeak, on a resolution announced after a silence, is the peak
	// severity the webhooks were told of before the silence (Alert.Peak
	// may have risen under it): a webhook whose min_severity it did not
	// reach never heard of the alert, nor hears of its resolution. OK
	// (unset): Alert.Peak.
	ToldPeak Status `json:"told_peak,omitzero"`
}

// alertChange pairs an alert, as it stands after the check, with what the
// check did to it.
type alertChange struct {
	alert Alert
	kind  Change
	from  Status // severity before an escalation or de-escalation
}

// book holds the firing alerts. It belongs to the watchdog's goroutine.
type book struct {
	firing map[string]*Alert
}

func newBook() *book { return &book{firing: make(map[string]*Alert)} }

// load adopts alerts still firing from an earlier run; the next check
// continues or resolves them.
func (b *book) load(alerts []Alert) {
	for _, a := range alerts {
		if a.Firing() && b.firing[a.Key] == nil {
			a := a
			b.firing[a.Key] = &a
		}
	}
}

// observe applies one check of component: every finding worse than OK
// raises or continues its alert; every firing alert of the component whose
// condition is now OK, or no longer examined, is resolved.
func (b *book) observe(now time.Time, component string, findings []Finding, out []alertChange) []alertChange {
	seen := make(map[string]bool, len(findings))
	for _, f := range findings {
		key := component + "/" + f.Condition
		if f.Status == OK {
			if a := b.firing[key]; a != nil {
				out = append(out, b.resolve(now, a, "Cleared: "+f.Reason))
			}
			continue
		}
		seen[key] = true
		a := b.firing[key]
		if a == nil {
			a = &Alert{ID: newAlertID(now), Key: key, Component: component, Condition: f.Condition,
				Severity: f.Status, Peak: f.Status, Summary: f.Reason, FirstSeen: now, LastSeen: now, Count: 1}
			b.firing[key] = a
			out = append(out, alertChange{alert: *a, kind: Raised})
			continue
		}
		from := a.Severity
		a.Severity, a.Peak, a.Summary, a.LastSeen = f.Status, max(a.Peak, f.Status), f.Reason, now
		a.Count++
		kind := Continued
		switch {
		case f.Status > from:
			kind = Escalated
		case f.Status < from:
			kind = Deescalated
		}
		out = append(out, alertChange{alert: *a, kind: kind, from: from})
	}
	for key, a := range b.firing {
		if a.Component == component && !seen[key] && a.Firing() {
			out = append(out, b.resolve(now, a, "Cleared: the condition is no longer reported"))
		}
	}
	return out
}

// resolveMissing ends every firing alert of a component not in known (no
// longer watched).
func (b *book) resolveMissing(now time.Time, known map[string]bool, out []alertChange) []alertChange {
	for _, a := range b.firing {
		if !known[a.Component] {
			out = append(out, b.resolve(now, a, "Cleared: "+a.Component+" is no longer watched"))
		}
	}
	return out
}

func (b *book) resolve(now time.Time, a *Alert, why string) alertChange {
	a.ResolvedAt, a.Resolution = now, why
	delete(b.firing, a.Key)
	return alertChange{alert: *a, kind: Resolved, from: a.Severity}
}

// list returns the firing alerts, most severe first, then oldest first.
func (b *book) list() []Alert {
	out := make([]Alert, 0, len(b.firing))
	for _, a := range b.firing {
		out = append(out, *a)
	}
	sortAlerts(out)
	return out
}

// newAlertID makes an ID from the time and 24 random bits.
func newAlertID(now time.Time) string {
	var b [3]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails since Go 1.24
	return "alr_" + now.UTC().Format("20060102T150405") + "_" + hex.EncodeToString(b[:])
}
