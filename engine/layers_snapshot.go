package engine

import (
	"grace/engine/watchdog"
)

// fillLayers copies the mesh's, the policy engine's, the kernels' and the
// bus's live figures into snap.
func (e *Engine) fillLayers(snap *Snapshot) {
	l := e.layers
	if l == nil {
		return
	}
	snap.Mesh = l.mesh.Stats()
	snap.Policy = l.policy.Stats()
	snap.Kernels = l.cp.Kernels()
	snap.Bus = l.cp.Bus().Stats()
}

// meshFigures is what the watchdog's trigger mesh check reads.
func (e *Engine) meshFigures() watchdog.MeshFigures {
	st := e.layers.mesh.Stats()
	return watchdog.MeshFigures{
		Running: e.layers.running.Load(), Topics: len(st.Topics), Subscriptions: st.Subscriptions,
		EventRate: st.EventRate, QueueDepth: st.Queued, Published: st.Published, Dropped: st.Dropped,
	}
}

// policyFigures is what the watchdog's event policy check reads.
func (e *Engine) policyFigures() watchdog.PolicyFigures {
	st := e.layers.policy.Stats()
	return watchdog.PolicyFigures{Loaded: st.Loaded, Rules: st.Rules, Fired: st.Fired,
		CascadesCut: st.CutDepth, CyclesCut: st.CutCycle}
}
