package intent

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// TestIntentJSONLeavesOutUnsetTimes: an intent with no schedule and no
// approval deadline has no not_before or deadline in its JSON (they read
// "0001-01-01T00:00:00Z" before), and one with them carries them.
func TestIntentJSONLeavesOutUnsetTimes(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 29, 22, 0, 0, 0, time.UTC)
	in := Intent{ID: "int_01JPB9AAAAAAAAAAAAAAAAAAAA", Type: "query_knowledge", State: StateQueued, CreatedAt: now, UpdatedAt: now}
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	if s := string(b); strings.Contains(s, "not_before") || strings.Contains(s, "deadline") || strings.Contains(s, "0001-01-01") {
		t.Errorf("unset times in the JSON: %s", s)
	}
	at := time.Date(2026, 12, 1, 6, 0, 0, 0, time.UTC)
	in.NotBefore, in.Deadline = at, at.Add(time.Hour)
	if b, err = json.Marshal(in); err != nil {
		t.Fatal(err)
	}
	var back Intent
	if err := json.Unmarshal(b, &back); err != nil || !back.NotBefore.Equal(at) || !back.Deadline.Equal(at.Add(time.Hour)) {
		t.Errorf("set times did not round-trip: %s → %+v, %v", b, back, err)
	}
}
