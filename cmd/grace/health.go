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
)

// healthTimeout bounds each question to a server.
const healthTimeout = 5 * time.Second

// healthCommand is "grace health".
func (a *app) healthCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "health",
		Short: "Is Grace ready? Asks a running server, else checks the database",
		Long: `Ask a running server (api.server, or --server) for its readiness and live
figures. When no server answers, check the database directly: it opens,
its schema is current, the full-text index lag, and the audit chain.
Exits non-zero when not ready.`,
		Args: cobra.NoArgs,
		RunE: a.runHealth,
	}
	cmd.Flags().StringVar(&a.server, "server", "", "URL of a running grace serve (default: config api.server)")
	a.addJSONFlag(cmd)
	return cmd
}

// healthReport is health's JSON document.
type healthReport struct {
	Mode   string            `json:"mode"` // "server" or "embedded"
	Ready  bool              `json:"ready"`
	Server string            `json:"server,omitempty"`
	Checks map[string]string `json:"checks,omitempty"`
	// Snapshot is the server's live figures (server mode, when the token is accepted).
	Snapshot *engine.Snapshot `json:"snapshot,omitempty"`
	// Embedded mode: the database and what was found in it.
	DB       string       `json:"db,omitempty"`
	Schema   string       `json:"schema,omitempty"`
	IndexLag *int64       `json:"index_lag,omitempty"`
	Audit    *auditReport `json:"audit,omitempty"`
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
	if a.json {
		if err := a.writeJSON(rep); err != nil {
			return err
		}
	} else {
		a.printHealth(rep)
	}
	if !rep.Ready {
		return errors.New("not ready: " + notReadyReason(rep))
	}
	return nil
}

// serverHealth asks the server; false without error means nobody answered.
func (a *app) serverHealth(ctx context.Context, cfg engine.Config, url string, rep *healthReport) (bool, error) {
	c := httpapi.NewClient(url, clientToken(cfg), &http.Client{Timeout: healthTimeout})
	rr, err := c.Ready(ctx)
	if errors.Is(err, syscall.ECONNREFUSED) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("ask %s for readiness: %w", url, err)
	}
	*rep = healthReport{Mode: "server", Server: url, Ready: rr.Ready, Checks: rr.Checks}
	if rep.Checks == nil {
		rep.Checks = map[string]string{}
	}
	snap, err := c.Snapshot(ctx)
	if err != nil {
		rep.Checks["telemetry"] = "unavailable: " + oneLine(err.Error())
	} else {
		rep.Snapshot = &snap
	}
	return true, nil
}

// embeddedHealth checks the database without an engine: it opens (schema
// current), the index lag, and the audit chain.
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
	*rep = healthReport{Mode: "embedded", DB: cfg.DB, Schema: "ok", IndexLag: &lag, Ready: v.OK,
		Audit: &auditReport{OK: v.OK, Entries: v.Entries, HeadSeq: v.HeadSeq, HeadHash: v.HeadHash, FirstBroken: v.FirstBroken, Problem: v.Problem}}
	return nil
}

func (a *app) printHealth(rep healthReport) {
	state := "ready"
	if !rep.Ready {
		state = "NOT READY ✗"
	}
	var rows [][]string
	if rep.Mode == "server" {
		rows = append(rows, []string{"server", rep.Server + " (" + state + ")"})
		keys := make([]string, 0, len(rep.Checks))
		for k := range rep.Checks {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			rows = append(rows, []string{k, rep.Checks[k]})
		}
		if s := rep.Snapshot; s != nil {
			rows = append(rows,
				[]string{"queue", fmt.Sprintf("%d (warn %d, critical %d)", s.QueueDepth, s.QueueWarn, s.QueueCritical)},
				[]string{"workers", fmt.Sprintf("%d busy, %d idle", s.WorkersBusy, s.WorkersIdle)},
				[]string{"pending", fmt.Sprintf("%d approvals", s.PendingApprovals)},
				[]string{"dispatch", fmt.Sprintf("%.1f/s (completed %d, failed %d)", s.DispatchRate, s.Completed, s.Failed)},
			)
		}
	} else {
		rows = append(rows, []string{"database", rep.DB + " (" + state + ")"}, []string{"schema", rep.Schema})
		if rep.IndexLag != nil {
			rows = append(rows, []string{"index lag", fmt.Sprintf("%d records", *rep.IndexLag)})
		}
		if au := rep.Audit; au != nil {
			if au.OK {
				rows = append(rows, []string{"audit", fmt.Sprintf("intact, %d entries, head #%d %s", au.Entries, au.HeadSeq, au.HeadHash)})
			} else {
				rows = append(rows, []string{"audit", fmt.Sprintf("BROKEN ✗ at entry #%d: %s", au.FirstBroken, au.Problem)})
			}
		}
	}
	a.table(rows)
}

func notReadyReason(rep healthReport) string {
	if rep.Audit != nil && !rep.Audit.OK {
		return fmt.Sprintf("audit chain broken at entry #%d", rep.Audit.FirstBroken)
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
