package tui

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"grace/engine/intent"
)

// TestTier0DetailShowsEverythingTheOperatorDecidesOn: at 80x24 the
// detail of a Tier 0 intent shows its actor and type whole, and every
// part of its payload by scrolling, however long: the operator approves
// what they read, and before, a long actor or type was cut to half a line
// and a long payload value cut at the panel's edge, out of reach.
func TestTier0DetailShowsEverythingTheOperatorDecidesOn(t *testing.T) {
	t.Parallel()
	b := setup(t)
	const (
		actor = "agent.with-a-very-long-actor-name-that-goes-on"
		typ   = "an_unknown_type_whose_name_is_long_enough_to_break_0123"
		tail  = "ENDS_HERE_grant_admin_to_everyone"
	)
	it := pendingIntent("int_01JPB9LONG00000000000001", typ, actor, time.Minute)
	it.Payload = json.RawMessage(`{"note":"` + strings.Repeat("a long note that keeps going ", 6) + tail + `"}`)
	b.api.setPending([]intent.Intent{it})
	b.run(t, b.press(t, "2"))
	b.run(t, b.press(t, "<enter>"))
	v := b.view()
	if !strings.Contains(lineWith(v, "│ actor "), actor) || !strings.Contains(lineWith(v, "│ type "), typ) {
		t.Fatalf("the detail cuts the actor or the type:\n%s", v)
	}
	seen := false
	for range 10 {
		v := b.view()
		checkBounds(t, v, 80, 24)
		if strings.Contains(v, tail) {
			seen = true
			break
		}
		b.press(t, "j")
	}
	if !seen {
		t.Fatalf("the end of the payload's note is never shown:\n%s", b.view())
	}
}
