package httpapi

import (
	"strings"
	"testing"
	"time"
)

// TestParseSince: durations, days and RFC 3339 times are read; a
// duration too long for Go says so rather than "expected a duration";
// zero, negative and malformed values are refused naming the value.
func TestParseSince(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 29, 22, 0, 0, 0, time.UTC)
	for in, want := range map[string]time.Time{
		"90s":                  now.Add(-90 * time.Second),
		"1h30m":                now.Add(-90 * time.Minute),
		"7d":                   now.AddDate(0, 0, -7),
		"365d":                 now.AddDate(-1, 0, 0),
		"2026-01-02T15:04:05Z": time.Date(2026, 1, 2, 15, 4, 5, 0, time.UTC),
	} {
		if got, err := ParseSince(in, now); err != nil || !got.Equal(want) {
			t.Errorf("ParseSince(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for in, msg := range map[string]string{
		"100000000h":            "longer than a duration can be",
		"0s":                    "must be positive",
		"0d":                    "must be positive",
		"-1h":                   "must be positive",
		"200000d":               "at most 106000d",
		"99999999999999999999d": "at most 106000d",
		"1w":                    "expected a duration like 1h, a number of days like 7d",
		"d":                     "expected a duration",
		"yesterday":             "expected a duration",
	} {
		if _, err := ParseSince(in, now); err == nil || !strings.Contains(err.Error(), msg) || !strings.Contains(err.Error(), `"`+in+`"`) {
			t.Errorf("ParseSince(%q): %v; want an error naming it and saying %q", in, err, msg)
		}
	}
}
