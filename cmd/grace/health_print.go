package main

import (
	"fmt"
	"sort"
	"time"

	"grace/engine"
	"grace/engine/watchdog"
)

// printHealth writes the report as a table: where it comes from and
// whether it is ready, then boot readiness, each component with a symbol
// (✓ ok, ▲ warn, ✗ critical), the SLOs, the alerts firing, and the live
// figures or the database's state.
func (a *app) printHealth(rep healthReport) {
	state := "ready"
	if !rep.Ready {
		state = "NOT READY ✗"
	}
	var rows [][]string
	if rep.Mode == "server" {
		rows = append(rows, []string{"server", rep.Server + " (" + state + ", " + rep.Status + ")"})
		if r := rep.Readiness; r != nil {
			rows = append(rows, []string{"readiness", describeReadiness(*r)})
		}
	} else {
		rows = append(rows, []string{"database", rep.DB + " (" + state + ")"}, []string{"schema", rep.Schema})
	}
	for _, c := range rep.Components {
		line := c.Status.Symbol() + " " + c.Status.String() + "  " + c.Reason
		if !c.Ready {
			line += " [not ready: " + c.NotReadyReason + "]"
		}
		if c.SLOBreaches > 0 {
			line += fmt.Sprintf(" [%d SLO breaches]", c.SLOBreaches)
		}
		rows = append(rows, []string{c.Name, line})
	}
	for _, s := range rep.SLOs {
		rows = append(rows, []string{"slo " + s.Name, s.Status.Symbol() + " " + s.Status.String() + "  " + s.Reason})
	}
	alerts := fmt.Sprintf("%d firing", len(rep.Alerts))
	if rep.Mode == "embedded" && len(rep.Alerts) > 0 {
		alerts += " when the last engine stopped"
	}
	rows = append(rows, []string{"alerts", alerts})
	for _, al := range rep.Alerts {
		line := fmt.Sprintf("%s since %s, seen %d×: %s", al.Severity, al.FirstSeen.Local().Format(time.DateTime), al.Count, al.Summary)
		if al.Silenced != nil {
			line += "; silenced " + silencedCell(al.Silenced)
		}
		rows = append(rows, []string{"  " + al.Severity.Symbol() + " " + al.Key, line})
	}
	if rep.Mode == "server" {
		rows = append(rows, a.serverRows(rep)...)
	} else {
		rows = append(rows, embeddedRows(rep)...)
	}
	a.table(rows)
}

// serverRows are the server's readiness checks and live figures.
func (a *app) serverRows(rep healthReport) [][]string {
	var rows [][]string
	keys := make([]string, 0, len(rep.Checks))
	for k := range rep.Checks {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if _, component := componentNamed(rep, k); !component {
			rows = append(rows, []string{k, rep.Checks[k]})
		}
	}
	if s := rep.Snapshot; s != nil {
		slots := ""
		if s.Remote != nil {
			slots = " (the control plane's dispatch slots)"
		}
		rows = append(rows,
			[]string{"queue", fmt.Sprintf("%d%s (warn %d, critical %d)", s.QueueDepth, notYetDue(s.QueueDelayed), s.QueueWarn, s.QueueCritical)},
			[]string{"workers", fmt.Sprintf("%d busy, %d idle%s", s.WorkersBusy, s.WorkersIdle, slots)},
		)
		rows = append(rows, remoteRows(rep.RemoteWorkers)...)
		rows = append(rows,
			[]string{"pending", fmt.Sprintf("%d approvals", s.PendingApprovals)},
			[]string{"dispatch", fmt.Sprintf("%.1f/s (completed %d, failed %d)", s.DispatchRate, s.Completed, s.Failed)},
		)
		// Live, as the operator left it: the scheduler check above may be
		// up to a watchdog interval old.
		if p := s.Layer2.Pause; s.Layer2.Paused && p != nil {
			rows = append(rows, []string{"paused", fmt.Sprintf("by %s since %s (%s ago): %s; grace scheduler resume dispatches again",
				p.By, stamp(p.Since), time.Since(p.Since).Round(time.Second), oneLine(p.Reason))})
		}
		for _, t := range s.Layer2.PausedTypes {
			rows = append(rows, []string{"paused type", fmt.Sprintf("%s by %s since %s (%s ago): %s; %d waiting; grace scheduler resume --type %s dispatches it again",
				t.Type, t.By, stamp(t.Since), time.Since(t.Since).Round(time.Second), oneLine(t.Reason), t.Waiting, t.Type)})
		}
		for _, p := range s.Layer2.PausedActors {
			rows = append(rows, []string{"paused actor", fmt.Sprintf("%s by %s since %s (%s ago): %s; %d waiting; grace scheduler resume --actor %s dispatches its intents again",
				p.Actor, p.By, stamp(p.Since), time.Since(p.Since).Round(time.Second), oneLine(p.Reason), p.Waiting, p.Actor)})
		}
		rows = append(rows, runawayRows(s.Layer2.RunawayHandlers)...)
	}
	return rows
}

// runawayRows name the abandoned handlers still running, the longest
// abandoned first, five at most.
func runawayRows(rs []engine.RunawayHandler) [][]string {
	const most = 5
	var rows [][]string
	for i, h := range rs {
		if i == most {
			rows = append(rows, []string{"runaway handler", fmt.Sprintf("%d more (grace intent get ID tells each)", len(rs)-most)})
			break
		}
		rows = append(rows, []string{"runaway handler", fmt.Sprintf("%s %s (attempt %d on %s) abandoned %s ago: told to stop when %s, it runs on, out of any worker's hands",
			h.Type, h.IntentID, h.Attempt, h.Where(), time.Since(h.AbandonedAt).Round(time.Second), h.Cause)})
	}
	return rows
}

// notYetDue says how many queued intents wait for their time (scheduled,
// or a retry's backoff), or nothing when none does.
func notYetDue(n int) string {
	if n == 0 {
		return ""
	}
	return fmt.Sprintf(", %d not yet due", n)
}

// embeddedRows are what the database showed.
func embeddedRows(rep healthReport) [][]string {
	var rows [][]string
	if rep.IndexLag != nil {
		rows = append(rows, []string{"index lag", fmt.Sprintf("%d records", *rep.IndexLag)})
	}
	if au := rep.Audit; au != nil {
		if au.OK {
			rows = append(rows, []string{"audit", fmt.Sprintf("intact, %d entries, head #%d %s", au.Entries, au.HeadSeq, au.HeadHash)})
		} else if au.FirstBroken == 0 {
			rows = append(rows, []string{"audit", "NOT VERIFIED ✗: " + au.Problem})
		} else {
			rows = append(rows, []string{"audit", fmt.Sprintf("BROKEN ✗ at entry #%d: %s", au.FirstBroken, au.Problem)})
		}
	}
	if t := rep.LastTelemetry; t != nil {
		rows = append(rows, []string{"last telemetry", fmt.Sprintf("%s at %s", t.Status, t.At.Local().Format(time.DateTime))})
	}
	return rows
}

// componentNamed reports whether a readiness check is a component's (shown
// with the component already).
func componentNamed(rep healthReport, name string) (watchdog.ComponentReport, bool) {
	for _, c := range rep.Components {
		if c.Name == name {
			return c, true
		}
	}
	return watchdog.ComponentReport{}, false
}

// describeReadiness words how boot went.
func describeReadiness(r watchdog.Readiness) string {
	switch r.State {
	case watchdog.ReadinessReady:
		return fmt.Sprintf("✓ all components ready %s after boot", r.At.Sub(r.Started).Round(time.Millisecond))
	case watchdog.ReadinessTimedOut:
		s := "✗ timed out at " + r.At.Local().Format(time.DateTime) + ": not ready:"
		for _, n := range r.NotReady {
			s += " " + n.Component + " (" + n.Reason + ")"
		}
		return s
	}
	s := "waiting until " + r.Deadline.Local().Format(time.DateTime)
	for _, n := range r.NotReady {
		s += "; " + n.Component + " not ready (" + n.Reason + ")"
	}
	return s
}
