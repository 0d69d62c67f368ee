package httpapi

import (
	"fmt"
	"time"
)

// ParseSince reads a "since" bound: a positive duration back from now
// ("90s", "1h") or an RFC 3339 time ("2026-01-02T15:04:05Z"). The CLI and
// the narratives route share it.
func ParseSince(s string, now time.Time) (time.Time, error) {
	if d, err := time.ParseDuration(s); err == nil {
		if d <= 0 {
			return time.Time{}, fmt.Errorf("since %q: a duration must be positive", s)
		}
		return now.Add(-d), nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("since %q: expected a duration like 1h or an RFC 3339 time like 2026-01-02T15:04:05Z", s)
	}
	return t, nil
}
