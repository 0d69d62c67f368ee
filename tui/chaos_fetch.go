package tui

import (
	"context"
	"fmt"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"grace/engine"
	"grace/engine/watchdog"
)

// chaosPoll is the least time between two fetches of the chaos service's
// status: the loop's schedule and the score change rarely, and a run's
// progress comes as events, so polling stays cheap.
const chaosPoll = 5 * time.Second

// historyLimit is how many stored chaos runs the Runs section asks for.
const historyLimit = 50

// chaosState is what the console knows of the chaos service, shared by
// the Chaos screen and the dashboard: the latest status, the live
// progress of the run in progress (from the chaos events) and the last
// run seen finishing. It is touched only on the Update goroutine.
type chaosState struct {
	// api is the engine's chaos service; nil when the engine has none.
	api engine.ChaosAPI
	// status is the latest status; statusAt when it arrived (zero before
	// the first one); fetching says a fetch is on its way.
	status   engine.ChaosStatus
	statusAt time.Time
	fetching bool
	err      error
	// progress is the latest event of the run in progress (nil when no
	// event has arrived for it, or the run has ended).
	progress   *engine.ChaosProgress
	progressAt time.Time
	// last is the last run seen finishing, with its results; endedID the
	// last run whose final event arrived, so that a status fetched before
	// that event does not bring the run back.
	last    *engine.ChaosRun
	endedID string
}

// available reports whether the engine has a chaos service.
func (c *chaosState) available() bool { return c.api != nil }

// live is where the run in progress stands: its latest event, else what
// the status says about it. ok is false when nothing runs.
func (c *chaosState) live() (p engine.ChaosProgress, runID string, ok bool) {
	if c.progress != nil {
		return *c.progress, c.progress.RunID, true
	}
	if r := c.status.Running; r != nil && r.State == engine.ChaosRunning {
		if r.Progress != nil {
			return *r.Progress, r.RunID, true
		}
		return engine.ChaosProgress{RunID: r.RunID, Total: len(r.Requested)}, r.RunID, true
	}
	return engine.ChaosProgress{}, "", false
}

// noteProgress takes a chaos event that arrived at now. It reports whether
// the event ended a run (its State is set), in which case the caller
// fetches the run.
func (c *chaosState) noteProgress(p engine.ChaosProgress, now time.Time) bool {
	c.progressAt = now
	if p.State != "" && p.State != engine.ChaosRunning {
		c.progress, c.endedID = nil, p.RunID
		if r := c.status.Running; r != nil && r.RunID == p.RunID {
			c.status.Running = nil
		}
		return true
	}
	c.progress = &p
	return false
}

// needsPoll reports whether the status is due a fetch at now.
func (c *chaosState) needsPoll(now time.Time, refresh time.Duration) bool {
	if c.api == nil || c.fetching {
		return false
	}
	return c.statusAt.IsZero() || now.Sub(c.statusAt) >= max(chaosPoll, refresh)
}

// fetch starts a status fetch unless one is on its way.
func (c *chaosState) fetch(pc *programContext) tea.Cmd {
	if c.api == nil || c.fetching {
		return nil
	}
	c.fetching = true
	return chaosStatusCmd(pc.ctx, c.api, pc.now)
}

// chaosStatusMsg carries the chaos service's status.
type chaosStatusMsg struct {
	status engine.ChaosStatus
	at     time.Time
	err    error
}

// chaosScenariosMsg carries the scenario library with its standing.
type chaosScenariosMsg struct {
	items []engine.ChaosScenario
	err   error
}

// chaosHistoryMsg carries the stored runs, newest first.
type chaosHistoryMsg struct {
	runs []engine.ChaosRun
	err  error
}

// chaosStartedMsg is the answer to a run the operator asked for; what
// names it for the status line.
type chaosStartedMsg struct {
	run  engine.ChaosRun
	what string
	err  error
}

// chaosRunMsg carries one run, fetched when it ended.
type chaosRunMsg struct {
	run engine.ChaosRun
	err error
}

// chaosHaltedMsg is the answer to a halt.
type chaosHaltedMsg struct {
	res engine.ChaosHaltResult
	err error
}

// alertHistoryMsg carries the watchdog's alert history, newest first.
type alertHistoryMsg struct {
	alerts []watchdog.Alert
	at     time.Time
	err    error
}

// chaosStatusCmd fetches the chaos service's status.
func chaosStatusCmd(ctx context.Context, api engine.ChaosAPI, now func() time.Time) tea.Cmd {
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(ctx, requestTimeout)
		defer cancel()
		s, err := api.ChaosStatus(ctx)
		if err != nil {
			err = fmt.Errorf("chaos status: %w", err)
		}
		return chaosStatusMsg{status: s, at: now(), err: err}
	}
}

// chaosScenariosCmd fetches the scenario library.
func chaosScenariosCmd(ctx context.Context, api engine.ChaosAPI) tea.Cmd {
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(ctx, requestTimeout)
		defer cancel()
		items, err := api.ChaosScenarios(ctx)
		if err != nil {
			err = fmt.Errorf("list chaos scenarios: %w", err)
		}
		return chaosScenariosMsg{items: items, err: err}
	}
}

// chaosHistoryCmd fetches the stored runs.
func chaosHistoryCmd(ctx context.Context, api engine.ChaosAPI) tea.Cmd {
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(ctx, requestTimeout)
		defer cancel()
		runs, err := api.ChaosHistory(ctx, historyLimit)
		if err != nil {
			err = fmt.Errorf("chaos history: %w", err)
		}
		return chaosHistoryMsg{runs: runs, err: err}
	}
}

// startChaosCmd starts the run req asks for.
func startChaosCmd(ctx context.Context, api engine.ChaosAPI, req engine.ChaosRequest, what string) tea.Cmd {
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(ctx, requestTimeout)
		defer cancel()
		run, err := api.StartChaos(ctx, req)
		return chaosStartedMsg{run: run, what: what, err: err}
	}
}

// chaosRunCmd fetches run id.
func chaosRunCmd(ctx context.Context, api engine.ChaosAPI, id string) tea.Cmd {
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(ctx, requestTimeout)
		defer cancel()
		run, err := api.ChaosRun(ctx, id)
		if err != nil {
			err = fmt.Errorf("chaos run %s: %w", id, err)
		}
		return chaosRunMsg{run: run, err: err}
	}
}

// haltChaosCmd halts every chaos run as operator.
func haltChaosCmd(ctx context.Context, api engine.ChaosAPI, operator string) tea.Cmd {
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(ctx, requestTimeout)
		defer cancel()
		res, err := api.HaltChaos(ctx, operator, "halted from the console")
		return chaosHaltedMsg{res: res, err: err}
	}
}

// alertHistory is the part of the watchdog's API the Alerts screen
// reads: the engine's (engine.HealthAPI), or an attached server's
// (httpapi.Remote, GET /v1/alerts).
type alertHistory interface {
	Alerts(ctx context.Context, firing bool) ([]watchdog.Alert, error)
}

// alertHistoryCmd fetches the watchdog's alert history.
func alertHistoryCmd(ctx context.Context, api alertHistory, now func() time.Time) tea.Cmd {
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(ctx, requestTimeout)
		defer cancel()
		als, err := api.Alerts(ctx, false)
		if err != nil {
			err = fmt.Errorf("alert history: %w", err)
		}
		return alertHistoryMsg{alerts: als, at: now(), err: err}
	}
}
