package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"grace/engine"
	"grace/engine/httpapi"
	"grace/engine/intent"
	"grace/engine/watchdog"
	"grace/store"
)

// healthTimeout bounds each question to a server.
const healthTimeout = 5 * time.Second

// healthCommand is "grace health".
func (a *app) healthCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "health",
		Short: "Is Grace ready and healthy? Asks a running server, else checks the database",
		Long: `Ask a running server (api.server, or --server) for its readiness, the
watchdog's verdict on each Layer 2 component (HTM orchestrator, trigger mesh,
event policy engine, scheduler), the SLOs and the alerts firing.

When no server answers, make a one-shot check of the database: it opens, its
schema is current, the full-text index lag, the audit chain, the HTM queue
depth found there against htm.warn_depth and htm.critical_depth, and the
alerts and telemetry the last running engine recorded.

Exits non-zero when not ready or when a component is critical: with no
server answering nothing runs intents, so the database check exits 1 too
(after a crash a probe fails), and a token the server refuses is an error.`,
		Args: cobra.NoArgs,
		RunE: a.runHealth,
	}
	cmd.Flags().StringVar(&a.server, "server", "", "URL of a running grace serve (default: config api.server)")
	a.addJSONFlag(cmd)
	return cmd
}

// healthReport is health's JSON document.
type healthReport struct {
	Mode  string `json:"mode"` // "server" or "embedded"
	Ready bool   `json:"ready"`
	// Status is the worst component status: ok, warn or critical
	// ("unknown" when the server's verdict could not be read).
	Status string            `json:"status"`
	Server string            `json:"server,omitempty"`
	Checks map[string]string `json:"checks,omitempty"`
	// Readiness is how the server's boot went.
	Readiness *watchdog.Readiness `json:"readiness,omitempty"`
	// Components are the watchdog's verdicts (embedded mode: the HTM
	// queue depth found in the database only).
	Components []watchdog.ComponentReport `json:"components,omitempty"`
	SLOs       []watchdog.SLOStatus       `json:"slos,omitempty"`
	// Alerts are those firing (embedded mode: as the last running engine
	// recorded them).
	Alerts []watchdog.Alert `json:"alerts"`
	// Snapshot is the server's live figures (server mode, when the token is accepted).
	Snapshot *engine.Snapshot `json:"snapshot,omitempty"`
	// RemoteWorkers are the remote workers, live from the snapshot, when
	// the server runs its tasks on them (backend.kind nats).
	RemoteWorkers *remoteWorkersReport `json:"remote_workers,omitempty"`
	// Embedded mode: the database and what was found in it.
	DB       string       `json:"db,omitempty"`
	Schema   string       `json:"schema,omitempty"`
	IndexLag *int64       `json:"index_lag,omitempty"`
	Audit    *auditReport `json:"audit,omitempty"`
	// LastTelemetry is the newest telemetry snapshot stored (embedded).
	LastTelemetry *watchdog.Telemetry `json:"last_telemetry,omitempty"`
}

func (a *app) runHealth(cmd *cobra.Command, _ []string) error {
	cfg, err := a.config(cmd)
	if err != nil {
		return err
	}
	var rep healthReport
	url := a.serverURL(cfg)
	served := false
	if url != "" {
		served, err = a.serverHealth(cmd.Context(), cfg, url, &rep)
		if err != nil {
			return err
		}
	}
	if !served {
		if err := a.embeddedHealth(cmd.Context(), cfg, &rep); err != nil {
			return err
		}
		where := "no server at " + url
		if url == "" {
			where = "no server configured (api.server)"
		}
		fmt.Fprintf(a.stderr, "grace: %s; checked the database directly\n", where)
	}
	if rep.Alerts == nil {
		rep.Alerts = []watchdog.Alert{}
	}
	if a.json {
		if err := a.writeJSON(rep); err != nil {
			return err
		}
	} else {
		a.printHealth(rep)
	}
	switch {
	case rep.Status == watchdog.Critical.String():
		return errors.New("critical: " + criticalReason(rep))
	case !rep.Ready:
		return errors.New("not ready: " + notReadyReason(rep))
	case rep.Mode == "server" && rep.Snapshot == nil:
		return errors.New("health unknown: the server's figures are unavailable (" + rep.Checks["telemetry"] + ")")
	}
	return nil
}

// serverHealth asks the server; false without error means nobody answered.
func (a *app) serverHealth(ctx context.Context, cfg engine.Config, url string, rep *healthReport) (bool, error) {
	tok, err := clientToken(cfg)
	if err != nil {
		return false, err
	}
	c := httpapi.NewClient(url, tok, &http.Client{Timeout: healthTimeout})
	rr, err := c.Ready(ctx)
	if errors.Is(err, syscall.ECONNREFUSED) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("ask %s for readiness: %w", url, err)
	}
	*rep = healthReport{Mode: "server", Server: url, Ready: rr.Ready, Checks: rr.Checks, Status: "unknown"}
	if rep.Checks == nil {
		rep.Checks = map[string]string{}
	}
	snap, err := c.Snapshot(ctx)
	if refused := a.tokenRefused(url, err); refused != nil {
		// Readiness needs no token, the figures do: without them nothing
		// here may say healthy.
		return false, fmt.Errorf("%w; its health is unknown (it says ready: %t)", refused, rr.Ready)
	}
	var he *httpapi.Error
	if errors.As(err, &he) && he.Status == http.StatusUnauthorized {
		return false, fmt.Errorf("server at %s refused the API token: %w; its health is unknown (it says ready: %t)", url, err, rr.Ready)
	}
	if err != nil {
		rep.Checks["telemetry"] = "unavailable: " + oneLine(err.Error())
		return true, nil
	}
	rep.Snapshot = &snap
	rep.RemoteWorkers = remoteWorkersOf(snap)
	h := snap.Health
	rep.Status, rep.Readiness, rep.Components, rep.SLOs, rep.Alerts = h.Status.String(), &h.Readiness, h.Components, h.SLOs, h.Alerts
	return true, nil
}

// embeddedHealth checks the database without an engine: it opens (schema
// current), the index lag, the audit chain, the HTM queue depth it holds,
// and what the last running engine's watchdog recorded.
func (a *app) embeddedHealth(ctx context.Context, cfg engine.Config, rep *healthReport) error {
	st, err := openStore(ctx, cfg, true, newLogger(a.stderr, cfg.Log.Level, slog.LevelWarn))
	if err != nil {
		return err
	}
	defer st.Close()
	lag := st.IndexLag()
	v, err := st.VerifyAudit(ctx)
	if err != nil {
		return fmt.Errorf("verify audit chain: %w", err)
	}
	// No engine answers: nothing runs intents, so Grace is not ready,
	// whatever the database says; the database's own checks follow.
	*rep = healthReport{Mode: "embedded", DB: cfg.DB, Schema: "ok", IndexLag: &lag, Ready: false,
		Audit: &auditReport{OK: v.OK, Entries: v.Entries, HeadSeq: v.HeadSeq, HeadHash: v.HeadHash, FirstBroken: v.FirstBroken, Problem: v.Problem}}
	htm, err := storedQueue(ctx, cfg, st)
	if err != nil {
		return err
	}
	rep.Components, rep.Status = []watchdog.ComponentReport{htm}, htm.Status.String()
	if rep.Alerts, err = st.Alerts(ctx, watchdog.AlertQuery{Firing: true}); err != nil {
		return err
	}
	last, err := st.Telemetry(ctx, watchdog.TelemetryQuery{Limit: 1})
	if err != nil {
		return err
	}
	if len(last) > 0 {
		rep.LastTelemetry = &last[0]
	}
	return nil
}

// storedQueue grades the queued intents in the database against the HTM
// thresholds, with the watchdog's own check (its depth finding only: no
// engine runs, so workers and intake are not judged).
func storedQueue(ctx context.Context, cfg engine.Config, st *store.Store) (watchdog.ComponentReport, error) {
	counts, err := st.CountByState(ctx)
	if err != nil {
		return watchdog.ComponentReport{}, err
	}
	n := counts[intent.StateQueued]
	check := watchdog.HTMCheck(cfg.Watchdog.HTM, func() watchdog.HTMFigures {
		return watchdog.HTMFigures{QueueDepth: n, Capacity: cfg.HTM.Capacity, Warn: cfg.HTM.WarnDepth, Critical: cfg.HTM.CriticalDepth}
	})
	res := check.Check(time.Now())
	c := watchdog.ComponentReport{Name: check.Name, Ready: false, NotReadyReason: "no engine is running",
		Metrics: map[string]float64{"queue_depth": float64(n)}}
	for _, f := range res.Findings {
		if f.Condition == "queue_depth" {
			c.Findings, c.Status, c.Reason = []watchdog.Finding{f}, f.Status, f.Reason+" (in the database)"
		}
	}
	return c, nil
}

// addComponentChecks adds each watched component's readiness to the
// /readyz checks: "ok", or "not ready: <reason>".
func addComponentChecks(checks map[string]string, h engine.HealthReport) {
	for _, c := range h.Components {
		if c.Ready {
			checks[c.Name] = "ok"
		} else {
			checks[c.Name] = "not ready: " + c.NotReadyReason
		}
	}
}

func notReadyReason(rep healthReport) string {
	if rep.Audit != nil && !rep.Audit.OK {
		if rep.Audit.FirstBroken == 0 {
			return auditBroken(0, rep.Audit.Problem)
		}
		return fmt.Sprintf("audit chain broken at entry #%d", rep.Audit.FirstBroken)
	}
	if rep.Mode == "embedded" {
		return "no engine is running (start grace serve, or the console); the database checks above are what the last one left"
	}
	var bad []string
	for k, v := range rep.Checks {
		if v != "ok" && k != "index_lag" && k != "telemetry" {
			bad = append(bad, k+" "+v)
		}
	}
	sort.Strings(bad)
	if len(bad) == 0 {
		return "the server says so"
	}
	return strings.Join(bad, ", ")
}

// criticalReason names the critical components and why.
func criticalReason(rep healthReport) string {
	var bad []string
	for _, c := range rep.Components {
		if c.Status == watchdog.Critical {
			bad = append(bad, c.Name+" ("+c.Reason+")")
		}
	}
	return strings.Join(bad, ", ")
}
