package engine

// RemoteFigures sum up the remote workers (backend.kind nats) for
// Snapshot.Remote, `grace health` and /metrics: how many are connected
// (live: heard from within two heartbeat intervals, not leaving), lost or
// left (still listed for a while), and the slots of the connected ones,
// busy and in all.
type RemoteFigures struct {
	// Backend names where the tasks run ("nats").
	Backend    string `json:"backend"`
	Connected  int    `json:"connected"`
	Lost       int    `json:"lost"`
	Left       int    `json:"left"`
	SlotsBusy  int    `json:"slots_busy"`
	SlotsTotal int    `json:"slots_total"`
}

// remoteFigures sums up ws, the remote workers' states.
func remoteFigures(backend string, ws []WorkerInfo) *RemoteFigures {
	f := &RemoteFigures{Backend: backend}
	for _, w := range ws {
		switch w.State {
		case RemoteLost:
			f.Lost++
		case RemoteLeft:
			f.Left++
		default:
			if !w.Healthy {
				continue
			}
			f.Connected++
			f.SlotsTotal += max(w.Slots, 1)
			f.SlotsBusy += min(w.SlotsBusy, max(w.Slots, 1))
		}
	}
	return f
}
