package httpapi

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// durationLike is text written as a Go duration (1h, 90s, 1h30m), whether
// or not it fits one.
var durationLike = regexp.MustCompile(`^([0-9]*\.?[0-9]+(ns|us|µs|ms|s|m|h))+$`)

// maxSinceDays bounds a "since" in days (Nd): about 290 years, what a Go
// duration holds.
const maxSinceDays = 106_000

// ParseSince reads a "since" bound: a positive duration back from now
// ("90s", "1h"), a number of days ("7d"), or an RFC 3339 time
// ("2026-01-02T15:04:05Z"). The CLI and the narratives route share it.
func ParseSince(s string, now time.Time) (time.Time, error) {
	if d, err := time.ParseDuration(s); err == nil {
		if d <= 0 {
			return time.Time{}, fmt.Errorf("since %q: a duration must be positive", s)
		}
		return now.Add(-d), nil
	}
	if n, ok := strings.CutSuffix(s, "d"); ok && n != "" && strings.Trim(n, "0123456789") == "" {
		days, err := strconv.Atoi(n)
		if err != nil || days > maxSinceDays {
			return time.Time{}, fmt.Errorf("since %q: at most %dd (about 290 years); give an RFC 3339 time for earlier", s, maxSinceDays)
		}
		if days == 0 {
			return time.Time{}, fmt.Errorf("since %q: a duration must be positive", s)
		}
		return now.AddDate(0, 0, -days), nil
	}
	if durationLike.MatchString(s) {
		return time.Time{}, fmt.Errorf("since %q: longer than a duration can be (about 2,562,047h, 290 years); give an RFC 3339 time for earlier", s)
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("since %q: expected a duration like 1h, a number of days like 7d, or an RFC 3339 time like 2026-01-02T15:04:05Z", s)
	}
	return t, nil
}
