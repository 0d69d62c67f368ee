package httpapi

import (
	"strings"
	"testing"

	"grace/engine"
)

// remoteFleet is an operator API whose tasks run on remote workers: two
// connected (one with a slot of its four busy), one lost.
type remoteFleet struct{ engine.OperatorAPI }

func (remoteFleet) Snapshot() engine.Snapshot {
	return engine.Snapshot{
		WorkersIdle: 4,
		Workers: []engine.WorkerInfo{
			{Name: "w1", Host: "h1", State: engine.RemoteLive, Healthy: true, Busy: true, Slots: 4, SlotsBusy: 1, HeartbeatAgeMS: 300},
			{Name: "w2", Host: "h2", State: engine.RemoteLive, Healthy: true, Slots: 2, HeartbeatAgeMS: 100},
			{Name: "w3", Host: "h3", State: engine.RemoteLost, Slots: 1, HeartbeatAgeMS: 9000},
		},
		Remote: &engine.RemoteFigures{Backend: "nats", Connected: 2, Lost: 1, SlotsBusy: 1, SlotsTotal: 6},
	}
}

// With the nats backend, /metrics says how many remote workers are
// connected, lost and left, their slots busy and in all, and each one's
// heartbeat age, beside the control plane's dispatch slots.
func TestMetricsShowRemoteWorkers(t *testing.T) {
	t.Parallel()
	fams := scrape(t, NewHandler(remoteFleet{}, Options{Token: "secret"}))
	for _, tc := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"grace_remote_workers_connected", nil, 2},
		{"grace_remote_workers_gone", []string{"state", "lost"}, 1},
		{"grace_remote_workers_gone", []string{"state", "left"}, 0},
		{"grace_remote_worker_slots", nil, 6},
		{"grace_remote_worker_slots_busy", nil, 1},
		{"grace_remote_worker_heartbeat_age_seconds", []string{"worker", "w3", "state", "lost"}, 9},
		{"grace_workers", []string{"state", "idle"}, 4},
	} {
		if v := value(t, fams, tc.name, tc.labels...); v != tc.want {
			t.Errorf("%s%v = %v, want %v", tc.name, tc.labels, v, tc.want)
		}
	}
}

// Without remote workers (the in-process pool) no remote metric is sent.
func TestMetricsWithoutRemoteWorkers(t *testing.T) {
	t.Parallel()
	fams := scrape(t, NewHandler(snapshotOnly{}, Options{Token: "secret"}))
	for name := range fams {
		if strings.HasPrefix(name, "grace_remote_") {
			t.Errorf("%s sent without remote workers", name)
		}
	}
}
