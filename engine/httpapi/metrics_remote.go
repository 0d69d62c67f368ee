package httpapi

import (
	"github.com/prometheus/client_golang/prometheus"

	"grace/engine"
)

// The remote workers' metrics (backend.kind nats: Snapshot.Remote), sent
// only when the tasks run on remote workers.
var (
	descRemoteConnected = desc("grace_remote_workers_connected", "Remote workers (grace worker) connected: heard from within two heartbeat intervals and not leaving.")
	descRemoteGone      = desc("grace_remote_workers_gone", "Remote workers still listed that are lost (silent: killed or cut off) or left (shut down cleanly), by state.", "state")
	descRemoteSlots     = desc("grace_remote_worker_slots", "Task slots of the connected remote workers (the sum of their --slots).")
	descRemoteSlotsBusy = desc("grace_remote_worker_slots_busy", "Task slots of the connected remote workers running an attempt, by their latest heartbeats.")
	descRemoteBeatAge   = desc("grace_remote_worker_heartbeat_age_seconds", "How long ago each listed remote worker's latest heartbeat was heard.", "worker", "state")
)

// collectRemote sends the remote workers' figures of s, when it has any.
func collectRemote(gauge func(*prometheus.Desc, float64, ...string), s engine.Snapshot) {
	r := s.Remote
	if r == nil {
		return
	}
	gauge(descRemoteConnected, float64(r.Connected))
	gauge(descRemoteGone, float64(r.Lost), engine.RemoteLost)
	gauge(descRemoteGone, float64(r.Left), engine.RemoteLeft)
	gauge(descRemoteSlots, float64(r.SlotsTotal))
	gauge(descRemoteSlotsBusy, float64(r.SlotsBusy))
	for _, w := range s.Workers {
		if w.State != "" {
			gauge(descRemoteBeatAge, float64(w.HeartbeatAgeMS)/1000, w.Name, w.State)
		}
	}
}
