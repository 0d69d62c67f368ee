package tui

import (
	"testing"
	"time"

	"grace/engine"
)

// TestResetAnnouncesWhatArrivedUnseen: when the engine says events were
// lost (a reset), the console reads the approvals again and pops up the
// Tier 0 intents that arrived since it started and were never announced;
// those pending from before it started stay in the inbox, as at start.
func TestResetAnnouncesWhatArrivedUnseen(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.clock.advance(2 * time.Minute)
	missed := pendingIntent("int_01JPMISSED000000000000001", "grant_permissions", "agent.sre", -time.Minute) // created after the start
	b.api.setPending(append(fixturePending(), missed))
	if b.m.popup.visible() {
		t.Fatal("a popup before the reset")
	}
	b.run(t, b.send(eventsMsg{events: []engine.Event{{Kind: engine.EventReset}}}))
	if !b.m.popup.visible() || len(b.m.popup.queue) != 1 || b.m.popup.queue[0].ID != missed.ID {
		var ids []string
		for _, it := range b.m.popup.queue {
			ids = append(ids, it.ID)
		}
		t.Fatalf("after the reset the popup holds %v, want only %s", ids, missed.ID)
	}
	// A second reset announces nothing again.
	b.run(t, b.send(eventsMsg{events: []engine.Event{{Kind: engine.EventReset}}}))
	if len(b.m.popup.queue) != 1 {
		t.Fatalf("a second reset announced again: %d in the popup", len(b.m.popup.queue))
	}
}
