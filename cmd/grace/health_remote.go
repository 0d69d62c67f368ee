package main

import (
	"fmt"
	"time"

	"grace/engine"
)

// remoteWorkersReport is health's view of the remote workers (backend.kind
// nats): the totals, then each worker listed (connected, lost or left).
type remoteWorkersReport struct {
	engine.RemoteFigures
	Workers []engine.WorkerInfo `json:"workers"`
}

// remoteWorkersOf returns the remote workers of snap; nil when its
// tasks do not run on remote workers.
func remoteWorkersOf(snap engine.Snapshot) *remoteWorkersReport {
	if snap.Remote == nil {
		return nil
	}
	rep := &remoteWorkersReport{RemoteFigures: *snap.Remote, Workers: []engine.WorkerInfo{}}
	for _, w := range snap.Workers {
		if w.State != "" {
			rep.Workers = append(rep.Workers, w)
		}
	}
	return rep
}

// remoteRows are the remote workers' lines of health's table: the totals,
// then one line per worker.
func remoteRows(r *remoteWorkersReport) [][]string {
	if r == nil {
		return nil
	}
	total := fmt.Sprintf("%d connected (backend %s), slots %d busy of %d", r.Connected, r.Backend, r.SlotsBusy, r.SlotsTotal)
	if r.Lost > 0 {
		total += fmt.Sprintf(", %d lost", r.Lost)
	}
	if r.Left > 0 {
		total += fmt.Sprintf(", %d left", r.Left)
	}
	rows := [][]string{{"remote workers", total}}
	for _, w := range r.Workers {
		age := (time.Duration(w.HeartbeatAgeMS) * time.Millisecond).Round(100 * time.Millisecond)
		line := fmt.Sprintf("%s on %s", w.State, orDash(w.Host))
		if w.Instance != "" {
			line += " (instance " + w.Instance + ")"
		}
		if w.State == engine.RemoteLive {
			line += fmt.Sprintf(", slots %d/%d busy", w.SlotsBusy, w.Slots)
		}
		line += fmt.Sprintf(", last heartbeat %s ago", age)
		rows = append(rows, []string{"  " + w.Name, line})
	}
	return rows
}
