package tui

import (
	"fmt"
	"strconv"
	"time"

	"grace/engine/intent"
)

// fmtInt writes n with thousands separators: 1234567 → "1,234,567".
func fmtInt[T int | int64 | uint64](n T) string {
	s := strconv.FormatInt(int64(n), 10)
	neg := len(s) > 0 && s[0] == '-'
	if neg {
		s = s[1:]
	}
	if len(s) <= 3 {
		if neg {
			return "-" + s
		}
		return s
	}
	out := make([]byte, 0, len(s)+len(s)/3+1)
	if neg {
		out = append(out, '-')
	}
	head := len(s) % 3
	if head == 0 {
		head = 3
	}
	out = append(out, s[:head]...)
	for i := head; i < len(s); i += 3 {
		out = append(out, ',')
		out = append(out, s[i:i+3]...)
	}
	return string(out)
}

// fmtRate writes a per-second rate with one decimal, or a whole number past
// a thousand.
func fmtRate(r float64) string {
	if r >= 1000 {
		return fmtInt(int64(r+0.5)) + "/s"
	}
	return strconv.FormatFloat(r, 'f', 1, 64) + "/s"
}

// fmtDur writes a duration in its two largest units: "45s", "3m12s",
// "2h05m", "3d04h". Negative durations are written as zero.
func fmtDur(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d/time.Second))
	case d < time.Hour:
		return fmt.Sprintf("%dm%02ds", int(d/time.Minute), int(d%time.Minute/time.Second))
	case d < 24*time.Hour:
		return fmt.Sprintf("%dh%02dm", int(d/time.Hour), int(d%time.Hour/time.Minute))
	}
	return fmt.Sprintf("%dd%02dh", int(d/(24*time.Hour)), int(d%(24*time.Hour)/time.Hour))
}

// clockAt writes t as a time of day in now's location, with the month
// and day ("01-02 15:04:05", as the narratives list has it) when t falls
// on another day: a deadline tomorrow must not read as a time today.
func clockAt(t, now time.Time) string {
	t = t.In(now.Location())
	if y, m, d := t.Date(); y == now.Year() && m == now.Month() && d == now.Day() {
		return t.Format("15:04:05")
	}
	return t.Format("01-02 15:04:05")
}

// fmtDeadline says when a pending approval expires, relative to now.
func fmtDeadline(deadline, now time.Time) string {
	if deadline.IsZero() {
		return "none"
	}
	if !deadline.After(now) {
		return "passed " + fmtDur(now.Sub(deadline)) + " ago"
	}
	return "in " + fmtDur(deadline.Sub(now))
}

// stateLabel is a state's short name for tables and counts.
func stateLabel(s intent.State) string {
	if s == intent.StatePendingApproval {
		return "pending"
	}
	return string(s)
}

// firstReason returns the first of reasons, or "—".
func firstReason(reasons []string) string {
	if len(reasons) == 0 || reasons[0] == "" {
		return "—"
	}
	return reasons[0]
}

// tierText describes an autonomy tier in words.
func tierText(tier int) string {
	switch tier {
	case 0:
		return "0 · human approval"
	case 1:
		return "1 · runs, reviewed later"
	case 2:
		return "2 · direct"
	case 3:
		return "3 · hub vote"
	case 4:
		return "4 · emergency"
	}
	return strconv.Itoa(tier)
}

// orDash returns s, or "—" when it is empty.
func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}
