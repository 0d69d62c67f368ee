package httpapi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/common/model"

	"grace/engine"
	"grace/engine/intent"
	"grace/engine/notify"
	"grace/engine/watchdog"
)

// MetricsSource is what GET /metrics reads beyond the operator API: the
// latency histograms. *engine.Engine implements it; without it /metrics
// serves the snapshot's figures only.
type MetricsSource interface {
	Metrics() engine.Metrics
}

// metricsHandler serves GET /metrics in the Prometheus text format: Grace's
// figures, read afresh at each scrape, plus the Go runtime's and the
// process's. It needs no token, like the probes.
func (h *Handler) metricsHandler() http.Handler {
	reg := prometheus.NewRegistry()
	err := errors.Join(
		reg.Register(collectors.NewGoCollector()),
		reg.Register(collectors.NewProcessCollector(collectors.ProcessCollectorOpts{})),
		reg.Register(&engineCollector{api: h.api, chaos: h.meter}),
		reg.Register(notify.DefaultMetrics), // grace_notifications_total: the process's webhooks
	)
	for _, c := range append(h.requests.collectors(), h.streamMetrics.collectors()...) {
		err = errors.Join(err, reg.Register(c))
	}
	if h.opts.Store != nil {
		err = errors.Join(err, reg.Register(storeCollector{read: h.opts.Store}))
	}
	if h.opts.Connections != nil {
		err = errors.Join(err, reg.Register(connCollector{l: h.opts.Connections}))
	}
	if err != nil {
		h.log.Error("metrics: register collectors", "err", err)
	}
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{
		ErrorLog:      promLogger{h.log},
		ErrorHandling: promhttp.ContinueOnError,
	})
}

// promLogger passes promhttp's errors to slog.
type promLogger struct{ log *slog.Logger }

func (l promLogger) Println(v ...any) { l.log.Error("metrics: " + fmt.Sprint(v...)) }

// The metric descriptions. Counters end in _total, durations are seconds.
var (
	descReady      = desc("grace_ready", "1 while the engine runs and every watched component is ready.")
	descQueueDepth = desc("grace_queue_depth", "Intents waiting in the HTM queue.")
	descQueueWarn  = desc("grace_queue_warn_depth", "The HTM queue's warning depth (htm.warn_depth).")
	descQueueCrit  = desc("grace_queue_critical_depth", "The HTM queue's critical depth (htm.critical_depth).")
	descIntents    = desc("grace_intents", "Intents per state: non-terminal ones as they stand, terminal ones reached since start.", "state")
	descPending    = desc("grace_pending_approvals", "Tier 0 intents waiting for an operator.")
	descWorkers    = desc("grace_workers", "Workers that are busy or idle (a dead worker is neither).", "state")
	descPoolTarget = desc("grace_worker_pool_target", "The size the supervisor keeps the worker pool at.")
	descPaused     = desc("grace_scheduler_paused", "1 while the scheduler is paused.")
	descTypeHeld   = desc("grace_type_paused_waiting", "Intents waiting behind a paused intent type, one series per paused type.", "type")
	descActorHeld  = desc("grace_actor_paused_waiting", "Intents waiting behind a paused actor, one series per paused actor.", "actor")
	descRate       = desc("grace_rate_per_second", "Dispatches and completions per second over the last 10 s.", "what")
	descDispatched = desc("grace_intents_dispatched_total", "Dispatches to a worker since start.")
	descCompleted  = desc("grace_intents_completed_total", "Intents completed since start.")
	descFailed     = desc("grace_intents_failed_total", "Intents failed for good since start.")
	descRejected   = desc("grace_intents_rejected_total", "Submissions rejected as invalid since start.")
	descRefused    = desc("grace_intake_refused_total", "Submissions refused since start, by reason.", "reason")
	descRefRecords = desc("grace_refusals_recorded_total", "Refused requests and decisions recorded one by one since start, by caller: identified (an identity, its own budget) or unauthenticated.", "caller")
	descRefSummed  = desc("grace_refusals_summarised_total", "Refusals past their budget since start, by caller: counted on the identity's next record or summary, or in a periodic summary per address for unauthenticated ones.", "caller")
	descRefSummary = desc("grace_refusal_summaries_total", "Summary records written for refusals past their budget since start, by caller: per address a minute for unauthenticated ones; for an identity, a minute after the first one left out when no record of its own has counted them.", "caller")
	descShed       = desc("grace_intents_shed_total", "Intents dropped by load shedding since start.")
	descRerouted   = desc("grace_intents_rerouted_total", "Attempts taken back from dead workers and rerouted since start.")
	descLost       = desc("grace_workers_lost_total", "Workers declared dead since start.")
	descTypeQueued = desc("grace_queue_depth_by_type", "Intents queued, by intent type (types the charter does not list count as _other).", "type")
	descTypeDone   = desc("grace_intents_finished_total", "Handler runs that completed or failed for good since start, by intent type (_other: types the charter does not list) and outcome.", "type", "state")
	descAbandoned  = desc("grace_handlers_abandoned_total", "Handlers given up on since start: told to stop, they ran on past workers.abandon_after.")
	descRunaways   = desc("grace_runaway_handlers", "Abandoned handlers still running.")
	descLatency    = desc("grace_dispatch_latency_seconds", "Time from an intent becoming ready to its dispatch.")
	descDuration   = desc("grace_task_duration_seconds", "A handler's run time.")
	descStatus     = desc("grace_component_status", "The watchdog's verdict per component: 0 ok, 1 warn, 2 critical.", "component")
	descCompReady  = desc("grace_component_ready", "1 while the component is ready.", "component")
	descBreaches   = desc("grace_slo_breaches_total", "Watchdog checks that found the component outside its service levels.", "component")
	descFiring     = desc("grace_alerts_firing", "Alerts firing, by severity.", "severity")
	descSilenced   = desc("grace_alerts_silenced", "Alerts firing that a silence mutes (their webhooks are not told), by severity.", "severity")
	descSilences   = desc("grace_alert_silences_active", "Alert silences in force.")
	descBurn       = desc("grace_slo_burn_rate", "Error-budget burn rate over each burn-rate window (1 spends the budget over the SLO period).", "slo", "window")
	descSLOEvents  = desc("grace_slo_events_total", "Events counted against each SLO since start, good or bad.", "slo", "outcome")
	descChecks     = desc("grace_watchdog_checks_total", "Watchdog checks since start.")
	// Retention (retention.records set): from the watchdog's retention
	// component, so they are as fresh as its last check.
	descRetPruned  = desc("grace_retention_pruned_entries_total", "Audit entries pruned by retention since start.")
	descRetAnchor  = desc("grace_retention_anchor_seq", "The audit entry the chain starts after (0: nothing pruned since start).")
	descRetFailing = desc("grace_retention_failed_prunes", "Prune rounds failed in a row (records are kept meanwhile).")
)

func desc(name, help string, labels ...string) *prometheus.Desc {
	return prometheus.NewDesc(name, help, labels, nil)
}

// engineCollector reads the engine at each scrape, and the chaos meter
// when the handler has a chaos service.
type engineCollector struct {
	api   engine.OperatorAPI
	chaos *chaosMeter
}

// engineDescs are the descriptions of the engine's metrics, each sent by
// Describe whether or not a series of it exists yet (a paused type's
// series appears only with the pause).
var engineDescs = []*prometheus.Desc{descReady, descQueueDepth, descQueueWarn, descQueueCrit, descIntents, descPending,
	descWorkers, descPoolTarget, descPaused, descTypeHeld, descActorHeld, descRate, descDispatched, descCompleted, descFailed,
	descRejected, descRefused, descRefRecords, descRefSummed, descRefSummary, descShed, descRerouted, descLost, descTypeQueued, descTypeDone, descAbandoned, descRunaways, descLatency, descDuration, descStatus, descCompReady,
	descBreaches, descFiring, descSilenced, descSilences, descBurn, descSLOEvents, descChecks, descRetPruned, descRetAnchor, descRetFailing,
	descRemoteConnected, descRemoteGone, descRemoteSlots, descRemoteSlotsBusy, descRemoteBeatAge}

// Describe sends the descriptions of every metric Collect can send: the
// engine's, and those a collection shows (the chaos meter's).
func (c *engineCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range engineDescs {
		ch <- d
	}
	prometheus.DescribeByCollect(c, ch)
}

// Collect sends the engine's figures. An invalid figure is sent as an
// invalid metric (the scrape goes on: ContinueOnError), never a panic.
func (c *engineCollector) Collect(ch chan<- prometheus.Metric) {
	var m engine.Metrics
	if src, ok := c.api.(MetricsSource); ok {
		m = src.Metrics()
	} else {
		m.Snapshot = c.api.Snapshot()
	}
	s, l2, health := m.Snapshot, m.Snapshot.Layer2, m.Snapshot.Health
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		send(ch, d, prometheus.GaugeValue, v, labels...)
	}
	counter := func(d *prometheus.Desc, v uint64, labels ...string) {
		send(ch, d, prometheus.CounterValue, float64(v), labels...)
	}

	gauge(descReady, b2f(s.Ready))
	gauge(descQueueDepth, float64(s.QueueDepth))
	gauge(descQueueWarn, float64(s.QueueWarn))
	gauge(descQueueCrit, float64(s.QueueCritical))
	for _, st := range intent.States {
		gauge(descIntents, float64(s.ByState[st]), string(st))
	}
	gauge(descPending, float64(s.PendingApprovals))
	gauge(descWorkers, float64(s.WorkersBusy), "busy")
	gauge(descWorkers, float64(s.WorkersIdle), "idle")
	collectRemote(gauge, s)
	gauge(descPoolTarget, float64(l2.PoolTarget))
	gauge(descPaused, b2f(l2.Paused))
	for _, t := range l2.PausedTypes {
		gauge(descTypeHeld, float64(t.Waiting), t.Type)
	}
	for _, a := range l2.PausedActors {
		gauge(descActorHeld, float64(a.Waiting), a.Actor)
	}
	gauge(descRate, s.DispatchRate, "dispatch")
	gauge(descRate, s.CompletionRate, "completion")
	counter(descDispatched, s.Dispatched)
	counter(descCompleted, s.Completed)
	counter(descFailed, s.Failed)
	counter(descRejected, s.Rejected)
	counter(descRefused, m.IntakeRefused, "queue_full")
	counter(descRefused, l2.RateLimited, "rate_limited")
	counter(descRefRecords, m.Refusals.IdentifiedRecorded, "identified")
	counter(descRefRecords, m.Refusals.UnauthenticatedRecorded, "unauthenticated")
	counter(descRefSummed, m.Refusals.IdentifiedSummarised, "identified")
	counter(descRefSummed, m.Refusals.UnauthenticatedSummarised, "unauthenticated")
	counter(descRefSummary, m.Refusals.Summaries, "unauthenticated")
	counter(descRefSummary, m.Refusals.IdentitySummaries, "identified")
	counter(descShed, l2.Shed)
	counter(descRerouted, l2.Rerouted)
	counter(descLost, l2.WorkersLost)
	for _, t := range s.ByType {
		gauge(descTypeQueued, float64(t.Queued), t.Type)
		counter(descTypeDone, t.Completed, t.Type, string(intent.StateCompleted))
		counter(descTypeDone, t.Failed, t.Type, string(intent.StateFailed))
	}
	counter(descAbandoned, l2.HandlersAbandoned)
	gauge(descRunaways, float64(len(l2.RunawayHandlers)))
	histogram(ch, descLatency, m.DispatchLatency)
	histogram(ch, descDuration, m.TaskDuration)

	for _, comp := range health.Components {
		gauge(descStatus, float64(comp.Status), comp.Name)
		gauge(descCompReady, b2f(comp.Ready), comp.Name)
		counter(descBreaches, comp.SLOBreaches, comp.Name)
		if comp.Name == engine.ComponentRetention {
			send(ch, descRetPruned, prometheus.CounterValue, comp.Metrics["retention_pruned_entries"])
			gauge(descRetAnchor, comp.Metrics["retention_anchor_seq"])
			gauge(descRetFailing, comp.Metrics["retention_failed_in_a_row"])
		}
	}
	firing, muted := map[watchdog.Status]int{}, map[watchdog.Status]int{}
	for _, a := range health.Alerts {
		firing[a.Severity]++
		if a.Silenced != nil {
			muted[a.Severity]++
		}
	}
	for _, sev := range []watchdog.Status{watchdog.Warn, watchdog.Critical} {
		gauge(descFiring, float64(firing[sev]), sev.String())
		gauge(descSilenced, float64(muted[sev]), sev.String())
	}
	if sil, ok := c.api.(engine.AlertSilencer); ok {
		if on, err := sil.Silences(context.Background(), false); err == nil {
			gauge(descSilences, float64(len(on)))
		}
	}
	for _, slo := range health.SLOs {
		seen := map[time.Duration]bool{} // a window may serve two rules (6h)
		for _, w := range slo.Windows {
			if !seen[w.Window] {
				seen[w.Window] = true
				gauge(descBurn, w.BurnRate, slo.Name, model.Duration(w.Window).String())
			}
		}
		counter(descSLOEvents, slo.Good, slo.Name, "good")
		counter(descSLOEvents, slo.Bad, slo.Name, "bad")
	}
	counter(descChecks, health.Checks)
	if c.chaos != nil {
		c.chaos.collect(ch) // grace_chaos_runs_total, grace_chaos_running
	}
}

// send sends one constant metric, or an invalid metric naming the error.
func send(ch chan<- prometheus.Metric, d *prometheus.Desc, t prometheus.ValueType, v float64, labels ...string) {
	m, err := prometheus.NewConstMetric(d, t, v, labels...)
	if err != nil {
		m = prometheus.NewInvalidMetric(d, err)
	}
	ch <- m
}

// histogram sends a latency histogram (an empty one when the engine keeps
// none).
func histogram(ch chan<- prometheus.Metric, d *prometheus.Desc, h watchdog.HistogramSnapshot) {
	buckets := make(map[float64]uint64, len(h.Bounds))
	for i, b := range h.Bounds {
		buckets[b] = h.Cumulative[i]
	}
	m, err := prometheus.NewConstHistogram(d, h.Count, h.Sum, buckets)
	if err != nil {
		m = prometheus.NewInvalidMetric(d, err)
	}
	ch <- m
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
