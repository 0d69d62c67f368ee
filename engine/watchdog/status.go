package watchdog

import (
	"fmt"
)

// Status grades a component, a finding or an alert.
type Status int

// The statuses, from healthy to failing. Their order is their severity.
const (
	OK       Status = iota // within every threshold
	Warn                   // past a warning threshold: look soon
	Critical               // past a critical threshold: act now
)

// String returns "ok", "warn" or "critical".
func (s Status) String() string {
	switch s {
	case Warn:
		return "warn"
	case Critical:
		return "critical"
	}
	return "ok"
}

// Symbol returns a marker that tells the status without colour: "✓", "▲"
// or "✗".
func (s Status) Symbol() string {
	switch s {
	case Warn:
		return "▲"
	case Critical:
		return "✗"
	}
	return "✓"
}

// MarshalText writes the status as its name.
func (s Status) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText reads "ok", "warn" or "critical"; anything else is an
// error naming the text.
func (s *Status) UnmarshalText(b []byte) error {
	v, err := ParseStatus(string(b))
	if err != nil {
		return err
	}
	*s = v
	return nil
}

// ParseStatus reads a status name as String writes it.
func ParseStatus(name string) (Status, error) {
	switch name {
	case "ok":
		return OK, nil
	case "warn":
		return Warn, nil
	case "critical":
		return Critical, nil
	}
	return OK, fmt.Errorf("unknown status %q (want ok, warn or critical)", name)
}
