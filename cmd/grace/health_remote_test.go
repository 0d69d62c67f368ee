package main

import (
	"strings"
	"testing"
	"time"
)

// With the nats backend, grace health shows the remote workers, text and
// JSON: how many are connected, each one's name, instance, slots busy of
// all and heartbeat age, and the totals. And as soon as they have joined
// it is not critical for "No remote worker connected": the watchdog
// checks again when the first one joins instead of at its next interval
// (an hour here), which showed the boot's verdict for up to 15 s.
func TestHealthShowsRemoteWorkers(t *testing.T) {
	t.Parallel()
	c, config, _, natsURL := serveNATSWith(t, "1ms", "watchdog:\n  interval: 1h\n")
	startRemoteWorker(t, c, config, natsURL, "rw-a")
	startRemoteWorker(t, c, config, natsURL, "rw-b")

	type remoteJSON struct {
		Connected  int `json:"connected"`
		SlotsBusy  int `json:"slots_busy"`
		SlotsTotal int `json:"slots_total"`
		Workers    []struct {
			Name           string `json:"name"`
			Instance       string `json:"instance"`
			State          string `json:"state"`
			Slots          int    `json:"slots"`
			HeartbeatAgeMS *int64 `json:"heartbeat_age_ms"`
		} `json:"workers"`
	}
	var rep struct {
		Status        string      `json:"status"`
		RemoteWorkers *remoteJSON `json:"remote_workers"`
	}
	var last result
	waitFor(t, 20*time.Second, "grace health --json to show two remote workers connected", func() bool {
		last = c.run(t, "health", "--json", "--config", config)
		rep.RemoteWorkers = nil
		last.decode(t, &rep)
		return rep.RemoteWorkers != nil && rep.RemoteWorkers.Connected == 2
	})
	if last.code != 0 || rep.Status == "critical" || strings.Contains(last.stdout+last.stderr, "No remote worker connected") {
		t.Errorf("with two workers joined, health exits %d, status %s:\n%s%s", last.code, rep.Status, last.stdout, last.stderr)
	}
	r := rep.RemoteWorkers
	if r.SlotsTotal != 2 || r.SlotsBusy != 0 || len(r.Workers) != 2 {
		t.Errorf("remote workers %+v: want 2 slots, none busy, 2 listed", *r)
	}
	for _, w := range r.Workers {
		if w.Instance == "" || w.State != "live" || w.Slots != 1 || w.HeartbeatAgeMS == nil {
			t.Errorf("remote worker %+v: want live, an instance, 1 slot, a heartbeat age", w)
		}
	}
	text := c.run(t, "health", "--config", config)
	if text.code != 0 {
		t.Errorf("health exits %d:\n%s%s", text.code, text.stdout, text.stderr)
	}
	for _, want := range []string{"remote workers", "2 connected (backend nats), slots 0 busy of 2", "rw-a", "rw-b",
		"live on ", "(instance ", "slots 0/1 busy, last heartbeat ", "(the control plane's dispatch slots)"} {
		if !strings.Contains(text.stdout, want) {
			t.Errorf("health's text lacks %q:\n%s", want, text.stdout)
		}
	}
}
