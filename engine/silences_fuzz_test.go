package engine

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"grace/engine/watchdog"
)

// FuzzSilenceRequest feeds a silence's match, reason and length (for, or
// until) to the checks SilenceAlerts makes: no panic; a refusal names its
// field; a match taken is valid text that matches the alert key it spells
// (case aside); a length taken ends the silence within its bounds.
func FuzzSilenceRequest(f *testing.F) {
	now := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	for _, s := range []struct {
		match, reason string
		d, until      int64
	}{
		{"scheduler/paused", "maintenance", int64(2 * time.Hour), 0},
		{"*", "storm", 0, now.Add(time.Hour).UnixNano()},
		{"*/*", "x", int64(time.Minute), 0},
		{"htm/*", "x", int64(30 * 24 * time.Hour), 0},
		{"*/queue_critical", "x", int64(time.Minute - 1), 0},
		{"a/b/c", "x", int64(math.MaxInt64), 0},
		{"a/\xff", "x", int64(time.Hour), 0},
		{"\xc0\x80/x", "x", int64(time.Hour), 0},
		{"a /b", "x", int64(time.Hour), 0},
		{"a/b\u200b", "x", int64(time.Hour), 0},
		{"A/B", "\x00", int64(time.Hour), 0},
		{"/", "", 0, 0},
		{"a*/b", "x", int64(-1), now.UnixNano()},
		{strings.Repeat("a", 300) + "/b", "x", 0, math.MinInt64},
		{"a/b", "x", 0, math.MaxInt64},
	} {
		f.Add(s.match, s.reason, s.d, s.until)
	}
	f.Fuzz(func(t *testing.T, match, reason string, d, untilNanos int64) {
		match, reason = strings.TrimSpace(match), strings.TrimSpace(reason)
		if err := checkSilence("ada", match, reason); err != nil {
			var te *TextError
			if !errors.As(err, &te) && !errors.Is(err, ErrReasonRequired) {
				t.Fatalf("checkSilence(%q, %q): %v (%T); want a TextError or ErrReasonRequired", match, reason, err, err)
			}
			if te != nil && te.Field != "match" && te.Field != "reason" {
				t.Fatalf("checkSilence(%q, %q) names %q", match, reason, te.Field)
			}
		} else {
			if !utf8.ValidString(match) {
				t.Fatalf("match %q is not UTF-8, and was taken", match)
			}
			if !strings.Contains(match, "*") && !watchdog.MatchKey(match, strings.ToUpper(match)) {
				t.Fatalf("match %q does not match the alert key it spells", match)
			}
			if comp, cond, _ := strings.Cut(match, "/"); comp == "*" && cond != "*" && !watchdog.MatchKey(match, "any/"+cond) {
				t.Fatalf("match %q does not match %q", match, "any/"+cond)
			}
		}
		var until time.Time
		if untilNanos != 0 {
			until = time.Unix(0, untilNanos)
		}
		ends, err := silenceEndsAt(now, time.Duration(d), until)
		if err != nil {
			var te *TextError
			if !errors.As(err, &te) || (te.Field != "for" && te.Field != "until") {
				t.Fatalf("silenceEndsAt(%v, %v): %v; want a TextError naming for or until", time.Duration(d), until, err)
			}
			return
		}
		if ahead := ends.Sub(now); ahead < watchdog.MinSilence || ahead > watchdog.MaxSilence {
			t.Fatalf("silenceEndsAt(%v, %v) = %v, %v ahead", time.Duration(d), until, ends, ahead)
		}
	})
}
