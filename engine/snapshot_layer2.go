package engine

// Layer2Facts are the live facts of the Layer 2 safeguards, part of
// Snapshot. Counters run from the engine's creation.
type Layer2Facts struct {
	// Paused is true while the scheduler dispatches nothing; Pause says
	// who paused it, when and why.
	Paused bool       `json:"paused"`
	Pause  *PauseInfo `json:"pause,omitempty"`
	// PausedTypes are the intent types paused on their own (PauseType),
	// by type, each with how many of its intents wait.
	PausedTypes []TypePause `json:"paused_types,omitempty"`
	// PausedActors are the actors paused (PauseActor), by name, each with
	// how many of its intents wait.
	PausedActors []ActorPause `json:"paused_actors,omitempty"`
	// PoolTarget is the size the supervisor keeps the pool at; the hub
	// scales it between PoolMin (workers.count) and PoolMax
	// (workers.max_count).
	PoolTarget     int `json:"pool_target"`
	PoolMin        int `json:"pool_min"`
	PoolMax        int `json:"pool_max"`
	WorkersHealthy int `json:"workers_healthy"`
	// RateLimited counts submissions refused by htm_rate_limit; Shed the
	// intents dropped by load shedding; Rerouted the attempts taken back
	// from dead workers; WorkersLost the workers declared dead (with a
	// RemoteFleet, remote workers lost and attempts redelivered from them
	// count too);
	// StaleResultsDiscarded the late results the lease fence refused.
	RateLimited           uint64 `json:"rate_limited"`
	Shed                  uint64 `json:"shed"`
	Rerouted              uint64 `json:"rerouted"`
	WorkersLost           uint64 `json:"workers_lost"`
	StaleResultsDiscarded uint64 `json:"stale_results_discarded"`
	// HandlersAbandoned counts the handlers handler_abandonment gave up
	// on; RunawayHandlers are those of them still running.
	HandlersAbandoned uint64           `json:"handlers_abandoned"`
	RunawayHandlers   []RunawayHandler `json:"runaway_handlers,omitempty"`
	// HubTroubles are the kinds of Layer 2 trouble the hub sees now
	// (queue_backlog, dispatch_stalled, scheduler_paused, workers_lost,
	// component:<name>).
	HubTroubles []string `json:"hub_troubles,omitempty"`
	// Safeguards says which safeguards are on, by name.
	Safeguards map[string]bool `json:"safeguards"`
}

// layer2Facts fills the Layer 2 part of a snapshot; workers are the
// snapshot's.
func (e *Engine) layer2Facts(workers []WorkerInfo) Layer2Facts {
	f := Layer2Facts{
		PoolTarget: e.pool.size(), PoolMin: e.cfg.Workers.Count, PoolMax: e.cfg.Workers.MaxCount,
		RateLimited: e.l2stats.rateLimited.Load(), Shed: e.l2stats.shed.Load(), Rerouted: e.l2stats.rerouted.Load(),
		WorkersLost: e.l2stats.workersLost.Load(), StaleResultsDiscarded: e.l2stats.staleDiscarded.Load(),
		HandlersAbandoned: e.l2stats.abandoned.Load(), RunawayHandlers: e.runaways.list(),
		HubTroubles: e.facts.currentTroubles(), Safeguards: make(map[string]bool, len(Safeguards)),
	}
	if fl, ok := e.fleet(); ok { // remote workers lost, and their attempts redelivered elsewhere
		lost, redelivered := fl.RemoteCounts()
		f.WorkersLost += lost
		f.Rerouted += redelivered
	}
	if p, on := e.pause.current(); on {
		f.Paused, f.Pause = true, &p
	}
	f.PausedTypes = e.PausedTypes()
	f.PausedActors = e.PausedActors()
	for _, w := range workers {
		if w.Healthy {
			f.WorkersHealthy++
		}
	}
	for _, name := range Safeguards {
		f.Safeguards[name] = e.cfg.SafeguardEnabled(name)
	}
	return f
}
