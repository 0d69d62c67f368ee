package watchdog

import (
	"fmt"
	"time"
)

// PolicyFigures are what the event policy engine check reads.
type PolicyFigures struct {
	// Loaded is true once the rules are loaded and the engine evaluates
	// events; Rules counts them.
	Loaded bool
	Rules  int
	// Fired counts rule firings since start; CascadesCut and CyclesCut
	// count the chains of events cut for running deeper than the cascade
	// limit or looping through themselves.
	Fired, CascadesCut, CyclesCut uint64
}

// PolicyCheck watches the event policy engine: that its rules are loaded
// (critical otherwise), its fire rate since the previous check (graded
// against t.FireRateWarn and t.FireRateCritical), and the cascades and
// cycles it cut since the previous check (graded against t.CutsWarn and
// t.CutsCritical). It is ready once its rules are loaded.
func PolicyCheck(t PolicyThresholds, read func() PolicyFigures) Component {
	var fired, cuts delta
	return Component{Name: NamePolicy, Check: func(now time.Time) Result {
		f := read()
		nf, span := fired.next(now, f.Fired)
		nc, _ := cuts.next(now, f.CascadesCut+f.CyclesCut)
		rate := perSecond(nf, span)
		r := Result{Ready: f.Loaded, Metrics: map[string]float64{
			"loaded": b2f(f.Loaded), "rules": float64(f.Rules), "fire_rate": rate, "fired_total": float64(f.Fired),
			"cascades_cut_total": float64(f.CascadesCut), "cycles_cut_total": float64(f.CyclesCut),
		}}
		if f.Loaded {
			r.add("loaded", OK, fmt.Sprintf("%d rules loaded", f.Rules))
		} else {
			r.NotReadyReason = "the policy rules are not loaded"
			r.add("loaded", Critical, "Policy engine not loaded: events are not evaluated")
		}
		s := grade(rate, t.FireRateWarn, t.FireRateCritical)
		r.add("fire_rate", s, fmt.Sprintf("Policies fired %.1f/s since the last check (warn %.0f/s, critical %.0f/s)",
			rate, t.FireRateWarn, t.FireRateCritical))
		s = grade(float64(nc), float64(t.CutsWarn), float64(t.CutsCritical))
		if s == OK {
			r.add("cascades", OK, "No cascade or cycle cut since the last check")
		} else {
			r.add("cascades", s, fmt.Sprintf("%d event chains cut since the last check (too deep or cyclic; warn at %d, critical at %d)",
				nc, t.CutsWarn, t.CutsCritical))
		}
		return r
	}}
}
