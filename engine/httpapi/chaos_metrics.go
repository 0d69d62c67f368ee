package httpapi

import (
	"context"
	"slices"
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"grace/engine"
)

// The chaos metrics (present only when the handler has a chaos service).
var (
	descChaosRuns    = desc("grace_chaos_runs_total", "Chaos runs seen finishing since the API started, by final state.", "state")
	descChaosRunning = desc("grace_chaos_running", "1 while a chaos run is in progress.")
)

// chaosFinalStates are the final states always reported, 0 until seen.
var chaosFinalStates = []string{engine.ChaosPassed, engine.ChaosFailed, engine.ChaosHalted, engine.ChaosError}

// chaosMeter counts chaos runs from the chaos progress events, so that a
// scrape costs no store read: a run is in progress from its first event
// until the event carrying its final state. The chaos service runs one run
// at a time, so a new run's event also ends an earlier run whose final
// event was missed (a subscriber far behind misses events); that run is
// then not counted.
type chaosMeter struct {
	mu       sync.Mutex
	finished map[string]uint64
	running  string // the run in progress; "" when none
	last     string // the last run counted, so a repeated final event counts once
}

// startChaosMeter follows api's events until stop is called; stop waits
// for the follower to end.
func startChaosMeter(api engine.OperatorAPI) (m *chaosMeter, stop func()) {
	m = &chaosMeter{finished: map[string]uint64{}}
	ctx, cancel := context.WithCancel(context.Background())
	events := api.Subscribe(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		m.follow(ctx, events)
	}()
	return m, func() {
		cancel()
		<-done
	}
}

// follow feeds the chaos events of ch to the meter until ctx ends or ch is
// closed.
func (m *chaosMeter) follow(ctx context.Context, ch <-chan engine.Event) {
	for {
		select {
		case <-ctx.Done():
			return
		case ev, ok := <-ch:
			if !ok {
				return
			}
			if ev.Kind == engine.EventChaos && ev.Chaos != nil {
				m.observe(*ev.Chaos)
			}
		}
	}
}

// observe takes one progress event.
func (m *chaosMeter) observe(p engine.ChaosProgress) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if p.State == "" || p.State == engine.ChaosRunning {
		if p.RunID != m.last {
			m.running = p.RunID
		}
		return
	}
	if p.RunID == m.last {
		return
	}
	m.finished[p.State]++
	m.last = p.RunID
	if m.running == p.RunID {
		m.running = ""
	}
}

// collect sends the chaos metrics.
func (m *chaosMeter) collect(ch chan<- prometheus.Metric) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, st := range chaosFinalStates {
		send(ch, descChaosRuns, prometheus.CounterValue, float64(m.finished[st]), st)
	}
	for st, n := range m.finished {
		if !slices.Contains(chaosFinalStates, st) {
			send(ch, descChaosRuns, prometheus.CounterValue, float64(n), st)
		}
	}
	running := 0.0
	if m.running != "" {
		running = 1
	}
	send(ch, descChaosRunning, prometheus.GaugeValue, running)
}
