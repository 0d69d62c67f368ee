package watchdog

import (
	"context"
	"time"

	"grace/engine/clarity"
)

// sloPrefix starts the condition of an SLO's burn-rate finding
// ("slo_dispatch_latency").
const sloPrefix = "slo_"

// evaluate runs every check at now.
func (w *Watchdog) evaluate(now time.Time) []Result {
	res := make([]Result, len(w.comps))
	for i, c := range w.comps {
		res[i] = c.Check(now)
	}
	return res
}

// probe checks readiness at boot and publishes what it saw; it reports
// whether boot readiness resolved with it. It raises no alerts and counts
// no breaches: only checks do.
func (w *Watchdog) probe(now time.Time) bool {
	res := w.evaluate(now)
	done := w.ready.advance(now, w.comps, res)
	prev := w.view.Load()
	rep := w.report(res, prev.SLOs, prev.Alerts)
	rep.CheckedAt = prev.CheckedAt
	w.view.Store(&rep)
	return done
}

// cycle is one check: every component graded (readiness and burn rates
// included), breaches counted, alerts raised, updated or resolved, the
// report published, the records written and the history saved; then the
// alert changes and the telemetry snapshot are announced.
func (w *Watchdog) cycle(ctx context.Context, now time.Time) {
	res := w.evaluate(now)
	w.ready.advance(now, w.comps, res)
	slos := make([]SLOStatus, len(w.slos))
	for i, s := range w.slos {
		slos[i] = s.Status(now)
	}
	var changes []alertChange
	known := make(map[string]bool, len(w.comps))
	for i, c := range w.comps {
		known[c.Name] = true
		r := &res[i]
		if f, ok := w.ready.finding(*r); ok {
			r.Findings = append(r.Findings, f)
		}
		for j, s := range w.slos {
			if s.Component == c.Name {
				r.add(sloPrefix+s.Name, slos[j].Status, slos[j].Reason)
			}
		}
		if r.Status() != OK {
			w.breaches[i]++
		}
		changes = w.book.observe(now, c.Name, r.Findings, changes)
	}
	changes = w.book.resolveMissing(now, known, changes)
	w.checks++

	rep := w.report(res, slos, w.book.list())
	rep.CheckedAt = now
	w.view.Store(&rep)
	tel := telemetryOf(rep)
	w.latest.Store(&tel)

	var recs []clarity.Record
	if p := w.ready.pending; p != nil {
		recs, w.ready.pending = append(recs, *p), nil
	}
	saved := make([]Alert, 0, len(changes))
	for _, ch := range changes {
		saved = append(saved, ch.alert)
		if ch.kind == Continued {
			continue
		}
		var metrics map[string]float64
		if c, ok := rep.Component(ch.alert.Component); ok {
			metrics = c.Metrics
		}
		recs = append(recs, alertRecord(now, ch, metrics))
	}
	if len(tel.Issues()) > 0 {
		recs = append(recs, issueRecord(tel))
	}
	w.record(ctx, recs)
	if w.opts.History != nil {
		err := w.opts.History.SaveCycle(ctx, CycleRecord{Telemetry: tel, Alerts: saved,
			TelemetryBefore: now.Add(-w.cfg.TelemetryRetention), AlertsBefore: now.Add(-w.cfg.AlertRetention)})
		if err != nil && ctx.Err() == nil {
			w.log.Error("watchdog: store telemetry", "err", err)
		}
	}
	// Announced once on the record, as the engine does with intents.
	if w.opts.OnAlert != nil {
		for _, ch := range changes {
			if ch.kind != Continued {
				w.opts.OnAlert(ch.alert, ch.kind)
			}
		}
	}
	if w.opts.Publish != nil {
		w.opts.Publish(tel)
	}
}

// report builds a report from one round of results.
func (w *Watchdog) report(res []Result, slos []SLOStatus, alerts []Alert) Report {
	rep := Report{Interval: w.cfg.Interval, Checks: w.checks, Ready: true, Readiness: w.ready.r,
		Components: make([]ComponentReport, len(res)), SLOs: slos, Alerts: alerts}
	for i, r := range res {
		st := r.Status()
		rep.Components[i] = ComponentReport{Name: w.comps[i].Name, Status: st, Reason: r.Reason(), Ready: r.Ready,
			NotReadyReason: r.NotReadyReason, SLOBreaches: w.breaches[i], Findings: r.Findings, Metrics: r.Metrics}
		rep.Status = max(rep.Status, st)
		rep.Ready = rep.Ready && r.Ready
		rep.SLOBreaches += w.breaches[i]
	}
	return rep
}

// telemetryOf turns a report into the seed's snapshot shape.
func telemetryOf(rep Report) Telemetry {
	t := Telemetry{Layer: Layer, At: rep.CheckedAt, Ready: rep.Ready, Healthy: rep.Status == OK, Status: rep.Status,
		Components: make(map[string]ComponentTelemetry, len(rep.Components)), AlertsFiring: len(rep.Alerts)}
	for _, c := range rep.Components {
		t.Components[c.Name] = ComponentTelemetry{Ready: c.Ready, Healthy: c.Status == OK, Status: c.Status,
			Reason: c.Reason, SLOBreaches: c.SLOBreaches, Metrics: c.Metrics}
	}
	if len(rep.SLOs) > 0 {
		t.SLOs = make(map[string]SLOTelemetry, len(rep.SLOs))
	}
	for _, s := range rep.SLOs {
		st := SLOTelemetry{Status: s.Status, Objective: s.Objective, Good: s.Good, Bad: s.Bad}
		for i := 0; i < len(s.Windows); i += 2 { // the long windows
			if w := s.Windows[i]; i == 0 || w.BurnRate > st.BurnRate {
				st.BurnRate, st.Window = w.BurnRate, w.Window
			}
		}
		t.SLOs[s.Name] = st
	}
	return t
}
